//! `purge`: argument handling; the stage is `stage::purge`.

use crate::cli::{GlobalOpts, HttpOpts, PurgeOpts, PurgeSetup, S3Opts, TokenOpts};
use crate::exit::Tally;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Delete archived segments from Warp 10, after proving the archive equals the source
#[derive(Args, Debug)]
#[command(after_help = "Every gate must pass, per segment, right before its delete:
  1. the archive object is read back from --dest and verified (size, BLAKE3, decoded points and digest);
  2. the source range is fetched again and still equals the archive (a late write stops the purge);
  3. a dryrun delete lists only archived series (or series without points in the range);
  4. --max-delete-points / --max-delete-series are not exceeded for the run.
Then the delete, its listing read to the end (a cut response leaves the segment purge-unknown; a
re-run completes it once every point left is shown to be archived), and a fetch of the range that
must come back empty (polled up to --settle-timeout, for asynchronous deletes).

Examples:
  warp-offload purge --dest s3://metrics-archive/warp10 --dry-run < verified.ndjson
  warp-offload purge --dest s3://metrics-archive/warp10 --write-token-file /etc/warp-offload/write.token \\
      --read-token-file /etc/warp-offload/read.token --max-delete-points 50000000 < verified.ndjson")]
pub struct PurgeArgs {
    /// Warp 10 to purge; a segment planned against another is refused (tokens and deletes go only here)
    #[arg(long, env = "WARP10_URL")]
    pub warp10_url: String,
    /// Destination the segments were uploaded to (the archives are read back from it)
    #[arg(long)]
    pub dest: String,
    #[command(flatten)]
    pub tokens: TokenOpts,
    /// Key file of encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub gates: PurgeOpts,
    /// Segments purged concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Stop if the local clock and Warp 10's (its Date header) differ by more than this
    #[arg(long, default_value = "5m")]
    pub max_clock_skew: String,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(_g: &GlobalOpts, a: PurgeArgs) -> Result<Tally> {
    let purger = PurgeSetup {
        warp10_url: &a.warp10_url,
        dest: &a.dest,
        tokens: &a.tokens,
        key_file: a.key_file.as_deref(),
        gates: &a.gates,
        max_clock_skew: &a.max_clock_skew,
        http: &a.http,
        s3: &a.s3,
    }
    .purger()?;
    crate::stage::run_command(&purger, a.jobs, false)
}
