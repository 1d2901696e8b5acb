//! `verify`: argument handling; the stage is `stage::verify`. Every segment without an error is
//! verified again, even one whose record says it was: a user runs `verify` to learn what the
//! archive holds now.

use crate::archive::crypt::MasterKey;
use crate::cli::{GlobalOpts, VerifyArgs};
use crate::exit::Tally;
use crate::stage::verify::Verify;
use crate::store::Stores;
use crate::workdir::WorkDir;
use anyhow::Result;

pub fn run(g: &GlobalOpts, a: VerifyArgs) -> Result<Tally> {
    crate::store::init_tls(&a.s3.config())?;
    let stage = Verify {
        work: WorkDir::new(&g.work_dir),
        stores: Stores::new(a.s3.config()),
        key: a.key_file.as_deref().map(MasterKey::load).transpose()?,
    };
    crate::stage::run_command(&stage, a.jobs, true)
}
