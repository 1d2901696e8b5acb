//! `purge`: deletes a segment's range from Warp 10 — only after proving, right before the
//! delete, that the archive in the destination holds exactly what Warp 10 holds.
//!
//! The gates (DESIGN.md "Purge safety gates"), in order, per segment:
//! 1. the archive object is read back now and verified (size, BLAKE3, decoded count and digest
//!    against the fetch); a record saying "verified" is not enough, records can be edited;
//! 2. the source range is fetched again and must still equal the archive (a late write stops
//!    the purge); after an interrupted delete, every point left must be in the archive;
//! 3. a `dryrun` delete with the same selector and range may list only archived series, or
//!    series that have no point in the range;
//! 4. `--max-delete-points` / `--max-delete-series` for the run are not exceeded.
//!
//! Then the delete, its listing read to the end, and a fetch of the range that must come back
//! empty (polled, for asynchronous deployments). Any failure once the delete is sent (a cut
//! response, a failed read-back) leaves the segment `purge-unknown`.

use crate::cli::{GlobalOpts, PurgeArgs};
use crate::cmd::fetch::{StreamStats, check_stream};
use crate::cmd::{Action, run_stage};
use crate::digest::{Digest, PointSet, SeriesHash};
use crate::exit::Tally;
use crate::lock::{Lock, LockOpts};
use crate::manifest::{PurgeInfo, Segment};
use crate::secret::Secret;
use crate::store::Store;
use crate::warp10::{Client, Clients, DeleteListing, with_retries};
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
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

pub const PURGED: &str = "purged";
pub const DRY_RUN: &str = "dry-run";
pub const UNKNOWN: &str = "purge-unknown";

pub fn run(_g: &GlobalOpts, a: PurgeArgs) -> Result<Tally> {
    let purger = Purger::new(&a)?;
    run_stage(
        crate::cmd::stdin(),
        a.jobs,
        |seg| purger.decide(seg),
        |seg| purger.purge_segment(seg),
    )
}

/// What the archive holds, read back from the destination just now.
struct Archived {
    points: u64,
    digest: Digest,
    series: HashSet<SeriesHash>,
    /// Only after an interrupted delete: exactly which points are archived.
    exact: Option<PointSet>,
}

/// Per-run delete budget (`--max-delete-points`, `--max-delete-series`).
#[derive(Default)]
struct Budget {
    points: u64,
    series: u64,
}

pub struct Purger<'a> {
    a: &'a PurgeArgs,
    lock: LockOpts,
    store: Box<dyn Store>,
    key: Option<crate::archive::crypt::MasterKey>,
    read_token: Secret,
    write_token: Secret,
    clients: Clients,
    used: Mutex<Budget>,
    max_clock_skew_s: i64,
}

impl<'a> Purger<'a> {
    pub fn new(a: &'a PurgeArgs) -> Result<Purger<'a>> {
        crate::store::init_tls(&a.s3)?;
        Ok(Purger {
            a,
            lock: a.gates.lock.opts()?,
            store: crate::store::open(&a.dest, &a.s3)?,
            key: a
                .key_file
                .as_deref()
                .map(crate::archive::crypt::MasterKey::load)
                .transpose()?,
            read_token: crate::secret::read_token(a.read_token_file.as_deref())?,
            write_token: crate::secret::write_token(a.write_token_file.as_deref())?,
            clients: Clients::new(&a.http),
            used: Mutex::new(Budget::default()),
            max_clock_skew_s: crate::time::parse_duration_secs(&a.max_clock_skew).context("--max-clock-skew")?,
        })
    }

    /// Failed segments pass through; purged ones too. Dry-run and purge-unknown ones are redone.
    pub fn decide(&self, seg: &Segment) -> Action {
        let done = seg.purge.as_ref().is_some_and(|p| p.state == PURGED);
        if seg.error.is_some() || done {
            Action::Pass
        } else {
            Action::Work
        }
    }

    pub fn purge_segment(&self, mut seg: Segment) -> Segment {
        let started = Instant::now();
        match self.purge(&seg) {
            Ok(info) => {
                crate::log::info(
                    "purge",
                    Some(seg.id.as_str()),
                    &info.state,
                    &[
                        ("points", info.points.into()),
                        ("series", info.series.len().into()),
                        ("duration_ms", (started.elapsed().as_millis() as u64).into()),
                    ],
                );
                seg.purge = Some(info);
            }
            Err(e) => {
                let e = e.context(format!("purging segment {}", seg.id));
                // `downcast_ref`, not `chain()`: `Unknown` is a context layer, which `chain()`
                // shows only as its message.
                if e.downcast_ref::<Unknown>().is_some() {
                    seg.purge = Some(PurgeInfo {
                        state: UNKNOWN.to_string(),
                        series: Vec::new(),
                        points: 0,
                        at: jiff::Timestamp::now(),
                    });
                }
                crate::cmd::record_failure(&mut seg, "purge", &e);
            }
        }
        seg
    }

    fn purge(&self, seg: &Segment) -> Result<PurgeInfo> {
        let lock = Lock::acquire(self.store.as_ref(), &seg.id, self.lock)?;
        let after_cut = seg.purge.as_ref().is_some_and(|p| p.state == UNKNOWN);
        let client = self.clients.get(&seg.warp10_url)?;
        client.check_clock(self.max_clock_skew_s)?;
        // Gate 1: the archive, read back now.
        let mut archived = self.read_back(seg, after_cut)?;
        let (start, end) = seg.warp10_range()?;
        // Gate 2: the source still equals the archive.
        let (mut now, mut not_archived) = self.compare(&client, seg, &archived)?;
        // Fewer points than archived: a delete was applied in part before (a cut response, or a
        // crash before the state was saved). Then every point left must be in the archive.
        let partial = after_cut || (now.points < archived.points && now.digest != archived.digest);
        if partial && archived.exact.is_none() {
            archived = self.read_back(seg, true)?;
            (now, not_archived) = self.compare(&client, seg, &archived)?;
        }
        if now.points == 0 && archived.points > 0 {
            crate::log::info(
                "purge",
                Some(seg.id.as_str()),
                "the range is already empty; nothing to delete",
                &[],
            );
            let state = if self.a.gates.dry_run { DRY_RUN } else { PURGED };
            return Ok(PurgeInfo {
                state: state.to_string(),
                series: Vec::new(),
                points: 0,
                at: jiff::Timestamp::now(),
            });
        }
        if partial {
            if not_archived > 0 {
                bail!(
                    "{not_archived} of the {} points left in the range are not in the archive (written since it was made): not purging",
                    now.points
                );
            }
        } else if now.digest != archived.digest || now.points != archived.points {
            bail!(
                "the source changed since it was archived: Warp 10 now holds {} points (digest {}), the archive {} (digest {}); \
                 a late write into the range? not purging",
                now.points,
                now.digest,
                archived.points,
                archived.digest
            );
        }
        // Gate 3: the delete would touch only archived series (or series empty in the range).
        let listing = with_retries(client.retries(), "purge", || {
            client.delete(&self.write_token, &seg.selector, start, end, true)
        })
        .context("listing what the delete would touch (dry-run delete)")?;
        // The write token may reach series the read token cannot see (tokens of different
        // scopes): their points were never fetched, so never archived.
        let readable: HashSet<SeriesHash> = client
            .find(&self.read_token, &seg.selector)
            .context("listing the series the read token sees (find)")?
            .iter()
            .map(SeriesHash::of)
            .collect();
        let mut names = Vec::with_capacity(listing.series.len());
        for key in &listing.series {
            let h = SeriesHash::of(key);
            if !readable.contains(&h) {
                bail!(
                    "the delete would reach series {} which the read token cannot see (read and write tokens of \
                     different scopes?): its points were never archived; not purging",
                    crate::gts::selector::exact_selector(key)
                );
            }
            if !archived.series.contains(&h) && now.series.contains(&h) {
                bail!(
                    "the delete would reach series {} which has points in the range but is not in the archive: not purging",
                    crate::gts::selector::exact_selector(key)
                );
            }
            names.push(crate::gts::selector::exact_selector(key));
        }
        // Gate 4: the run's budget.
        self.reserve(now.points, listing.series.len() as u64)?;
        if self.a.gates.dry_run {
            return Ok(PurgeInfo {
                state: DRY_RUN.to_string(),
                series: names,
                points: now.points,
                at: jiff::Timestamp::now(),
            });
        }
        lock.refresh()
            .context("the segment lock is no longer fresh: not deleting")?;
        crate::exit::failpoint("purge-before-delete");
        // From here on a failure, even one after a complete delete, leaves the range in an
        // unknown state: only the purge-unknown path (every point left must be archived) may
        // finish it, since the range no longer equals the archive.
        self.delete(&client, seg, &listing).context(Unknown)?;
        Ok(PurgeInfo {
            state: PURGED.to_string(),
            series: names,
            points: now.points,
            at: jiff::Timestamp::now(),
        })
    }

    /// The delete itself: its listing read to the end and equal to the dry run's, then the
    /// range read back empty.
    fn delete(&self, client: &Client, seg: &Segment, listing: &DeleteListing) -> Result<()> {
        let (start, end) = seg.warp10_range()?;
        let deleted = client.delete(&self.write_token, &seg.selector, start, end, false)?;
        crate::exit::failpoint("purge-after-delete");
        let listed: HashSet<SeriesHash> = listing.series.iter().map(SeriesHash::of).collect();
        let touched: HashSet<SeriesHash> = deleted.series.iter().map(SeriesHash::of).collect();
        if listed != touched {
            bail!(
                "the delete listed {} series, the dry run {}: the series set changed in between",
                touched.len(),
                listed.len()
            );
        }
        self.wait_until_empty(client, seg)
    }

    /// Re-fetches the range; counts the points that are not in the archive when the archive's
    /// exact point set was read.
    fn compare(&self, client: &Client, seg: &Segment, archived: &Archived) -> Result<(StreamStats, u64)> {
        let mut not_archived = 0u64;
        let now = self.refetch(client, seg, |h, p| {
            if archived.exact.as_ref().is_some_and(|set| !set.contains(h, p)) {
                not_archived += 1;
            }
        })?;
        Ok((now, not_archived))
    }

    fn refetch(
        &self,
        client: &Client,
        seg: &Segment,
        on_point: impl FnMut(&SeriesHash, &crate::gts::Point),
    ) -> Result<StreamStats> {
        let (start, end) = seg.warp10_range()?;
        let mut on_point = on_point;
        with_retries(client.retries(), "purge", || {
            let body = client.fetch(&self.read_token, &seg.selector, start, end, seg.time_unit.per_second())?;
            check_stream(body.reader, start, end, &mut std::io::sink(), |_, h, p| {
                on_point(h, p);
                Ok(())
            })
        })
        .context("re-fetching the source range")
    }

    fn reserve(&self, points: u64, series: u64) -> Result<()> {
        let mut used = self.used.lock().expect("budget lock");
        if let Some(max) = self.a.gates.max_delete_points
            && used.points + points > max
        {
            bail!(
                "deleting {points} more points would exceed --max-delete-points {max} ({} already this run)",
                used.points
            );
        }
        if let Some(max) = self.a.gates.max_delete_series
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

    /// Polls the range until it is empty: distributed Warp 10 deletes asynchronously.
    fn wait_until_empty(&self, client: &Client, seg: &Segment) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(self.a.gates.settle_timeout);
        let mut pause = Duration::from_millis(200);
        loop {
            let left = self.refetch(client, seg, |_, _| {})?.points;
            if left == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{left} points are still in the range {}s after the delete",
                    self.a.gates.settle_timeout
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}

impl Purger<'_> {
    /// Gate 1: the archive object, read back from the destination and decoded now. Checks
    /// that the record's upload key is the one derived from the id, then everything
    /// `verify_remote` checks, and collects the archived series (and, after an interrupted
    /// delete, the exact points).
    fn read_back(&self, seg: &Segment, exact: bool) -> Result<Archived> {
        let verified = seg.verify.as_ref().is_some_and(|v| v.scope == "remote");
        let (Some(upload), Some(archive), true) = (&seg.upload, &seg.archive, verified) else {
            bail!(
                "segment {} is not verified in the destination (upload, then verify, first): not purging",
                seg.id
            );
        };
        let dest = self.store.url("");
        if upload.dest != dest {
            bail!(
                "segment {} was uploaded to {}, not to --dest {dest}: not purging",
                seg.id,
                upload.dest
            );
        }
        let key = crate::cmd::upload::data_key(&seg.id, archive)?;
        if upload.key != key {
            bail!(
                "segment {}: upload.key {:?} is not the key derived from its id ({key})",
                seg.id,
                upload.key
            );
        }
        let mut series = HashSet::new();
        let mut set = exact.then(PointSet::default);
        crate::cmd::verify::verify_remote(seg, self.store.as_ref(), self.key.as_ref(), |h, p| {
            series.insert(*h);
            if let Some(set) = set.as_mut() {
                set.insert(h, p);
            }
        })?;
        if let Some(set) = set.as_mut() {
            set.seal();
        }
        let fetch = seg.fetch.as_ref().expect("verify_remote checked the fetch section");
        Ok(Archived {
            points: fetch.points,
            digest: fetch.digest,
            series,
            exact: set,
        })
    }
}
