//! `purge`: argument handling; the stage is `stage::purge`.

use crate::cli::{GlobalOpts, PurgeArgs, PurgeSetup};
use crate::exit::Tally;
use anyhow::Result;

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
