//! `purge`: deletes archived series from Warp 10 — only the series the archive holds, each by
//! its exact selector, and only after proving, right before the delete, that Warp 10 holds
//! nothing of them that the archive lacks.
//!
//! The gates (README "Purge safety"), in order, per segment:
//! 1. the archive object is read back now and verified (size, BLAKE3, decoded count and digest
//!    against the fetch), and so is the manifest object `restore` will read (same segment,
//!    counts, digest, keys, BLAKE3): a record saying "verified" is not enough, records can be
//!    edited, and a purge must leave a segment that restores;
//! 2. completeness, with evidence shaped differently from the fetch that made the archive: the
//!    range is re-fetched in time windows chosen from the archive and compared with it cell by
//!    cell (see `completeness`), so a short answer repeated at the same offset cannot vouch for
//!    itself; a late write stops the purge too. After an interrupted delete, every point left of
//!    an archived series must be in the archive;
//! 3. a `dryrun` delete with the segment's selector may list only series the read token sees;
//!    series with points in the range that are not archived are never deleted (the segment is
//!    `partial`, exit 3); each archived series' exact selector is dry-run too and must reach only
//!    archived series (a selector also matches series with more labels);
//! 4. `--max-delete-points` / `--max-delete-series` for the run are not exceeded.
//!
//! Then a purge marker in the destination (from now on its archive is the only copy: `upload`
//! never replaces it), one delete per archived series, each listing read to the end and equal to
//! its dry run, and the windows read back until no point of a deleted series is left (polled,
//! for asynchronous deployments). Any failure once a delete is sent leaves the segment
//! `purge-unknown`.

use super::Stage;
use crate::archive::crypt::MasterKey;
use crate::completeness::{ArchivedSeries, Grid, archived_grid};
use crate::digest::{PointSet, SeriesHash};
use crate::error::Mismatch;
use crate::gts::SeriesKey;
use crate::gts::selector::exact_selector;
use crate::gts::stream::check_stream;
use crate::lock::{Lock, LockOpts};
use crate::manifest::{PurgeInfo, PurgeState, Segment, StageName, VerifyScope};
use crate::retry::with_retries;
use crate::secret::Secret;
use crate::store::{Meta, Store};
use crate::warp10::Client;
use anyhow::{Context, Result, bail};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The delete was sent, so it may have been applied, in part or in full: the segment is
/// `purge-unknown` until a re-run proves what is left is archived and completes it.
#[derive(Debug)]
struct Unknown;

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the delete was sent and may have been applied in part")
    }
}

/// What the archive holds, read back from the destination just now.
struct Archived {
    points: u64,
    held: ArchivedSeries,
    /// Only after an interrupted delete: exactly which points are archived.
    exact: Option<PointSet>,
}

/// What Warp 10 holds now, re-fetched window by window.
struct Now {
    /// Points of archived series, on the archive's grid.
    grid: Grid,
    /// Points of archived series per series.
    per_series: HashMap<SeriesHash, u64>,
    /// Points of archived series outside the archive's grid (never archived).
    outside: u64,
    /// Points of archived series that are not archived (only counted with an exact set).
    not_archived_points: u64,
    /// Series with points in the range that the archive does not hold, with their point count.
    unarchived: HashMap<SeriesHash, (SeriesKey, u64)>,
}

impl Now {
    fn archived_points(&self) -> u64 {
        self.per_series.values().sum()
    }
}

/// Per-run delete budget (`--max-delete-points`, `--max-delete-series`).
#[derive(Default)]
struct Budget {
    points: u64,
    series: u64,
}

/// The purge's limits for a run (`--max-delete-*`, `--settle-timeout`, `--dry-run`,
/// `--max-clock-skew`).
pub struct Limits {
    pub max_delete_points: Option<u64>,
    pub max_delete_series: Option<u64>,
    /// Seconds to wait for deleted points to read back gone.
    pub settle_timeout: u64,
    pub dry_run: bool,
    pub max_clock_skew_s: i64,
}

/// The purge stage.
pub struct Purger {
    pub store: Box<dyn Store>,
    /// This run's Warp 10: a segment planned against another is refused.
    pub client: Client,
    pub read_token: Secret,
    pub write_token: Secret,
    pub key: Option<MasterKey>,
    pub lock: LockOpts,
    pub limits: Limits,
    /// What this run has deleted so far, against the limits.
    used: Mutex<Budget>,
}

impl Stage for Purger {
    fn name(&self) -> StageName {
        StageName::Purge
    }

    /// Dry-run, partial and purge-unknown segments are redone.
    fn needed(&self, seg: &Segment) -> bool {
        seg.purge.as_ref().is_none_or(|p| p.state != PurgeState::Purged)
    }

    fn apply(&self, seg: Segment) -> Segment {
        self.purge_segment(seg)
    }

    fn uses_destination(&self) -> bool {
        true
    }
}

impl Purger {
    pub fn new(
        store: Box<dyn Store>,
        client: Client,
        (read_token, write_token): (Secret, Secret),
        key: Option<MasterKey>,
        lock: LockOpts,
        limits: Limits,
    ) -> Purger {
        Purger {
            store,
            client,
            read_token,
            write_token,
            key,
            lock,
            limits,
            used: Mutex::new(Budget::default()),
        }
    }

    fn purge_segment(&self, mut seg: Segment) -> Segment {
        let started = Instant::now();
        match self.purge(&seg) {
            Ok(info) => {
                crate::log::info(
                    "purge",
                    Some(seg.id.as_str()),
                    info.state.name(),
                    &[
                        ("points", info.points.into()),
                        ("series", info.series.len().into()),
                        ("not_archived", info.not_archived.len().into()),
                        ("duration_ms", (started.elapsed().as_millis() as u64).into()),
                    ],
                );
                let left = (info.state == PurgeState::Partial).then(|| {
                    anyhow::anyhow!(
                        "{} series are left in Warp 10, not archived by this segment: {}; archive them \
                         (plan them as their own segments), then purge again",
                        info.not_archived.len(),
                        info.not_archived.join(", ")
                    )
                });
                seg.purge = Some(info);
                if let Some(e) = left {
                    let e = e.context(format!("purging segment {}", seg.id));
                    crate::stage::record_failure(&mut seg, StageName::Purge, &e);
                }
            }
            Err(e) => {
                let e = e.context(format!("purging segment {}", seg.id));
                // `downcast_ref`, not `chain()`: `Unknown` is a context layer, which `chain()`
                // shows only as its message.
                if e.downcast_ref::<Unknown>().is_some() {
                    seg.purge = Some(info(PurgeState::PurgeUnknown, Vec::new(), 0, Vec::new()));
                }
                crate::stage::record_failure(&mut seg, StageName::Purge, &e);
            }
        }
        seg
    }

    fn purge(&self, seg: &Segment) -> Result<PurgeInfo> {
        seg.check_source(self.client.base())?;
        // A dry run writes nothing, not even a lock: it only reads.
        let lock = if self.limits.dry_run {
            None
        } else {
            Some(Lock::acquire(self.store.as_ref(), &seg.id, self.lock)?)
        };
        let after_cut = seg.purge.as_ref().is_some_and(|p| p.state == PurgeState::PurgeUnknown);
        let client = &self.client;
        client.check_clock(self.limits.max_clock_skew_s)?;
        // Gate 1: the archive and its manifest object, read back now.
        let mut archived = self.read_back(seg, after_cut)?;
        // Gate 2: Warp 10 holds nothing of the archived series that the archive lacks.
        let mut now = self.refetch(seg, &archived)?;
        let complete = now.grid == archived.held.grid && now.outside == 0;
        // Fewer points than archived: a delete was applied in part before (a cut response, or a
        // crash before the state was saved). Then every point left must be in the archive.
        let partial_delete = after_cut || (!complete && now.archived_points() < archived.points);
        if partial_delete && archived.exact.is_none() {
            archived = self.read_back(seg, true)?;
            now = self.refetch(seg, &archived)?;
        }
        if partial_delete {
            if now.not_archived_points > 0 || now.outside > 0 {
                bail!(
                    "{} of the {} points left in the range of the archived series are not in the archive (written \
                     since it was made): not purging",
                    now.not_archived_points + now.outside,
                    now.archived_points()
                );
            }
        } else if !complete {
            bail!("{}: not purging", self.difference(&archived, &now));
        }
        let mut not_archived: Vec<String> = now
            .unarchived
            .values()
            .map(|(key, points)| format!("{} ({points} points seen in the range)", exact_selector(key)))
            .collect();
        // Only archived series with points left are deleted: after an interrupted delete some
        // are gone already.
        let mut left: Vec<(&SeriesKey, u64)> = archived
            .held
            .series
            .iter()
            .filter_map(|(h, (key, _))| now.per_series.get(h).filter(|&&n| n > 0).map(|&n| (key, n)))
            .collect();
        // In a stable order: records and logs that can be compared, deletes that can be replayed.
        left.sort_by_key(|&(key, _)| exact_selector(key));
        if left.is_empty() && archived.points > 0 {
            crate::log::info(
                "purge",
                Some(seg.id.as_str()),
                "no archived point is left in the range; nothing to delete",
                &[],
            );
            let state = if self.limits.dry_run {
                PurgeState::DryRun
            } else if not_archived.is_empty() {
                PurgeState::Purged
            } else {
                PurgeState::Partial
            };
            return Ok(info(state, Vec::new(), 0, not_archived));
        }
        // Gate 3: what the deletes would reach.
        let (start, end) = seg.warp10_range()?;
        let listing = with_retries(client.retries(), "purge", || {
            client.delete(&self.write_token, &seg.selector, start, end, true)
        })
        .context("listing what the segment's selector reaches (dry-run delete)")?;
        self.check_scopes(seg, &listing.series)?;
        if archived.points == 0 && !listing.series.is_empty() && now.unarchived.is_empty() {
            bail!(
                "the archive holds no point while Warp 10 lists {} series for {}: nothing was deleted (an empty \
                 range, or an answer cut to nothing when it was archived); not purging",
                listing.series.len(),
                seg.selector
            );
        }
        let mut plan: Vec<(&SeriesKey, u64, Vec<SeriesHash>)> = Vec::new();
        for (key, points) in left {
            let selector = exact_selector(key);
            let reach = with_retries(client.retries(), "purge", || {
                client.delete(&self.write_token, &selector, start, end, true)
            })
            .with_context(|| format!("listing what {selector} reaches (dry-run delete)"))?;
            // A selector also matches series with more labels: deleting this one exactly may
            // reach others, allowed only when each is archived or holds no point in the range.
            let mut blocked = None;
            for other in &reach.series {
                if !archived.held.series.contains_key(&SeriesHash::of(other)) {
                    let points = self.points_of(seg, other)?;
                    if points > 0 {
                        blocked = Some(format!(
                            "{selector} (deleting it would also reach {}, which has {points} points in the range and \
                             is not archived)",
                            exact_selector(other)
                        ));
                        break;
                    }
                }
            }
            match blocked {
                None => plan.push((key, points, reach.series.iter().map(SeriesHash::of).collect())),
                Some(why) => not_archived.push(why),
            }
        }
        not_archived.sort();
        let points: u64 = plan.iter().map(|(_, n, _)| n).sum();
        let names: Vec<String> = plan.iter().map(|(key, _, _)| exact_selector(key)).collect();
        // Gate 4: the run's budget.
        self.reserve(points, plan.len() as u64)?;
        let state = if not_archived.is_empty() {
            PurgeState::Purged
        } else {
            PurgeState::Partial
        };
        if self.limits.dry_run {
            return Ok(info(PurgeState::DryRun, names, points, not_archived));
        }
        if plan.is_empty() {
            return Ok(info(state, names, 0, not_archived));
        }
        lock.as_ref()
            .expect("a purge that deletes holds its lock")
            .refresh()
            .context("the segment lock is no longer fresh: not deleting")?;
        self.mark(seg)?;
        crate::exit::failpoint("purge-before-delete");
        // From here on a failure, even one after a complete delete, leaves the range in an
        // unknown state: only the purge-unknown path (every point left must be archived) may
        // finish it, since the range no longer equals the archive.
        let deleted: HashSet<SeriesHash> = plan.iter().map(|(key, _, _)| SeriesHash::of(key)).collect();
        self.delete(seg, &plan, &archived, &deleted).context(Unknown)?;
        Ok(info(state, names, points, not_archived))
    }

    /// Points of exactly series `key` in the segment's range, fetched with its own selector: a
    /// request shaped unlike the window re-fetch, which cannot vouch for series it did not archive.
    fn points_of(&self, seg: &Segment, key: &SeriesKey) -> Result<u64> {
        let (start, end) = seg.warp10_range()?;
        let selector = exact_selector(key);
        let wanted = SeriesHash::of(key);
        with_retries(self.client.retries(), "purge", || {
            let body = self
                .client
                .fetch(&self.read_token, &selector, start, end, seg.time_unit.per_second())?;
            let mut n = 0;
            check_stream(body.reader, start, end, &mut std::io::sink(), |_, h, _| {
                n += u64::from(*h == wanted);
                Ok(())
            })?;
            Ok(n)
        })
        .with_context(|| format!("counting the points of {selector}"))
    }

    /// Why the re-fetch and the archive differ, for the error message.
    fn difference(&self, archived: &Archived, now: &Now) -> String {
        if now.outside > 0 {
            return format!(
                "Warp 10 and the archive differ: Warp 10 holds {} points of archived series at times the archive has \
                 none of (a late write, or a short answer when it was archived)",
                now.outside
            );
        }
        match archived.held.grid.first_difference(&now.grid) {
            Some((first, last, ours, theirs)) => format!(
                "Warp 10 and the archive differ: between {first} and {last} (platform units) Warp 10 holds {} points \
                 of the archived series (digest {}), the archive {} (digest {}) (a late write, or a short answer when \
                 it was archived)",
                theirs.points, theirs.digest, ours.points, ours.digest
            ),
            None => "Warp 10 and the archive differ".to_string(),
        }
    }

    /// The write token may reach series the read token cannot see (tokens of different scopes):
    /// their points were never fetched, so never archived, and the read-side evidence says
    /// nothing of them.
    fn check_scopes(&self, seg: &Segment, listed: &[SeriesKey]) -> Result<()> {
        let readable: HashSet<SeriesHash> = self
            .client
            .find(&self.read_token, &seg.selector)
            .context("listing the series the read token sees (find)")?
            .iter()
            .map(SeriesHash::of)
            .collect();
        if let Some(key) = listed.iter().find(|k| !readable.contains(&SeriesHash::of(k))) {
            bail!(
                "the delete would reach series {} which the read token cannot see (read and write tokens of \
                 different scopes?): its points were never archived; not purging",
                exact_selector(key)
            );
        }
        Ok(())
    }

    /// Writes the purge marker: from now on the destination's archive of this segment may be
    /// the only copy of its points, and `upload` refuses to replace it.
    fn mark(&self, seg: &Segment) -> Result<()> {
        let key = crate::layout::marker_key(&seg.id);
        let body = serde_json::json!({
            "segment": seg.id.as_str(),
            "selector": seg.selector,
            "start": seg.start,
            "end": seg.end,
            "warp10_url": seg.warp10_url,
            "at": jiff::Timestamp::now(),
        });
        self.store
            .put_bytes(&key, format!("{body}\n").as_bytes(), &Meta::new())
            .with_context(|| format!("writing the purge marker {}", self.store.url(&key)))
    }

    /// The deletes, one exact selector per archived series, each listing read to the end and
    /// equal to its dry run's; then the windows read back until no point of a deleted series is
    /// left.
    fn delete(
        &self,
        seg: &Segment,
        plan: &[(&SeriesKey, u64, Vec<SeriesHash>)],
        archived: &Archived,
        deleted: &HashSet<SeriesHash>,
    ) -> Result<()> {
        let (start, end) = seg.warp10_range()?;
        for (i, (key, _, reach)) in plan.iter().enumerate() {
            let selector = exact_selector(key);
            let listing = self.client.delete(&self.write_token, &selector, start, end, false)?;
            if i == 0 {
                crate::exit::failpoint("purge-after-delete");
            }
            let touched: HashSet<SeriesHash> = listing.series.iter().map(SeriesHash::of).collect();
            if touched != reach.iter().copied().collect() {
                bail!(
                    "the delete of {selector} reached {} series, its dry run {}: the series set changed in between",
                    touched.len(),
                    reach.len()
                );
            }
        }
        self.wait_until_gone(seg, archived, deleted)
    }

    /// Re-fetches the segment's range in the windows of the archive's grid and sorts every
    /// point: archived series onto the grid (counting, with an exact set, points the archive
    /// lacks), other series aside.
    fn refetch(&self, seg: &Segment, archived: &Archived) -> Result<Now> {
        let (start, end) = seg.warp10_range()?;
        let grid = &archived.held.grid;
        let mut now = Now {
            grid: grid.empty_like(),
            per_series: HashMap::new(),
            outside: 0,
            not_archived_points: 0,
            unarchived: HashMap::new(),
        };
        for (lo, hi) in grid.windows(start, end) {
            // A retried window starts over: only a complete answer is added.
            let window = with_retries(self.client.retries(), "purge", || {
                let mut w = Now {
                    grid: grid.empty_like(),
                    per_series: HashMap::new(),
                    outside: 0,
                    not_archived_points: 0,
                    unarchived: HashMap::new(),
                };
                let body = self
                    .client
                    .fetch(&self.read_token, &seg.selector, lo, hi, seg.time_unit.per_second())?;
                check_stream(body.reader, lo, hi, &mut std::io::sink(), |key, h, p| {
                    if archived.held.series.contains_key(h) {
                        *w.per_series.entry(*h).or_default() += 1;
                        if !w.grid.add(h, p) {
                            w.outside += 1;
                        }
                        if archived.exact.as_ref().is_some_and(|set| !set.contains(h, p)) {
                            w.not_archived_points += 1;
                        }
                    } else {
                        w.unarchived.entry(*h).or_insert_with(|| (key.clone(), 0)).1 += 1;
                    }
                    Ok(())
                })?;
                Ok(w)
            })
            .with_context(|| format!("re-fetching the window [{lo}, {hi}] of the source range"))?;
            now.grid.merge(&window.grid);
            for (h, n) in window.per_series {
                *now.per_series.entry(h).or_default() += n;
            }
            now.outside += window.outside;
            now.not_archived_points += window.not_archived_points;
            for (h, (key, n)) in window.unarchived {
                now.unarchived.entry(h).or_insert_with(|| (key, 0)).1 += n;
            }
        }
        Ok(now)
    }

    fn reserve(&self, points: u64, series: u64) -> Result<()> {
        let mut used = self.used.lock().expect("budget lock");
        if let Some(max) = self.limits.max_delete_points
            && used.points + points > max
        {
            bail!(
                "deleting {points} more points would exceed --max-delete-points {max} ({} already this run)",
                used.points
            );
        }
        if let Some(max) = self.limits.max_delete_series
            && used.series + series > max
        {
            bail!(
                "deleting {series} more series would exceed --max-delete-series {max} ({} already this run)",
                used.series
            );
        }
        used.points += points;
        used.series += series;
        Ok(())
    }

    /// Polls the range until no deleted series has a point left: distributed Warp 10 deletes
    /// asynchronously.
    fn wait_until_gone(&self, seg: &Segment, archived: &Archived, deleted: &HashSet<SeriesHash>) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(self.limits.settle_timeout);
        let mut pause = Duration::from_millis(200);
        loop {
            let now = self.refetch(seg, archived)?;
            let left: u64 = now
                .per_series
                .iter()
                .filter(|(h, _)| deleted.contains(h))
                .map(|(_, n)| n)
                .sum();
            if left == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{left} points of deleted series are still in the range {}s after the delete",
                    self.limits.settle_timeout
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// Gate 1: the archive object, read back from the destination and decoded now, and the
    /// manifest object `restore` will read. Checks that the record's upload key is the one
    /// derived from the id, then everything `verify_remote` checks, and collects the archived
    /// series and the archive's grid (and, after an interrupted delete, the exact points).
    fn read_back(&self, seg: &Segment, exact: bool) -> Result<Archived> {
        let verified = seg.verify.as_ref().is_some_and(|v| v.scope == VerifyScope::Remote);
        let (Some(upload), Some(archive), true) = (&seg.upload, &seg.archive, verified) else {
            bail!(
                "segment {} is not verified in the destination (upload, then verify, first): not purging",
                seg.id
            );
        };
        let dest = self.store.url("");
        if !self.store.destination().is(&upload.dest) {
            bail!(
                "segment {} was uploaded to {}, not to --dest {dest}: not purging",
                seg.id,
                upload.dest
            );
        }
        let key = crate::layout::data_key(&seg.id, archive)?;
        if upload.key != key {
            bail!(
                "segment {}: upload.key {:?} is not the key derived from its id ({key})",
                seg.id,
                upload.key
            );
        }
        self.check_committed(seg)?;
        let (start, end) = seg.warp10_range()?;
        let mut set = exact.then(PointSet::default);
        let mut first = true;
        let held = archived_grid(start, end, |visit| {
            let collect = std::mem::take(&mut first);
            crate::stage::verify::verify_remote(seg, self.store.as_ref(), self.key.as_ref(), |k, h, p| {
                if collect && let Some(set) = set.as_mut() {
                    set.insert(h, p);
                }
                visit(k, h, p)
            })
            .map(|_| ())
        })?;
        if let Some(set) = set.as_mut() {
            set.seal();
        }
        let fetch = seg.fetch.as_ref().expect("verify_remote checked the fetch section");
        Ok(Archived {
            points: fetch.points,
            held,
            exact: set,
        })
    }

    /// The manifest object in the destination is the one `restore` will read: it must parse, be
    /// this segment's, and describe exactly this archive. A purge that leaves a segment `restore`
    /// cannot read has lost its points.
    fn check_committed(&self, seg: &Segment) -> Result<()> {
        let url = self.store.url(&crate::layout::manifest_key(&seg.id));
        let committed = crate::layout::read_manifest(self.store.as_ref(), &seg.id)
            .map_err(|e| Mismatch(format!("{e:#}: restore could not read it; not purging")))?
            .ok_or_else(|| {
                Mismatch(format!(
                    "manifest object {url} is missing: restore could not find the segment; not purging"
                ))
            })?;
        let identity = |s: &Segment| (s.selector.clone(), s.start, s.end, s.warp10_url.clone(), s.time_unit);
        let archive = |s: &Segment| {
            let f = s.fetch.as_ref().map(|f| (f.points, f.series, f.digest));
            let a = s
                .archive
                .as_ref()
                .map(|a| (a.codec.clone(), a.size, a.blake3.clone(), a.key_id.clone()));
            let u = s
                .upload
                .as_ref()
                .map(|u| (u.key.clone(), u.manifest_key.clone(), u.size, u.blake3.clone()));
            (f, a, u)
        };
        if identity(&committed) != identity(seg) {
            return Err(Mismatch(format!(
                "manifest object {url} describes {} {} .. {} from {}, not this segment: restore would not find its \
                 data; not purging",
                committed.selector, committed.start, committed.end, committed.warp10_url
            ))
            .into());
        }
        if archive(&committed) != archive(seg) {
            return Err(Mismatch(format!(
                "manifest object {url} does not describe the archive this record verified (counts, digest, codec, \
                 size, BLAKE3 or keys differ): restore would fail; not purging"
            ))
            .into());
        }
        Ok(())
    }
}

fn info(state: PurgeState, series: Vec<String>, points: u64, not_archived: Vec<String>) -> PurgeInfo {
    PurgeInfo {
        state,
        series,
        points,
        not_archived,
        at: jiff::Timestamp::now(),
    }
}
