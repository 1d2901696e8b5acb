//! One module per subcommand: its arguments' handling and `run()`. The work itself is in the
//! domain modules, the per-segment stages in `stage`.

pub mod all;
pub mod bench_codec;
pub mod cat;
pub mod compress;
pub mod fake_warp10;
pub mod fetch;
pub mod gen_docs;
pub mod help;
pub mod ls;
pub mod notify;
pub mod plan;
pub mod purge;
pub mod query;
pub mod restore;
pub mod serve;
pub mod upload;
pub mod verify;

use crate::cli::{AFTER_HELP, GlobalOpts};
use crate::exit::Tally;
use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "warp-offload",
    version,
    about = "Move old Warp 10 data to object storage, prove the copy, purge the source, restore it",
    long_about = None,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Plan(plan::PlanArgs),
    Fetch(fetch::FetchArgs),
    Compress(compress::CompressArgs),
    Verify(verify::VerifyArgs),
    Cat(cat::CatArgs),
    Notify(notify::NotifyArgs),
    Upload(upload::UploadArgs),
    Purge(purge::PurgeArgs),
    All(Box<all::AllArgs>),
    Ls(ls::LsArgs),
    Query(query::QueryArgs),
    Serve(serve::ServeArgs),
    Restore(restore::RestoreArgs),
    FakeWarp10(fake_warp10::FakeWarp10Args),
    #[command(hide = true)]
    GenDocs(gen_docs::GenDocsArgs),
    #[command(hide = true)]
    BenchCodec(bench_codec::BenchCodecArgs),
}

/// Dispatches a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let g = cli.global;
    let tally = match cli.command {
        Command::Plan(a) => plan::run(&g, a)?,
        Command::Fetch(a) => fetch::run(&g, a)?,
        Command::Compress(a) => compress::run(&g, a)?,
        Command::Verify(a) => verify::run(&g, a)?,
        Command::Cat(a) => {
            cat::run(a)?;
            Tally::default()
        }
        Command::BenchCodec(a) => {
            bench_codec::run(a)?;
            Tally::default()
        }
        Command::Notify(a) => notify::run(&g, a)?,
        Command::Upload(a) => upload::run(&g, a)?,
        Command::Purge(a) => purge::run(&g, a)?,
        Command::All(a) => all::run(&g, *a)?,
        Command::Ls(a) => ls::run(a)?,
        Command::Query(a) => {
            query::run(a)?;
            Tally::default()
        }
        Command::Serve(a) => {
            serve::run(a)?;
            Tally::default()
        }
        Command::Restore(a) => restore::run(&g, a)?,
        Command::FakeWarp10(a) => fake_warp10::run(a)?,
        Command::GenDocs(a) => {
            gen_docs::run(a)?;
            Tally::default()
        }
    };
    Ok(tally.code())
}

/// Writes command output to stdout; false when the reader went away (`... | head`), which is
/// not an error.
pub fn write_stdout(out: &mut impl std::io::Write, buf: &[u8]) -> Result<bool> {
    use anyhow::Context;
    match out.write_all(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("writing to stdout"),
    }
}
