//! `fetch`: streams each segment from `/api/v0/fetch`, parses every line strictly while
//! streaming, counts and digests the points, and spools the text atomically to the work dir.

use super::{Stage, compress};
use crate::gts::stream::{StreamStats, check_stream};
use crate::manifest::{ArchiveInfo, FetchInfo, Segment, StageName};
use crate::retry::with_retries;
use crate::secret::Secret;
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Where fetched text goes: a spool file (the `fetch` stage), or straight into the segment's
/// archive (`all`: one parse, no spool on disk).
pub enum Target<'a> {
    Spool,
    Archive(&'a compress::Options),
}

/// The fetch stage, from `client`: this run's Warp 10 (a segment planned against another is
/// refused before any token is sent).
pub struct Fetch<'a> {
    pub client: Client,
    pub token: Secret,
    pub work: WorkDir,
    pub target: Target<'a>,
    /// Segments fetched by this run that hold no point: a selector matching nothing (a typo)
    /// would otherwise archive empty segments without a word.
    pub empty: AtomicUsize,
}

impl<'a> Fetch<'a> {
    pub fn new(client: Client, token: Secret, work: WorkDir, target: Target<'a>) -> Fetch<'a> {
        Fetch {
            client,
            token,
            work,
            target,
            empty: AtomicUsize::new(0),
        }
    }

    /// The summary line of the empty segments this run fetched, if any.
    pub fn warn_empty(&self) {
        let n = self.empty.load(Ordering::Relaxed);
        if n > 0 {
            crate::log::warn(&format!(
                "{n} segment(s) fetched no point: check the selectors and the range \
                 (an empty segment is archived as such, and its purge deletes nothing)"
            ));
        }
    }
}

impl Stage for Fetch<'_> {
    fn name(&self) -> StageName {
        StageName::Fetch
    }

    fn needed(&self, seg: &Segment) -> bool {
        seg.fetch.is_none()
    }

    fn apply(&self, seg: Segment) -> Segment {
        let seg = fetch_segment(seg, &self.client, &self.token, &self.work, &self.target);
        if let Some(f) = seg.fetch.as_ref().filter(|f| f.points == 0 && seg.error.is_none()) {
            self.empty.fetch_add(1, Ordering::Relaxed);
            crate::log::event(
                crate::log::Level::Warn,
                "fetch",
                Some(seg.id.as_str()),
                &format!(
                    "selector {} matched no point in [{}, {}) ({} series)",
                    seg.selector, seg.start, seg.end, f.series
                ),
                &[],
            );
        }
        seg
    }

    fn uses_destination(&self) -> bool {
        false
    }
}

fn fetch_segment(mut seg: Segment, client: &Client, token: &Secret, work: &WorkDir, target: &Target) -> Segment {
    if seg
        .purge
        .as_ref()
        .is_some_and(|p| p.state != crate::manifest::PurgeState::DryRun)
    {
        let e = anyhow::anyhow!(
            "segment {} was already purged; fetching it again would replace its record",
            seg.id
        );
        seg.fail(StageName::Fetch, &e, false);
        return seg;
    }
    let started = Instant::now();
    let result = seg.check_source(client.base()).and_then(|()| {
        with_retries(client.retries(), "fetch", || {
            fetch_once(client, token, &seg, work, target)
        })
    });
    match result {
        Ok((mut info, archive)) => {
            info.duration_ms = started.elapsed().as_millis() as u64;
            crate::log::info(
                "fetch",
                Some(seg.id.as_str()),
                "fetched",
                &[
                    ("points", info.points.into()),
                    ("series", info.series.into()),
                    ("bytes", info.bytes.into()),
                    ("duration_ms", info.duration_ms.into()),
                ],
            );
            if let Some(a) = &archive {
                compress::log_compressed(&seg, a, info.duration_ms);
            }
            seg.set_fetch(info, archive);
        }
        Err(e) => {
            let e = e.context(format!("fetching segment {} from {}", seg.id, seg.warp10_url));
            crate::stage::record_failure(&mut seg, StageName::Fetch, &e);
        }
    }
    seg
}

fn fetch_once(
    client: &Client,
    token: &Secret,
    seg: &Segment,
    work: &WorkDir,
    target: &Target,
) -> Result<(FetchInfo, Option<ArchiveInfo>)> {
    let (start, end) = seg.warp10_range()?;
    let body = client.fetch(token, &seg.selector, start, end, seg.time_unit.per_second())?;
    match target {
        Target::Spool => {
            let spool = WorkDir::spool_rel(&seg.id);
            let stats = WorkDir::write_atomic(&work.path(&spool), |file| {
                let mut out = BufWriter::with_capacity(1 << 20, file);
                let stats = check_stream(body.reader, start, end, &mut out, |_, _, _| Ok(()))?;
                out.flush().context("writing spool")?;
                Ok(stats)
            })?;
            Ok((fetch_info(seg, &stats), None))
        }
        Target::Archive(o) => {
            let (info, archive) = compress::write_archive(seg, work, o, |enc| {
                let mut last = None;
                let stats = check_stream(body.reader, start, end, &mut std::io::sink(), |key, hash, p| {
                    if last != Some(*hash) {
                        enc.begin_series(key)?;
                        last = Some(*hash);
                    }
                    enc.push(p)
                })?;
                Ok(fetch_info(seg, &stats))
            })?;
            Ok((info, Some(archive)))
        }
    }
}

fn fetch_info(seg: &Segment, stats: &StreamStats) -> FetchInfo {
    FetchInfo {
        points: stats.points,
        series: stats.series.len() as u64,
        bytes: stats.bytes,
        digest: stats.digest,
        spool: WorkDir::spool_rel(&seg.id),
        at: jiff::Timestamp::now(),
        duration_ms: 0,
    }
}
