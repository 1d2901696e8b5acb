//! The cold read path: points of the series matching a selector, inside a time window, read
//! straight from a destination's archives (`query`, `serve`), without restoring them.
//!
//! - Segments come from the manifest objects (the commit markers): only committed segments
//!   overlapping the window are read ([`Catalog`]).
//! - Series are matched with Warp 10's rules (`gts::selector`, token labels ignored as fetch
//!   does) against the archived keys; archives hold no attributes, so none are matched or shown.
//! - A columnar archive with a block index, encrypted or not, is read with ranged reads: the
//!   index, then only the blocks holding a matching series whose time span meets the window
//!   (`segment.rs`). Other archives (older columnar, `gts.zst`) are streamed whole and checked
//!   against the manifest's size and BLAKE3.
//! - The result is per series, newest first across segments, as `/api/v0/fetch` prints it.
//!   It is held in memory, bounded by `max_points`: a request beyond it fails before any output.

pub mod endpoints;
mod segment;

use crate::archive::crypt::MasterKey;
use crate::gts::selector::Selector;
use crate::gts::{Point, SeriesKey};
use crate::id::{SegmentId, TimeUnit};
use crate::layout::{manifest_key, read_manifest};
use crate::manifest::Segment;
use crate::store::Store;
use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to read: series matching `selector` with `lo <= ts <= hi` (platform units).
pub struct Query<'a> {
    pub selector: &'a Selector,
    pub lo: i64,
    pub hi: i64,
    /// Most recent points of each series skipped, then at most `limit` kept (fetch's `skip`
    /// and `count`).
    pub skip: usize,
    pub limit: usize,
    /// Largest number of points held for one query.
    pub max_points: u64,
}

/// Series found, each with its points newest first.
pub type Found = BTreeMap<SeriesKey, Vec<Point>>;

/// Bytes read from the store, and bytes the segments read from hold in all.
#[derive(Default)]
pub struct Stats {
    pub bytes_read: AtomicU64,
    pub archived_bytes: AtomicU64,
}

impl Stats {
    fn read(&self, n: u64) {
        self.bytes_read.fetch_add(n, Ordering::Relaxed);
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
}

/// The committed segments of a destination. Manifest objects are write-once, so each is read
/// once and kept; the listing is redone on every call, so new segments are seen.
#[derive(Default)]
pub struct Catalog {
    known: Mutex<HashMap<SegmentId, Segment>>,
}

impl Catalog {
    /// Every committed segment, newest first.
    pub fn segments(&self, store: &dyn Store) -> Result<Vec<Segment>> {
        let mut out = Vec::new();
        for (key, _) in store.list("segments/")? {
            let Some(id) = key
                .strip_prefix("segments/")
                .and_then(|k| k.strip_suffix("/manifest.json"))
            else {
                continue;
            };
            let id = SegmentId::new(id).with_context(|| format!("manifest object {}", store.url(&key)))?;
            let cached = self.known.lock().expect("catalog lock").get(&id).cloned();
            let seg = match cached {
                Some(seg) => seg,
                None => {
                    let seg = read_manifest(store, &id)?
                        .with_context(|| format!("manifest object {} vanished", store.url(&manifest_key(&id))))?;
                    self.known.lock().expect("catalog lock").insert(id, seg.clone());
                    seg
                }
            };
            out.push(seg);
        }
        out.sort_by(|a, b| b.start.cmp(&a.start).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// The segments meeting the half-open window `[start, end)`.
pub fn in_window(segments: Vec<Segment>, start: Timestamp, end: Timestamp) -> Vec<Segment> {
    segments
        .into_iter()
        .filter(|s| s.start < end && start < s.end)
        .collect()
}

/// The keys of the series matching `selector` in `segments` (`/api/v0/find`).
pub fn find(
    store: &dyn Store,
    segments: &[Segment],
    selector: &Selector,
    key: Option<&MasterKey>,
    stats: &Stats,
) -> Result<BTreeSet<SeriesKey>> {
    let mut out = BTreeSet::new();
    for seg in segments {
        segment::keys(store, seg, selector, key, stats, &mut out)
            .with_context(|| format!("reading segment {}", seg.id))?;
    }
    Ok(out)
}

/// The platform time unit of these segments; mixing units would mix timestamps.
pub fn common_unit(segments: &[Segment]) -> Result<Option<TimeUnit>> {
    let mut units = segments.iter().map(|s| s.time_unit);
    let Some(first) = units.next() else { return Ok(None) };
    if let Some(other) = units.find(|&u| u != first) {
        bail!("the segments read mix time units ({first:?} and {other:?}): narrow the window");
    }
    Ok(Some(first))
}

/// Reads the query from `segments` (newest first, as [`Catalog::segments`] gives them).
pub fn read(
    store: &dyn Store,
    segments: &[Segment],
    q: &Query,
    key: Option<&MasterKey>,
    stats: &Stats,
) -> Result<Found> {
    let mut found = Found::new();
    let mut held = 0u64;
    for seg in segments {
        let up = seg.upload.as_ref().expect("read_manifest checked the upload section");
        stats.archived_bytes.fetch_add(up.size, Ordering::Relaxed);
        segment::read(store, seg, q, key, stats, &mut |batch_key, points| {
            held += points.len() as u64;
            if held > q.max_points {
                bail!(
                    "more than {} points match: narrow the selector or the window (or raise --max-points)",
                    q.max_points
                );
            }
            match found.get_mut(batch_key) {
                Some(v) => v.extend(points),
                None => {
                    found.insert(batch_key.clone(), points);
                }
            }
            Ok(())
        })
        .with_context(|| format!("reading segment {} ({})", seg.id, store.url(&up.key)))?;
    }
    for points in found.values_mut() {
        // Segments do not overlap for one selector, but the same series archived under two
        // selectors would: Warp 10 holds one point per timestamp.
        points.sort_by_key(|p| std::cmp::Reverse(p.ts));
        points.dedup_by_key(|p| p.ts);
        if q.skip > 0 || q.limit < points.len() {
            let end = q.skip.saturating_add(q.limit).min(points.len());
            *points = points.drain(q.skip.min(end)..end).collect();
        }
    }
    found.retain(|_, points| !points.is_empty());
    Ok(found)
}
