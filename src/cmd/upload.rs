//! `upload`: argument handling; the stage is `stage::upload`.

use crate::cli::{GlobalOpts, UploadArgs};
use crate::exit::Tally;
use crate::stage::upload::Upload;
use crate::store;
use crate::workdir::WorkDir;
use anyhow::Result;

pub fn run(g: &GlobalOpts, a: UploadArgs) -> Result<Tally> {
    store::init_tls(&a.s3.config())?;
    let stage = Upload {
        store: store::open(&a.dest, &a.s3.config())?,
        work: WorkDir::new(&g.work_dir),
        force: a.force,
        dry_run: a.dry_run,
    };
    crate::stage::run_command(&stage, a.jobs, a.force)
}
