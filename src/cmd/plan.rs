//! `plan`: argument handling; the planning is in `plan`.

use crate::cli::{GlobalOpts, PlanArgs};
use crate::exit::Tally;
use crate::manifest;
use anyhow::Result;

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
