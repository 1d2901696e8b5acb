//! `verify`: proves an archive holds exactly what `fetch` received. Locally (this file), the
//! archive in the work directory must have the size and BLAKE3 `compress` recorded and decode
//! to the same points, series and digest as the fetch.

use crate::archive::crypt::MasterKey;
use crate::archive::{Hashed, summarize};
use crate::cli::{GlobalOpts, VerifyArgs};
use crate::cmd::{decide_default, run_stage, stdin};
use crate::exit::{Mismatch, Tally};
use crate::manifest::{Segment, VerifyInfo};
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::BufReader;

pub fn run(g: &GlobalOpts, a: VerifyArgs) -> Result<Tally> {
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let work = WorkDir::new(&g.work_dir);
    let bar = crate::log::bar(None, "verify");
    let tally = run_stage(
        stdin(),
        a.jobs,
        |seg| decide_default(seg, seg.verify.is_some(), a.force),
        |seg| {
            let seg = verify_segment(seg, &work, key.as_ref());
            bar.inc(1);
            seg
        },
    );
    bar.finish_and_clear();
    tally
}

fn verify_segment(mut seg: Segment, work: &WorkDir, key: Option<&MasterKey>) -> Segment {
    match verify_local(&seg, work, key) {
        Ok(info) => {
            crate::log::info(
                "verify",
                Some(seg.id.as_str()),
                "verified",
                &[("scope", info.scope.clone().into()), ("points", info.points.into())],
            );
            seg.verify = Some(info);
        }
        Err(e) => {
            let e = e.context(format!("verifying segment {}", seg.id));
            crate::log::event(
                crate::log::Level::Warn,
                "verify",
                Some(seg.id.as_str()),
                &format!("{e:#}"),
                &[],
            );
            seg.fail("verify", &e, false);
        }
    }
    seg
}

/// Checks the local archive file against the `archive` and `fetch` sections.
pub fn verify_local(seg: &Segment, work: &WorkDir, key: Option<&MasterKey>) -> Result<VerifyInfo> {
    let fetch = seg.fetch.as_ref().context("the segment has no fetch section")?;
    let archive = seg
        .archive
        .as_ref()
        .context("the segment has no archive section: run compress first")?;
    let path = work.path(&archive.path);
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = Hashed::new(BufReader::with_capacity(1 << 20, file));
    let decoded = summarize(&mut reader, key, &seg.id);
    let (size, blake3) = reader.finish().with_context(|| format!("reading {}", path.display()))?;
    if (size, &blake3) != (archive.size, &archive.blake3) {
        let mut msg = format!(
            "{} has size {size} and BLAKE3 {blake3}, compress recorded {} and {}",
            path.display(),
            archive.size,
            archive.blake3
        );
        if let Err(d) = &decoded {
            msg += &format!("; it does not decode either: {d:#}");
        }
        return Err(Mismatch(msg).into());
    }
    let summary = decoded.with_context(|| format!("decoding {}", path.display()))?;
    summary.check_against(fetch, &path.display().to_string())?;
    Ok(VerifyInfo {
        scope: "local".to_string(),
        points: summary.points,
        series: summary.series,
        digest: summary.digest,
        at: jiff::Timestamp::now(),
    })
}
