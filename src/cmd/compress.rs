//! `compress`: argument handling; the stage is `stage::compress`.

use crate::archive::crypt::MasterKey;
use crate::cli::{CompressArgs, GlobalOpts};
use crate::exit::Tally;
use crate::stage::compress::{Compress, Options};
use crate::workdir::WorkDir;
use anyhow::Result;

pub fn run(g: &GlobalOpts, a: CompressArgs) -> Result<Tally> {
    let stage = Compress {
        work: WorkDir::new(&g.work_dir),
        options: Options {
            codec: a.codec,
            level: a.level,
            key: a.key_file.as_deref().map(MasterKey::load).transpose()?,
            remove_spool: a.remove_spool,
        },
    };
    crate::stage::run_command(&stage, a.jobs, a.force)
}
