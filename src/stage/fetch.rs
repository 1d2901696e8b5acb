//! `fetch`: streams each segment from `/api/v0/fetch`, parses every line strictly while
//! streaming, counts and digests the points, and spools the text atomically to the work dir.

use super::{Stage, compress};
use crate::archive::Encoder;
use crate::gts::stream::{StreamStats, check_stream};
use crate::gts::{Geo, Point, SeriesKey, Value};
use crate::manifest::{ArchiveInfo, FetchInfo, Segment, StageName};
use crate::retry::with_retries;
use crate::secret::Secret;
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
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
                let stats = parse_beside_encoder(body.reader, start, end, enc)?;
                Ok(fetch_info(seg, &stats))
            })?;
            Ok((info, Some(archive)))
        }
    }
}

/// Points parsed and not yet encoded, in columns: half the memory of as many `Point`s (geo
/// and elevation are rare), which is what bounds how far the parser may run ahead.
#[derive(Default)]
struct Batch {
    /// `(i, key)`: series `key` starts at point `i` of the batch (the first entry may start
    /// later: the batch then continues the previous batch's series).
    series: Vec<(usize, SeriesKey)>,
    ts: Vec<i64>,
    values: Vec<Value>,
    /// `(i, geo, elevation)` of the points that have either.
    extras: Vec<(usize, Option<Geo>, Option<i64>)>,
}

impl Batch {
    /// Room for a whole batch at once: growing it point by point copied it over and over.
    fn new() -> Batch {
        Batch {
            ts: Vec::with_capacity(BATCH),
            values: Vec::with_capacity(BATCH),
            ..Batch::default()
        }
    }

    fn push(&mut self, p: &Point) {
        if p.geo.is_some() || p.elev.is_some() {
            self.extras.push((self.ts.len(), p.geo, p.elev));
        }
        self.ts.push(p.ts);
        self.values.push(p.value.clone());
    }

    fn clear(&mut self) {
        self.series.clear();
        self.ts.clear();
        self.values.clear();
        self.extras.clear();
    }
}

/// Points per batch handed from the parser to the encoder, and batches in flight: a quarter
/// of a block (`columnar::BLOCK_POINTS`), so that the parser keeps reading for a while when the
/// encoder compresses a block instead of stalling the stream at once. `all` of 1 x 1d of D1,
/// `--jobs 2`, medians of 5 runs: 16 batches 2.45 s wall, 64 1.88 s (with 256 Ki-point blocks).
const BATCH: usize = 4096;
const BATCHES: usize = 64;

/// Parses the fetch body on a thread of its own while the calling thread encodes, so that one
/// segment keeps two cores busy (strict parsing with the digest costs a little more than
/// encoding). Batches travel through a bounded channel and come back empty to be refilled. The
/// encoder's error comes first: when it stops, the parser stops too, with a mere "the encoder
/// stopped".
fn parse_beside_encoder<W: std::io::Write>(
    body: impl std::io::BufRead + Send,
    start: i64,
    end: i64,
    enc: &mut Encoder<W>,
) -> Result<StreamStats> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(BATCHES);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    // The body is read on the parser's thread: its request line names the segment too.
    let segment = crate::log::segment();
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let parse = || {
                let mut last = None;
                let mut batch = Batch::new();
                let stopped = || anyhow::anyhow!("the encoder stopped");
                let stats = check_stream(body, start, end, &mut std::io::sink(), |key, hash, p| {
                    if last != Some(*hash) {
                        batch.series.push((batch.ts.len(), key.clone()));
                        last = Some(*hash);
                    }
                    batch.push(p);
                    if batch.ts.len() >= BATCH {
                        let next = empty_rx.try_recv().unwrap_or_else(|_| Batch::new());
                        full_tx
                            .send(std::mem::replace(&mut batch, next))
                            .map_err(|_| stopped())?;
                    }
                    Ok(())
                })?;
                full_tx.send(batch).map_err(|_| stopped())?;
                Ok(stats)
            };
            match &segment {
                Some(id) => crate::log::in_segment(id, parse),
                None => parse(),
            }
        });
        let encoded = encode_batches(enc, full_rx, &empty_tx);
        let parsed: Result<StreamStats> = parser.join().expect("the fetch parser panicked");
        encoded?;
        parsed
    })
}

/// The encoder's side of [`parse_beside_encoder`]; returning drops `full`, which stops the parser.
fn encode_batches<W: std::io::Write>(
    enc: &mut Encoder<W>,
    full: mpsc::Receiver<Batch>,
    empty: &mpsc::Sender<Batch>,
) -> Result<()> {
    for mut batch in full {
        let mut series = batch.series.drain(..).peekable();
        let mut extras = batch.extras.iter().peekable();
        for (i, (ts, value)) in batch.ts.iter().zip(batch.values.drain(..)).enumerate() {
            if let Some((_, key)) = series.next_if(|(at, _)| *at == i) {
                enc.begin_series(&key)?;
            }
            let (geo, elev) = match extras.next_if(|(at, _, _)| *at == i) {
                Some(&(_, geo, elev)) => (geo, elev),
                None => (None, None),
            };
            enc.push(&Point {
                ts: *ts,
                geo,
                elev,
                value,
            })?;
        }
        drop(series);
        batch.clear();
        // The parser may be gone already (it sent its last batch).
        let _ = empty.send(batch);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Codec;

    /// Fetch output of `series` series of `points` points each (timestamps `points` down to 1),
    /// with a string, a location or an elevation on some points.
    fn fetch_text(series: usize, points: usize) -> String {
        let mut t = String::new();
        for s in 0..series {
            for ts in (1..=points).rev() {
                let value = match (s % 2, ts % 11) {
                    (_, 0) => format!("'s{ts}'"),
                    (0, _) => format!("{}", ts * 7),
                    _ => format!("{}.25", ts),
                };
                let prefix = match ts % 7 {
                    0 => format!("{ts}/48.5:2.25/{ts}"),
                    3 => format!("{ts}/-33.75:151.5/"),
                    5 => format!("{ts}//-{ts}"),
                    _ => format!("{ts}//"),
                };
                if ts == points {
                    t += &format!("{prefix} m{{s={s}}} {value}\n");
                } else {
                    t += &format!("={prefix} {value}\n");
                }
            }
        }
        t
    }

    #[test]
    fn parsing_beside_the_encoder_writes_what_one_thread_writes() {
        // Several batches, series starting inside batches.
        let text = fetch_text(5, 3 * BATCH + 17);
        let mut two = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
        let stats = parse_beside_encoder(text.as_bytes(), 0, i64::MAX, &mut two).unwrap();
        let mut one = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
        one.encode_text(text.as_bytes()).unwrap();
        assert_eq!((stats.points, stats.series.len()), (5 * (3 * BATCH as u64 + 17), 5));
        assert_eq!(two.finish().unwrap(), one.finish().unwrap());
    }

    #[test]
    fn a_parse_error_ends_both_threads_and_is_the_error() {
        let text = fetch_text(2, BATCH * BATCHES * 3) + "=0// x\n";
        let mut enc = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
        let err = format!(
            "{:#}",
            parse_beside_encoder(text.as_bytes(), 0, i64::MAX, &mut enc).unwrap_err()
        );
        let line = 2 * BATCH * BATCHES * 3 + 1;
        assert!(err.contains(&format!("fetch output line {line}")), "{err}");
    }
}
