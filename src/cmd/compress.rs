//! `compress`: argument handling; the stage is `stage::compress`.

use crate::archive::crypt::MasterKey;
use crate::cli::GlobalOpts;
use crate::exit::Tally;
use crate::stage::compress::{Compress, Options};
use crate::workdir::WorkDir;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Encode each fetched segment into an archive, decode it again and check it against the fetch
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch | warp-offload compress --jobs 2 | warp-offload verify
  # encrypted, plain Warp 10 text that zstd -d can read back
  warp-offload compress --codec gts.zst --key-file /etc/warp-offload/archive.key < fetched.ndjson")]
pub struct CompressArgs {
    /// Archive format
    #[arg(long, value_enum, default_value_t = crate::archive::Codec::Columnar)]
    pub codec: crate::archive::Codec,
    /// zstd level (1-19; 3 is the sweet spot, higher levels buy ~3 % for many times the CPU)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Segments compressed concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Encrypt archives with the master key in this file (32 bytes, raw or hex)
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Compress again segments that already have an archive
    #[arg(long)]
    pub force: bool,
    /// Delete the spooled fetch once its archive is written and checked
    #[arg(long)]
    pub remove_spool: bool,
}

pub fn run(g: &GlobalOpts, a: CompressArgs) -> Result<Tally> {
    let stage = Compress {
        work: WorkDir::new(&g.work_dir),
        options: Options {
            codec: a.codec,
            level: a.level,
            key: a.key_file.as_deref().map(MasterKey::load).transpose()?,
            remove_spool: a.remove_spool,
        },
    };
    crate::stage::run_command(&stage, a.jobs, a.force)
}
