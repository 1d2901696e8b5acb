//! Hidden `gen-docs`: writes the man pages (`man/`) and shell completions (`completions/`) from
//! the clap definition, so they never drift from the real flags (a test checks the checked-in
//! copies are current).
//!
//! The pages are clap_mangen's, but for the after-help text, laid out as `help` reads it: its
//! prose closes the DESCRIPTION, and each preformatted section (EXAMPLES, FAULTS, ...) is a
//! section of its own in no-fill mode without hyphenation, so that no example is ever joined,
//! justified or broken.

use super::Cli;
use super::help::{self, Section};
use anyhow::{Context, Result};
use clap::{Args, Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let mut man = cmd.clone().disable_help_subcommand(true);
    man.build();
    write_pages(&man, &a.man_dir)?;
    std::fs::create_dir_all(&a.completions_dir).with_context(|| format!("creating {}", a.completions_dir.display()))?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd.clone(), "warp-offload", &a.completions_dir)
            .with_context(|| format!("writing {shell} completions to {}", a.completions_dir.display()))?;
    }
    Ok(())
}

/// A page for `cmd` and for each of its visible subcommands, named as clap_mangen names them.
fn write_pages(cmd: &Command, dir: &Path) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    std::fs::write(&path, page(cmd, &man)?).with_context(|| format!("writing {}", path.display()))
}

/// clap_mangen's sections in its order, the after-help as described in the module comment.
fn page(cmd: &Command, man: &Man) -> Result<Vec<u8>> {
    let after = help::split(&cmd.get_after_help().map(|t| t.to_string()).unwrap_or_default());
    // Each clap_mangen piece starts with the same preamble (a string definition): keep the first.
    let preamble = Roff::new().render();
    let mut out = Vec::new();
    let mut piece = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> Result<()> {
        let mut buf = Vec::new();
        render(&mut buf).context("rendering a man page")?;
        let body = if out.is_empty() {
            &buf[..]
        } else {
            buf.strip_prefix(preamble.as_bytes()).unwrap_or(&buf)
        };
        out.write_all(body).context("rendering a man page")
    };
    piece(&|w| man.render_title(w))?;
    piece(&|w| man.render_name_section(w))?;
    piece(&|w| man.render_synopsis_section(w))?;
    piece(&|w| man.render_description_section(w))?;
    piece(&|w| prose(&after.prose).to_writer(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        piece(&|w| man.render_options_section(w))?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        piece(&|w| man.render_subcommands_section(w))?;
    }
    piece(&|w| sections(&after.sections).to_writer(w))?;
    if cmd.get_version().is_some() {
        piece(&|w| man.render_version_section(w))?;
    }
    Ok(out)
}

/// Paragraphs, filled; their indented lines (lists) kept as lines.
fn prose(text: &str) -> Roff {
    let mut roff = Roff::new();
    for paragraph in text.split("\n\n").filter(|p| !p.is_empty()) {
        roff.control("PP", []);
        let lines: Vec<&str> = paragraph.lines().collect();
        for run in lines.chunk_by(|a, b| a.starts_with(' ') == b.starts_with(' ')) {
            if run[0].starts_with(' ') {
                no_fill(&mut roff, run);
            } else {
                for line in run {
                    roff.text([roman(*line)]);
                }
            }
        }
    }
    roff
}

/// Each section under its own heading, exactly as written (less the indentation they share).
fn sections(sections: &[Section]) -> Roff {
    let mut roff = Roff::new();
    for s in sections {
        roff.control("SH", [s.title.to_uppercase().as_str()]);
        // Only the version, one word, follows: hyphenation need not be turned back on.
        roff.control("nh", []);
        let lines: Vec<&str> = s.lines.iter().map(String::as_str).collect();
        no_fill(&mut roff, &lines);
    }
    roff
}

/// Lines kept as they are: no filling, no justification, no breaking.
fn no_fill(roff: &mut Roff, lines: &[&str]) {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    roff.control("nf", []);
    for line in lines {
        roff.text([roman(line.get(indent..).unwrap_or_default())]);
    }
    roff.control("fi", []);
}
