//! Hidden `gen-docs`: writes the man pages (`man/`) and shell completions (`completions/`) from
//! the clap definition, so they never drift from the real flags (a test checks the checked-in
//! copies are current).

use super::Cli;
use anyhow::{Context, Result};
use clap::Args;
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::PathBuf;

/// Write man pages and shell completions generated from these definitions
#[derive(Args, Debug)]
pub struct GenDocsArgs {
    #[arg(long, default_value = "man")]
    pub man_dir: PathBuf,
    #[arg(long, default_value = "completions")]
    pub completions_dir: PathBuf,
}

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
