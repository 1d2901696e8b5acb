//! `upload`: argument handling; the stage is `stage::upload`.

use crate::cli::{GlobalOpts, S3Opts};
use crate::exit::Tally;
use crate::stage::upload::Upload;
use crate::store;
use crate::workdir::WorkDir;
use anyhow::Result;
use clap::Args;

/// Upload archives, then their manifest objects (written last: the commit markers)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # or from your secret store
  warp-offload upload --dest s3://metrics-archive/warp10 --s3-endpoint https://cellar-c2.services.clever-cloud.com \\
      < compressed.ndjson > uploaded.ndjson
  # a local directory (demos, single machine)
  warp-offload upload --dest /srv/warp-archive < compressed.ndjson
  warp-offload upload --dry-run --dest s3://metrics-archive/warp10 < compressed.ndjson")]
pub struct UploadArgs {
    /// Destination: s3://bucket/prefix, file:///dir or a directory path
    #[arg(long)]
    pub dest: String,
    /// Segments uploaded concurrently
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Upload again, and replace an object whose content differs from the archive
    #[arg(long)]
    pub force: bool,
    /// Print what would be uploaded; write nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(g: &GlobalOpts, a: UploadArgs) -> Result<Tally> {
    store::init_tls(&a.s3.config())?;
    let stage = Upload {
        store: store::open(&store::Destination::parse(&a.dest)?, &a.s3.config())?,
        work: WorkDir::new(&g.work_dir),
        force: a.force,
        dry_run: a.dry_run,
    };
    crate::stage::run_command(&stage, a.jobs, a.force)
}
