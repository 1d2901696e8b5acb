//! `fetch`: argument handling; the stage is `stage::fetch`.

use crate::cli::{FetchArgs, GlobalOpts};
use crate::exit::Tally;
use crate::stage::fetch::{Fetch, Target};
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::Result;

pub fn run(g: &GlobalOpts, a: FetchArgs) -> Result<Tally> {
    let stage = Fetch {
        client: Client::new(&a.warp10_url, &a.http.config())?,
        token: crate::secret::read_token(a.read_token_file.as_deref())?,
        work: WorkDir::new(&g.work_dir),
        target: Target::Spool,
    };
    crate::stage::run_command(&stage, a.jobs, a.force)
}
