//! `verify`: argument handling; the stage is `stage::verify`. Every segment without an error is
//! verified again, even one whose record says it was: a user runs `verify` to learn what the
//! archive holds now.

use crate::archive::crypt::MasterKey;
use crate::cli::{GlobalOpts, S3Opts};
use crate::exit::Tally;
use crate::stage::verify::Verify;
use crate::store::Stores;
use crate::workdir::WorkDir;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Check archives (local, or uploaded: read back) against what fetch recorded
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload compress < fetched.ndjson | warp-offload verify > verified.ndjson
  # uploaded segments are read back from their destination, every byte
  warp-offload upload --dest s3://metrics-archive/warp10 < verified.ndjson | warp-offload verify
  # exit code 4 and the segment's error name an archive that does not match its fetch")]
pub struct VerifyArgs {
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Segments verified concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// How to reach S3 for uploaded segments (their destination is in the record)
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(g: &GlobalOpts, a: VerifyArgs) -> Result<Tally> {
    crate::store::init_tls(&a.s3.config())?;
    let stage = Verify {
        work: WorkDir::new(&g.work_dir),
        stores: Stores::new(a.s3.config()),
        key: a.key_file.as_deref().map(MasterKey::load).transpose()?,
    };
    crate::stage::run_command(&stage, a.jobs, true)
}
