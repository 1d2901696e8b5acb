//! Hidden `gen-docs`: writes the man pages (`man/`) and shell completions (`completions/`) from
//! the clap definition, so they never drift from the real flags (a test checks the checked-in
//! copies are current).

use crate::cli::{Cli, GenDocsArgs};
use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

pub fn run(a: GenDocsArgs) -> Result<()> {
    let cmd = Cli::command();
    std::fs::create_dir_all(&a.man_dir).with_context(|| format!("creating {}", a.man_dir.display()))?;
    clap_mangen::generate_to(cmd.clone(), &a.man_dir)
        .with_context(|| format!("writing man pages to {}", a.man_dir.display()))?;
    std::fs::create_dir_all(&a.completions_dir).with_context(|| format!("creating {}", a.completions_dir.display()))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd.clone(), "warp-offload", &a.completions_dir)
            .with_context(|| format!("writing {shell} completions to {}", a.completions_dir.display()))?;
    }
    Ok(())
}
