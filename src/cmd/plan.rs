//! `plan`: argument handling; the planning is in `plan`.

use crate::cli::{GlobalOpts, HttpOpts, RangeOpts};
use crate::exit::Tally;
use crate::manifest;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Turn selectors and a time range into segments (one NDJSON record each)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan --warp10-url http://127.0.0.1:8080 --selector '~os\\..*{dc=par1}' \\
      --start 2026-10-01T00:00:00Z --end 2026-11-01T00:00:00Z --segment-length 1d > october.ndjson
  # cron, first day of the month: everything older than 30 days, in 6 h segments
  warp-offload plan --selector 'os.cpu{}' --start now-60d --end now-30d --segment-length 6h")]
pub struct PlanArgs {
    #[command(flatten)]
    pub range: RangeOpts,
    /// Segment length: 1h, 6h, 1d, 7d, ... (windows are aligned to multiples of it in UTC)
    #[arg(long, alias = "segment", default_value = "1d")]
    pub segment_length: String,
    /// File holding the Warp 10 read token (needed by --split-by); or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub http: HttpOpts,
}

pub fn run(_g: &GlobalOpts, a: PlanArgs) -> Result<Tally> {
    let segments = crate::plan::segments(&a.range.spec(&a.segment_length, a.read_token_file.as_deref(), &a.http))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut tally = Tally::default();
    for seg in &segments {
        manifest::write_record(&mut out, seg)?;
        tally.record(seg);
    }
    Ok(tally)
}
