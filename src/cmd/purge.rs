//! `purge`: argument handling; the stage is `stage::purge`.

use crate::cli::{GlobalOpts, PurgeArgs};
use crate::exit::Tally;
use anyhow::Result;

pub fn run(_g: &GlobalOpts, a: PurgeArgs) -> Result<Tally> {
    crate::stage::run_command(&a.purger()?, a.jobs, false)
}
