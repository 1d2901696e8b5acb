//! `fetch`: argument handling; the stage is `stage::fetch`.

use crate::cli::{GlobalOpts, HttpOpts};
use crate::exit::Tally;
use crate::stage::fetch::{Fetch, Target};
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Fetch each segment from Warp 10, check it strictly and spool it to the work directory
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch --read-token-file /etc/warp-offload/read.token --jobs 4
  # retry one failed segment by hand
  jq -c 'select(.id == \"20261001T000000Z-1d-0123456789ab\") | del(.error)' run.ndjson | warp-offload fetch")]
pub struct FetchArgs {
    /// Warp 10 to fetch from; a segment planned against another is refused (tokens go only here)
    #[arg(long, env = "WARP10_URL")]
    pub warp10_url: String,
    /// File holding the Warp 10 read token; or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// Segments fetched concurrently
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Fetch again segments that were already fetched
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub http: HttpOpts,
}

pub fn run(g: &GlobalOpts, a: FetchArgs) -> Result<Tally> {
    let stage = Fetch::new(
        Client::new(&a.warp10_url, &a.http.config())?,
        crate::secret::read_token(a.read_token_file.as_deref())?,
        WorkDir::new(&g.work_dir),
        Target::Spool,
    );
    let tally = crate::stage::run_command(&stage, a.jobs, a.force)?;
    stage.warn_empty();
    Ok(tally)
}
