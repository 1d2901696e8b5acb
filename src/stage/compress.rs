//! `compress`: encodes each fetched segment's spool into an archive (optionally encrypted),
//! decodes the written file again and checks points, series and digest against the `fetch`
//! section before recording the `archive` section. The spool is kept (a failed upload can be
//! retried from the archive, a failed compress from the spool) unless `--remove-spool`.

use super::{InRange, Stage};
use crate::archive::crypt::{EncryptWriter, MasterKey};
use crate::archive::{self, Codec, Encoder, Hashed};
use crate::manifest::{ArchiveInfo, FetchInfo, Segment, StageName};
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::sync::mpsc;
use std::time::Instant;

pub struct Options {
    pub codec: Codec,
    pub level: i32,
    pub key: Option<MasterKey>,
    pub remove_spool: bool,
}

/// The compress stage: spools in the work directory become archives there.
pub struct Compress {
    pub work: WorkDir,
    pub options: Options,
}

impl Stage for Compress {
    fn name(&self) -> StageName {
        StageName::Compress
    }

    fn needed(&self, seg: &Segment) -> bool {
        seg.archive.is_none()
    }

    fn apply(&self, seg: Segment) -> Segment {
        compress_segment(seg, &self.work, &self.options)
    }

    fn uses_destination(&self) -> bool {
        false
    }
}

fn compress_segment(mut seg: Segment, work: &WorkDir, o: &Options) -> Segment {
    let started = Instant::now();
    match compress_once(&seg, work, o) {
        Ok(info) => {
            log_compressed(&seg, &info, started.elapsed().as_millis() as u64);
            if o.remove_spool
                && let Some(f) = &seg.fetch
                && let Err(e) = std::fs::remove_file(work.path(&f.spool))
            {
                crate::log::warn(&format!("segment {}: could not remove spool {}: {e}", seg.id, f.spool));
            }
            seg.set_archive(info);
        }
        Err(e) => {
            let e = e.context(format!("compressing segment {}", seg.id));
            crate::stage::record_failure(&mut seg, StageName::Compress, &e);
        }
    }
    seg
}

pub fn log_compressed(seg: &Segment, info: &ArchiveInfo, duration_ms: u64) {
    crate::log::info(
        "compress",
        Some(seg.id.as_str()),
        "compressed",
        &[
            ("codec", info.codec.clone().into()),
            ("bytes", info.size.into()),
            ("bytes_per_point", info.bytes_per_point.into()),
            ("duration_ms", duration_ms.into()),
        ],
    );
}

fn compress_once(seg: &Segment, work: &WorkDir, o: &Options) -> Result<ArchiveInfo> {
    let fetch = seg
        .fetch
        .as_ref()
        .context("the segment has no fetch section: run fetch first")?;
    let spool_path = work.path(&fetch.spool);
    let spool = File::open(&spool_path).with_context(|| format!("opening spool {}", spool_path.display()))?;
    let spool = BufReader::with_capacity(1 << 20, spool);
    let (_, info) = write_archive(seg, work, o, |enc| {
        enc.encode_text(spool).context("encoding the spool")?;
        Ok(fetch.clone())
    })?;
    Ok(info)
}

/// Where an archive is written: the file, or an encryption envelope around it.
pub enum Sink<'f> {
    Plain(BufWriter<Tee<'f>>),
    Sealed(Box<EncryptWriter<BufWriter<Tee<'f>>>>),
}

/// Chunks of written bytes queued for the checker: a few MiB per segment.
const CHECK_CHUNKS: usize = 4;

/// Writes to the file and sends a copy of what the file took to the checker. The checker reads
/// to the end even after a decoding error (it hashes every byte), so a failed send means it
/// panicked, which joining it reports.
pub struct Tee<'f> {
    file: &'f mut File,
    copy: mpsc::SyncSender<Vec<u8>>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        let copy = buf[..n].to_vec();
        #[cfg(test)]
        let copy = tests::damaged(copy);
        let _ = self.copy.send(copy);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Reads the chunks a [`Tee`] sends, in order, until its sender is dropped.
struct ChunkReader {
    chunks: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ChunkReader {
    fn new(chunks: mpsc::Receiver<Vec<u8>>) -> Self {
        ChunkReader {
            chunks,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.chunks.recv() {
                Ok(chunk) => (self.chunk, self.pos) = (chunk, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Sealed(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Sealed(w) => w.flush(),
        }
    }
}

impl Sink<'_> {
    /// Writes what is buffered (and the final encrypted chunk).
    fn close(self) -> Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush()?,
            Sink::Sealed(w) => (*w).finish().context("finishing encryption")?.flush()?,
        }
        Ok(())
    }
}

/// Writes the archive of `seg` atomically. `feed` encodes the points and returns the fetch they
/// came from; the bytes written are decoded again and must hold exactly those points, series
/// and digest (restic learned this from a compressor bug), all inside the segment's range,
/// before the file takes its place.
/// The check decodes on a thread of its own while the archive is written, from a copy of every
/// byte handed to the file, so that it overlaps encoding instead of following it. (What reached
/// the disk is hashed again by `upload` and must have the BLAKE3 recorded here.)
pub fn write_archive(
    seg: &Segment,
    work: &WorkDir,
    o: &Options,
    feed: impl for<'f> FnOnce(&mut Encoder<Sink<'f>>) -> Result<FetchInfo>,
) -> Result<(FetchInfo, ArchiveInfo)> {
    let rel = WorkDir::archive_rel(&seg.id, o.codec.extension());
    let path = work.path(&rel);
    let mut in_range = InRange::of(seg)?;
    let (fetch, size, blake3) = WorkDir::write_atomic(&path, |file| {
        std::thread::scope(|scope| {
            let (copy, copies) = mpsc::sync_channel(CHECK_CHUNKS);
            let checker = scope.spawn(move || {
                let mut written = Hashed::new(ChunkReader::new(copies));
                let summary =
                    archive::summarize_with(&mut written, o.key.as_ref(), &seg.id, |_, _, p| in_range.see(p.ts));
                (summary, in_range, written.finish())
            });
            let out = BufWriter::with_capacity(1 << 20, Tee { file: &mut *file, copy });
            let sink = match &o.key {
                Some(key) => Sink::Sealed(Box::new(EncryptWriter::new(out, key, seg.id.as_str())?)),
                None => Sink::Plain(out),
            };
            let mut enc = Encoder::new(o.codec, o.level, sink)?;
            let fetch = feed(&mut enc)?;
            // Closing drops the last copy sender: the checker reads to the end.
            enc.finish()?
                .close()
                .with_context(|| format!("writing {}", path.display()))?;
            let (summary, in_range, hashed) = checker.join().expect("the archive checker panicked");
            let summary = summary.with_context(|| format!("decoding {} again", path.display()))?;
            let what = format!("the new archive {}", path.display());
            in_range.check(seg, &what)?;
            summary.check_against(&fetch, &what)?;
            let (size, blake3) = hashed.with_context(|| format!("reading {} again", path.display()))?;
            Ok((fetch, size, blake3))
        })
    })?;
    let points = fetch.points;
    let info = ArchiveInfo {
        codec: o.codec.name().to_string(),
        path: rel,
        size,
        blake3,
        bytes_per_point: if points == 0 { 0.0 } else { size as f64 / points as f64 },
        key_id: o.key.as_ref().map(MasterKey::key_id_hex),
        at: jiff::Timestamp::now(),
        checked_here: true,
    };
    Ok((fetch, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::crypt::MasterKey;
    use crate::digest::{DigestBuilder, SeriesHash};
    use crate::gts::{Point, SeriesKey, Value};
    use crate::id::{Source, TimeUnit};
    use std::cell::Cell;

    thread_local! {
        /// Offset of a byte to flip in the copy of the archive the checker reads (the file
        /// keeps it intact), counted down as copies go by: a checker that fails to decode.
        static FLIP_IN_COPY: Cell<Option<usize>> = const { Cell::new(None) };
    }

    pub(super) fn damaged(mut copy: Vec<u8>) -> Vec<u8> {
        FLIP_IN_COPY.with(|at| match at.get() {
            Some(i) if i < copy.len() => {
                copy[i] ^= 0x10;
                at.set(None);
            }
            Some(i) => at.set(Some(i - copy.len())),
            None => {}
        });
        copy
    }

    fn segment() -> Segment {
        segment_of_day(1)
    }

    fn segment_of_day(day: u32) -> Segment {
        Segment::new(
            &Source::new("http://127.0.0.1:8080", TimeUnit::Us).unwrap(),
            "~m{}",
            format!("2026-10-{day:02}T00:00:00Z").parse().unwrap(),
            format!("2026-10-{:02}T00:00:00Z", day + 1).parse().unwrap(),
        )
    }

    /// Encodes `n` points of one series (enough for several write chunks) and returns the fetch
    /// section that describes them.
    fn feed(enc: &mut Encoder<Sink<'_>>, seg: &Segment, n: i64) -> Result<FetchInfo> {
        let key = SeriesKey {
            class: "m".into(),
            labels: Default::default(),
        };
        let (start, _) = seg.warp10_range()?;
        let hash = SeriesHash::of(&key);
        let mut digest = DigestBuilder::default();
        enc.begin_series(&key)?;
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..n {
            // Random values (xorshift), so that the archive spans many 1 MiB writes.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = Point {
                ts: start + n - i,
                geo: None,
                elev: None,
                value: Value::Long(x as i64),
            };
            digest.add(&hash, &p);
            enc.push(&p)?;
        }
        Ok(FetchInfo {
            points: n as u64,
            series: 1,
            bytes: 0,
            digest: digest.finish(),
            spool: WorkDir::spool_rel(&seg.id),
            at: jiff::Timestamp::now(),
            duration_ms: 0,
        })
    }

    fn options(key: Option<MasterKey>) -> Options {
        Options {
            codec: Codec::Columnar,
            level: 3,
            key,
            remove_spool: false,
        }
    }

    #[test]
    fn the_check_hashes_and_decodes_what_the_file_holds() {
        let dir = tempfile::tempdir().unwrap();
        let (work, seg) = (WorkDir::new(dir.path()), segment());
        for key in [None, Some(MasterKey::from_bytes([7; 32]))] {
            let (fetch, info) = write_archive(&seg, &work, &options(key), |enc| feed(enc, &seg, 600_000)).unwrap();
            assert_eq!(fetch.points, 600_000);
            let bytes = std::fs::read(work.path(&info.path)).unwrap();
            assert!(bytes.len() > 3 << 20, "{} bytes: too few writes", bytes.len());
            assert!(info.checked_here);
            assert_eq!(
                (info.size, info.blake3),
                (bytes.len() as u64, blake3::hash(&bytes).to_hex().to_string())
            );
        }
    }

    /// The check also holds every point to the segment's range: `all` trusts it for the
    /// uploaded object (see `ArchiveInfo::checked_here`).
    #[test]
    fn an_archive_with_points_outside_the_segment_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let work = WorkDir::new(dir.path());
        let (seg, next_day) = (segment(), segment_of_day(2));
        let err = write_archive(&next_day, &work, &options(None), |enc| feed(enc, &seg, 1_000)).unwrap_err();
        assert!(
            format!("{err:#}").contains("holds 1000 points outside the segment's range [2026-10-02T00:00:00Z"),
            "{err:#}"
        );
        assert!(!work.path(&WorkDir::archive_rel(&next_day.id, "w10a")).exists());
    }

    #[test]
    fn an_archive_that_does_not_hold_the_fetch_is_refused_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (work, seg) = (WorkDir::new(dir.path()), segment());
        let err = write_archive(&seg, &work, &options(None), |enc| {
            let mut fetch = feed(enc, &seg, 300_000)?;
            fetch.points += 1;
            Ok(fetch)
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("300000 points where fetch recorded 300001"),
            "{err:#}"
        );
        let err = write_archive(&seg, &work, &options(None), |enc| {
            feed(enc, &seg, 300_000)?;
            anyhow::bail!("the stream broke")
        })
        .unwrap_err();
        assert_eq!(format!("{err:#}"), "the stream broke");
        let archive = work.path(&WorkDir::archive_rel(&seg.id, Codec::Columnar.extension()));
        assert!(!archive.exists());
    }

    /// A checker that cannot decode what was written (here: a byte flipped in its copy, at the
    /// magic or amid the points) fails the write, whatever the file holds, and leaves no file;
    /// the writer still ends (the checker reads to the end after its error).
    #[test]
    fn an_archive_the_checker_cannot_decode_is_refused_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (work, seg) = (WorkDir::new(dir.path()), segment());
        for key in [None, Some(MasterKey::from_bytes([7; 32]))] {
            let o = options(key);
            let (_, info) = write_archive(&seg, &work, &o, |enc| feed(enc, &seg, 600_000)).unwrap();
            std::fs::remove_file(work.path(&info.path)).unwrap();
            for at in [0, info.size as usize / 2] {
                FLIP_IN_COPY.with(|f| f.set(Some(at)));
                let err = write_archive(&seg, &work, &o, |enc| feed(enc, &seg, 600_000)).unwrap_err();
                let msg = format!("{err:#}");
                assert!(
                    msg.contains("decoding") || msg.contains("where fetch recorded"),
                    "flip at {at}: {msg}"
                );
                assert!(FLIP_IN_COPY.with(Cell::get).is_none(), "the flip at {at} was not made");
                assert!(!work.path(&info.path).exists(), "flip at {at}: the archive was kept");
            }
        }
        assert_eq!(
            std::fs::read_dir(dir.path().join("archive")).unwrap().count(),
            0,
            "temporary files left"
        );
    }
}
