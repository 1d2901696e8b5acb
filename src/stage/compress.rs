//! `compress`: encodes each fetched segment's spool into an archive (optionally encrypted),
//! decodes the written file again and checks points, series and digest against the `fetch`
//! section before recording the `archive` section. The spool is kept (a failed upload can be
//! retried from the archive, a failed compress from the spool) unless `--remove-spool`.

use super::Stage;
use crate::archive::crypt::{EncryptWriter, MasterKey};
use crate::archive::{self, Codec, Encoder, Hashed};
use crate::manifest::{ArchiveInfo, FetchInfo, Segment};
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
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
    fn name(&self) -> &'static str {
        "compress"
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
            crate::stage::record_failure(&mut seg, "compress", &e);
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
    Plain(BufWriter<&'f mut File>),
    Sealed(Box<EncryptWriter<BufWriter<&'f mut File>>>),
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
/// came from; the written file is then decoded again and must hold exactly those points, series
/// and digest (restic learned this from a compressor bug) before it takes its place.
pub fn write_archive(
    seg: &Segment,
    work: &WorkDir,
    o: &Options,
    feed: impl for<'f> FnOnce(&mut Encoder<Sink<'f>>) -> Result<FetchInfo>,
) -> Result<(FetchInfo, ArchiveInfo)> {
    let rel = WorkDir::archive_rel(&seg.id, o.codec.extension());
    let path = work.path(&rel);
    let (fetch, size, blake3) = WorkDir::write_atomic(&path, |file| {
        let out = BufWriter::with_capacity(1 << 20, &mut *file);
        let sink = match &o.key {
            Some(key) => Sink::Sealed(Box::new(EncryptWriter::new(out, key, seg.id.as_str())?)),
            None => Sink::Plain(out),
        };
        let mut enc = Encoder::new(o.codec, o.level, sink)?;
        let fetch = feed(&mut enc)?;
        enc.finish()?
            .close()
            .with_context(|| format!("writing {}", path.display()))?;
        file.seek(SeekFrom::Start(0))?;
        let mut written = Hashed::new(BufReader::with_capacity(1 << 20, &mut *file));
        let summary = archive::summarize(&mut written, o.key.as_ref(), &seg.id)
            .with_context(|| format!("decoding {} again", path.display()))?;
        summary.check_against(&fetch, &format!("the new archive {}", path.display()))?;
        let (size, blake3) = written
            .finish()
            .with_context(|| format!("reading {}", path.display()))?;
        Ok((fetch, size, blake3))
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
    };
    Ok((fetch, info))
}
