//! `restore`: argument handling; the stage is `stage::restore`.

use crate::archive::crypt::MasterKey;
use crate::cli::{GlobalOpts, RestoreArgs};
use crate::exit::Tally;
use crate::stage::restore::{Restore, Tokens, named_segments, segments_in_window, window};
use crate::stage::{Action, Stage, run_segments};
use crate::store;
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};

pub fn run(g: &GlobalOpts, a: RestoreArgs) -> Result<Tally> {
    if std::fs::metadata(&a.from).is_ok_and(|m| m.is_file()) {
        bail!(
            "--from {} is a file: restore reads a destination (a directory or s3://bucket/prefix as given to \
             upload); to replay one archive file by hand use `warp-offload cat FILE | curl --data-binary @- \
             .../api/v0/update`",
            a.from
        );
    }
    let client = Client::new(&a.to_warp10, &a.http.config()).context("--to-warp10")?;
    let window = a
        .selector
        .as_ref()
        .map(|text| window(text, a.start.as_deref(), a.end.as_deref()))
        .transpose()?;
    let tokens = if a.dry_run {
        None
    } else {
        Some(Tokens {
            write: crate::secret::write_token(a.write_token_file.as_deref())?,
            read: crate::secret::read_token(a.read_token_file.as_deref())?,
        })
    };
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let store = store::open(&a.from, &a.s3.config())?;
    let (segments, unreadable) = match &window {
        Some(w) => segments_in_window(store.as_ref(), w)?,
        None => named_segments(store.as_ref(), &a.segments)?,
    };
    let stage = Restore {
        store: store.as_ref(),
        window: window.as_ref(),
        tokens,
        key,
        client,
        max_body: usize::try_from(a.max_body).context("--max-body")?.max(1),
        work: WorkDir::new(&g.work_dir),
    };
    // The segments come from the destination, not stdin; the driver is the one every stage uses.
    let bar = crate::log::bar(Some(segments.len() as u64), "restore");
    let tally = run_segments(
        segments.into_iter().map(Ok),
        a.jobs,
        |_| Action::Work,
        |seg| {
            let seg = stage.apply(seg);
            bar.inc(1);
            seg
        },
        |_| {},
    );
    bar.finish_and_clear();
    let mut tally = tally?;
    for e in &unreadable {
        if e.downcast_ref::<crate::error::Mismatch>().is_some() {
            tally.mismatched += 1;
        } else {
            tally.failed += 1;
        }
    }
    Ok(tally)
}
