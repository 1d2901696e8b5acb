//! `restore`: puts archived segments back into Warp 10, then proves it.
//!
//! Per segment: the archive object is downloaded to the work directory while its size and
//! BLAKE3 are checked against the manifest object, then decoded once to check points, series
//! and digest against what `fetch` recorded, so nothing from a damaged archive is ever written.
//! A second decoding streams GTS text to `/api/v0/update` in bounded bodies, each starting with a
//! full line (rendered so that Warp 10 keeps every value's bits: -0.0 as `-0.0E0`, see
//! `gts/value.rs`), and keeps the set of points sent. Last, the window is fetched back and every point
//! sent must be there: Warp 10 may drop points silently (`docs/WARP10.md#update`).

use super::Stage;
use crate::archive::Hashed;
use crate::archive::crypt::MasterKey;
use crate::archive::{self, Decoder};
use crate::digest::{Digest, PointSet, SeriesHash};
use crate::error::Mismatch;
use crate::gts::SeriesKey;
use crate::gts::line::{render_cont_line, render_full_line};
use crate::gts::selector::Selector;
use crate::id::SegmentId;
use crate::layout::{committed, read_manifest};
use crate::manifest::{RestoreInfo, Segment, StageName, UploadInfo};
use crate::retry::with_retries;
use crate::secret::Secret;
use crate::store::Store;
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Seek};
use std::time::Instant;

/// `--selector/--start/--end`: restore only these series, inside this window.
pub struct Window {
    text: String,
    selector: Selector,
    start: Timestamp,
    end: Timestamp,
}

pub struct Tokens {
    pub write: Secret,
    pub read: Secret,
}

/// The restore stage: segments read from `store` (found with `named_segments` or
/// `segments_in_window`) put back into this run's Warp 10.
pub struct Restore<'a> {
    pub store: &'a dyn Store,
    pub window: Option<&'a Window>,
    /// `None` on a dry run: nothing is sent, nothing is checked.
    pub tokens: Option<Tokens>,
    pub key: Option<MasterKey>,
    /// This run's Warp 10 (`--warp10-url` or `WARP10_URL`), never the one a record names.
    pub client: Client,
    pub max_body: usize,
    pub work: WorkDir,
}

impl Stage for Restore<'_> {
    fn name(&self) -> StageName {
        StageName::Restore
    }

    fn needed(&self, _: &Segment) -> bool {
        true
    }

    fn apply(&self, seg: Segment) -> Segment {
        restore_segment(seg, self)
    }

    fn uses_destination(&self) -> bool {
        true
    }
}

pub fn window(text: &str, start: Option<&str>, end: Option<&str>) -> Result<Window> {
    use crate::error::{Usage, bad_flag};
    let selector = Selector::parse(text).map_err(bad_flag("--selector"))?;
    let now = Timestamp::now();
    let start = start.ok_or_else(|| Usage("--selector needs --start".into()))?;
    let end = end.ok_or_else(|| Usage("--selector needs --end".into()))?;
    let start = crate::time::parse_instant(start, now).map_err(bad_flag("--start"))?;
    let end = crate::time::parse_instant(end, now).map_err(bad_flag("--end"))?;
    if end <= start {
        return Err(Usage(format!("--end {end} is not after --start {start}")).into());
    }
    Ok(Window {
        text: text.to_string(),
        selector,
        start,
        end,
    })
}

/// Segments to restore, and the manifest objects that could not be read (each one fails alone:
/// the other segments are still restored, and the run exits 3).
pub type Found = (Vec<Segment>, Vec<anyhow::Error>);

/// The manifest objects of the segments named with `--segment`.
pub fn named_segments(store: &dyn Store, ids: &[String]) -> Result<Found> {
    let ids: BTreeSet<SegmentId> = ids.iter().map(|id| SegmentId::new(id)).collect::<Result<_>>()?;
    let mut found = (Vec::with_capacity(ids.len()), Vec::new());
    for id in &ids {
        sort(&mut found, committed(store, id));
    }
    Ok(found)
}

fn sort(found: &mut Found, read: Result<Segment>) {
    match read {
        Ok(seg) => found.0.push(seg),
        Err(e) => {
            crate::log::error(&format!("{e:#}"));
            found.1.push(e);
        }
    }
}

/// Every archived segment whose range overlaps the window, found through the manifest objects
/// (the commit markers: an upload without one is not an archive yet).
pub fn segments_in_window(store: &dyn Store, w: &Window) -> Result<Found> {
    let mut found = (Vec::new(), Vec::new());
    for (key, _) in store.list("segments/")? {
        let Some(id) = key
            .strip_prefix("segments/")
            .and_then(|k| k.strip_suffix("/manifest.json"))
        else {
            continue;
        };
        let read = SegmentId::new(id)
            .with_context(|| format!("manifest object {}", store.url(&key)))
            .and_then(|id| {
                read_manifest(store, &id)?
                    .with_context(|| format!("manifest object {} vanished while listing", store.url(&key)))
            });
        match read {
            Ok(seg) if !(seg.start < w.end && w.start < seg.end) => {}
            read => sort(&mut found, read),
        }
    }
    if found.0.is_empty() && found.1.is_empty() {
        bail!(
            "no archived segment in {} overlaps {} .. {}",
            store.url(""),
            w.start,
            w.end
        );
    }
    Ok(found)
}

/// Reads and checks a manifest object: one record, of this segment, with the sections of an
/// archived segment, whose data key is the one derived from its id.
fn restore_segment(mut seg: Segment, ctx: &Restore) -> Segment {
    let started = Instant::now();
    match restore_one(&seg, ctx, started) {
        Ok(info) => {
            let missing = info.found.map(|found| info.points.saturating_sub(found));
            crate::log::info(
                "restore",
                Some(seg.id.as_str()),
                &format!(
                    "{} {}",
                    if info.dry_run {
                        "dry run: would restore to"
                    } else {
                        "restored to"
                    },
                    info.to
                ),
                &[
                    ("points", info.points.into()),
                    ("bytes", info.bytes.into()),
                    ("requests", info.requests.into()),
                    ("found", info.found.into()),
                    ("extra", info.extra.into()),
                    ("duration_ms", info.duration_ms.into()),
                ],
            );
            let err = match missing {
                Some(n) if n > 0 => Some(anyhow::Error::new(Mismatch(format!(
                    "segment {}: {n} of {} archived points are missing from {} after the restore (dropped by \
                     Warp 10: out-of-range timestamps ignored, throttling, or a write token with another .app)",
                    seg.id, info.points, info.to
                )))),
                _ => None,
            };
            seg.restore = Some(info);
            if let Some(e) = err {
                crate::stage::record_failure(&mut seg, StageName::Restore, &e);
            }
        }
        Err(e) => {
            let e = e.context(format!("restoring segment {}", seg.id));
            crate::stage::record_failure(&mut seg, StageName::Restore, &e);
        }
    }
    seg
}

fn restore_one(seg: &Segment, ctx: &Restore, started: Instant) -> Result<RestoreInfo> {
    let to = ctx.client.base().to_string();
    let (start, end) = match ctx.window {
        Some(w) => (seg.start.max(w.start), seg.end.min(w.end)),
        None => (seg.start, seg.end),
    };
    let lo = seg.time_unit.units_of(start)?;
    let hi = seg.time_unit.units_of(end)? - 1;
    let fetch = seg.fetch.as_ref().context("the segment has no fetch section")?;
    let upload = seg.upload.as_ref().context("the segment has no upload section")?;
    let what = format!("archive {}", ctx.store.url(&upload.key));
    let probe = Probe {
        selector: ctx.window.map_or(&seg.selector, |w| &w.text),
        lo,
        hi,
        per_second: seg.time_unit.per_second(),
    };

    let mut file = download(upload, ctx)?;
    let summary = archive::summarize(BufReader::with_capacity(1 << 20, &file), ctx.key.as_ref(), &seg.id)
        .with_context(|| format!("decoding {what}"))?;
    summary.check_against(fetch, &what)?;
    file.rewind().context("rereading the downloaded archive")?;

    let client = match &ctx.tokens {
        Some(tokens) => {
            preflight(&ctx.client, &tokens.read, &probe)?;
            Some((&ctx.client, tokens))
        }
        None => None,
    };
    let filter = ctx.window.map(|w| &w.selector);
    let sent = send(&file, seg, ctx, filter, lo, hi, |body| match &client {
        Some((client, tokens)) => with_retries(client.retries(), "restore", || client.update(&tokens.write, body))
            .with_context(|| format!("POST /api/v0/update on {to}")),
        None => Ok(()),
    })
    .with_context(|| format!("restoring {what}"))?;
    let check = match &client {
        Some((client, tokens)) => Some(check(client, &tokens.read, &probe, &sent)?),
        None => None,
    };
    Ok(RestoreInfo {
        to,
        start,
        end,
        filter: ctx.window.map(|w| w.text.clone()),
        points: sent.points,
        bytes: sent.bytes,
        requests: sent.requests,
        found: check.as_ref().map(|c| c.found),
        extra: check.as_ref().map(|c| c.extra),
        digest: check.map(|c| c.digest),
        dry_run: ctx.tokens.is_none(),
        at: Timestamp::now(),
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Copies the archive object to a temp file in the work directory (removed when dropped),
/// checking its size and BLAKE3 against the manifest object on the way.
fn download(upload: &UploadInfo, ctx: &Restore) -> Result<File> {
    let url = ctx.store.url(&upload.key);
    let dir = ctx.work.path("restore");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut file = tempfile::tempfile_in(&dir).with_context(|| format!("creating a temp file in {}", dir.display()))?;
    let mut object = Hashed::new(ctx.store.get(&upload.key)?);
    std::io::copy(&mut object, &mut file).with_context(|| format!("downloading {url}"))?;
    let (size, blake3) = object.finish().with_context(|| format!("downloading {url}"))?;
    if size != upload.size || blake3 != upload.blake3 {
        return Err(Mismatch(format!(
            "{url} is {size} bytes with BLAKE3 {blake3}, its manifest object says {} bytes with BLAKE3 {}",
            upload.size, upload.blake3
        ))
        .into());
    }
    file.rewind()
        .with_context(|| format!("rereading the download of {url}"))?;
    Ok(file)
}

/// Before the first write: the target must count time in the segment's unit (a µs archive
/// written into a ms Warp 10 would land 1000 times too late) and the read token the check needs
/// must work. One fetch of a single instant tells both.
fn preflight(client: &Client, read: &Secret, probe: &Probe) -> Result<()> {
    with_retries(client.retries(), "restore", || {
        client
            .fetch(read, probe.selector, probe.lo, probe.lo, probe.per_second)
            .map(drop)
    })
    .with_context(|| format!("checking {} before writing", client.base()))
}

/// What the check fetches back: the segment's selector over the restored window, or the
/// `--selector`, which matches every series restored and fewer others.
struct Probe<'a> {
    selector: &'a str,
    lo: i64,
    hi: i64,
    per_second: i64,
}

/// What was (or would be) sent.
struct Sent {
    points: u64,
    bytes: u64,
    requests: u64,
    set: PointSet,
}

/// Decodes the archive and passes GTS text to `post` in bodies of about `max_body` bytes (at
/// most one line more). Each body starts with a full line, since Warp 10 parses every request
/// on its own; inside it, points of the same series follow as `=` lines. Only points inside
/// `[lo, hi]` of series matching `filter` are sent.
fn send(
    file: &File,
    seg: &Segment,
    ctx: &Restore,
    filter: Option<&Selector>,
    lo: i64,
    hi: i64,
    mut post: impl FnMut(&[u8]) -> Result<()>,
) -> Result<Sent> {
    let mut dec = Decoder::open(BufReader::with_capacity(1 << 20, file), ctx.key.as_ref(), &seg.id)?;
    let mut sent = Sent {
        points: 0,
        bytes: 0,
        requests: 0,
        set: PointSet::default(),
    };
    let no_attrs = BTreeMap::new();
    let mut body = Vec::with_capacity(ctx.max_body + (64 << 10));
    let mut flush = |body: &mut Vec<u8>, sent: &mut Sent| -> Result<()> {
        post(body)?;
        sent.bytes += body.len() as u64;
        sent.requests += 1;
        body.clear();
        Ok(())
    };
    // The series being decoded, its hash, whether it is restored, and whether the body's last
    // line belongs to it (so the next point can be a `=` line).
    let mut current: Option<(SeriesKey, SeriesHash, bool)> = None;
    let mut continues = false;
    while let Some(batch) = dec.next_batch()? {
        if current.as_ref().is_none_or(|(k, _, _)| *k != batch.key) {
            let wanted = filter.is_none_or(|s| s.matches(&batch.key, &no_attrs));
            let hash = SeriesHash::of(&batch.key);
            current = Some((batch.key, hash, wanted));
            continues = false;
        }
        let (key, hash, wanted) = current.as_ref().expect("set above");
        if !wanted {
            continue;
        }
        for p in batch.points.iter().filter(|p| (lo..=hi).contains(&p.ts)) {
            if continues {
                render_cont_line(&mut body, p);
            } else {
                render_full_line(&mut body, key, p);
                continues = true;
            }
            sent.set.insert(hash, p);
            sent.points += 1;
            if body.len() >= ctx.max_body {
                flush(&mut body, &mut sent)?;
                continues = false;
            }
        }
    }
    if !body.is_empty() {
        flush(&mut body, &mut sent)?;
    }
    sent.set.seal();
    Ok(sent)
}

struct Check {
    found: u64,
    extra: u64,
    digest: Digest,
}

/// Fetches the window back and counts the points sent that are there, and those that are not
/// in the archive.
fn check(client: &Client, read: &Secret, probe: &Probe, sent: &Sent) -> Result<Check> {
    with_retries(client.retries(), "restore", || {
        let body = client.fetch(read, probe.selector, probe.lo, probe.hi, probe.per_second)?;
        let (mut found, mut extra) = (0u64, 0u64);
        let stats =
            crate::gts::stream::check_stream(body.reader, probe.lo, probe.hi, &mut std::io::sink(), |_, hash, p| {
                if sent.set.contains(hash, p) {
                    found += 1;
                } else {
                    extra += 1;
                }
                Ok(())
            })?;
        Ok(Check {
            found,
            extra,
            digest: stats.digest,
        })
    })
    .with_context(|| format!("fetching the restored window back from {}", client.base()))
}
