//! Archives: the codecs (`columnar`, `gts.zst`), optional encryption around them, and the
//! summary (points, series, digest) every stage that reads an archive checks.
//!
//! An archive object is self-describing: `W10E` (encrypted envelope, `crypt`), `W10A`
//! (columnar) or the zstd frame magic (`gts.zst`) in its first bytes.

mod bytes;
mod columnar;
pub mod crypt;
mod double;
mod gtszst;
pub mod index;
mod ints;
pub mod text;

use crate::digest::{Digest, DigestBuilder, SeriesHash};
use crate::error::Mismatch;
use crate::gts::{Point, SeriesKey};
use crate::id::SegmentId;
use crate::manifest::FetchInfo;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Read, Write};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Codec {
    /// warp-offload's columnar format: smallest, needs warp-offload to read
    Columnar,
    /// Warp 10 text compressed with zstd: larger, restorable with `zstd -d | curl`
    #[value(name = "gts.zst")]
    GtsZst,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Columnar => "columnar",
            Codec::GtsZst => "gts.zst",
        }
    }

    /// File name extension of an archive in this codec (encrypted or not).
    pub fn extension(self) -> &'static str {
        match self {
            Codec::Columnar => "w10a",
            Codec::GtsZst => "gts.zst",
        }
    }
}

/// Points of one series, in archive order (newest first, as Warp 10 sent them). A long series
/// may come in several consecutive batches with the same key.
#[derive(Debug, PartialEq)]
pub struct SeriesBatch {
    pub key: SeriesKey,
    pub points: Vec<Point>,
}

/// Writes an archive series by series, point by point.
pub enum Encoder<W: Write> {
    Columnar(Box<columnar::Encoder<W>>),
    GtsZst(gtszst::Encoder<W>),
}

impl<W: Write> Encoder<W> {
    pub fn new(codec: Codec, level: i32, out: W) -> Result<Self> {
        Ok(match codec {
            Codec::Columnar => Encoder::Columnar(Box::new(columnar::Encoder::new(out, level)?)),
            Codec::GtsZst => Encoder::GtsZst(gtszst::Encoder::new(out, level)?),
        })
    }

    pub fn begin_series(&mut self, key: &SeriesKey) -> Result<()> {
        match self {
            Encoder::Columnar(e) => e.begin_series(key),
            Encoder::GtsZst(e) => e.begin_series(key),
        }
    }

    pub fn push(&mut self, p: &Point) -> Result<()> {
        match self {
            Encoder::Columnar(e) => e.push(p),
            Encoder::GtsZst(e) => e.push(p),
        }
    }

    /// Completes the archive and returns the writer it was written to.
    pub fn finish(self) -> Result<W> {
        match self {
            Encoder::Columnar(e) => e.finish(),
            Encoder::GtsZst(e) => e.finish(),
        }
    }

    /// Encodes Warp 10 fetch text (a spool) read from `input`; returns the points encoded.
    pub fn encode_text(&mut self, input: impl BufRead) -> Result<u64> {
        let mut text = text::TextReader::new(input);
        let mut points = 0u64;
        while let Some((new, p)) = text.next_point()? {
            if new {
                self.begin_series(text.key())?;
            }
            self.push(&p)?;
            points += 1;
        }
        Ok(points)
    }
}

/// Reads an archive of either codec, decrypting it first when it is encrypted.
pub enum Decoder<'a> {
    Columnar(Box<columnar::Decoder<Box<dyn Read + 'a>>>),
    GtsZst(Box<gtszst::Decoder<Box<dyn Read + 'a>>>),
}

impl<'a> Decoder<'a> {
    /// Detects encryption and codec from the first bytes. `segment_id` is bound into the
    /// encryption (an archive cannot be passed off as another segment's).
    pub fn open(input: impl Read + 'a, key: Option<&crypt::MasterKey>, segment_id: &SegmentId) -> Result<Self> {
        let (head, input) = peek(Box::new(input))?;
        if !crypt::is_encrypted(&head) {
            return Self::open_plain(head, input);
        }
        let key = key.context("the archive is encrypted: give the key with --key-file or WARP_OFFLOAD_KEY_FILE")?;
        let (head, plain) = peek(Box::new(crypt::DecryptReader::new(input, key, segment_id.as_str())?))?;
        Self::open_plain(head, plain)
    }

    fn open_plain(head: Vec<u8>, input: Box<dyn Read + 'a>) -> Result<Self> {
        if head.as_slice() == columnar::MAGIC {
            Ok(Decoder::Columnar(Box::new(columnar::Decoder::new(input)?)))
        } else if head == ZSTD_MAGIC {
            Ok(Decoder::GtsZst(Box::new(gtszst::Decoder::new(input)?)))
        } else {
            bail!("not a warp-offload archive (unknown magic {head:02x?})")
        }
    }

    pub fn next_batch(&mut self) -> Result<Option<SeriesBatch>> {
        match self {
            Decoder::Columnar(d) => d.next_batch(),
            Decoder::GtsZst(d) => d.next_batch(),
        }
    }
}

/// Decodes one block frame of a columnar archive, read by range where its index
/// ([`index`]) puts it, handing each batch to `visit`.
/// `version` is the archive's, from its header.
pub fn decode_block(frame: &[u8], version: u8, mut visit: impl FnMut(SeriesBatch) -> Result<()>) -> Result<()> {
    let mut dec = columnar::Decoder::for_block(frame, version)?;
    while let Some(batch) = dec.next_batch()? {
        visit(batch)?;
    }
    Ok(())
}

/// Reads the first 4 bytes and gives back a reader that still yields them.
fn peek<'a>(mut input: Box<dyn Read + 'a>) -> Result<(Vec<u8>, Box<dyn Read + 'a>)> {
    let mut head = Vec::with_capacity(4);
    (&mut input)
        .take(4)
        .read_to_end(&mut head)
        .context("reading the archive")?;
    if head.len() < 4 {
        bail!("not a warp-offload archive: only {} bytes", head.len());
    }
    Ok((head.clone(), Box::new(std::io::Cursor::new(head).chain(input))))
}

/// A reader that hashes (BLAKE3) and counts what passes through: the object as stored.
pub struct Hashed<R> {
    inner: R,
    hasher: blake3::Hasher,
    size: u64,
}

impl<R: Read> Hashed<R> {
    pub fn new(inner: R) -> Self {
        Hashed {
            inner,
            hasher: blake3::Hasher::new(),
            size: 0,
        }
    }

    /// Reads what is left (a decoder may stop before the end on error) and returns the size
    /// and BLAKE3 (hex) of everything.
    pub fn finish(mut self) -> std::io::Result<(u64, String)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((self.size, self.hasher.finalize().to_hex().to_string()))
    }
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// What an archive holds, to compare with what `fetch` recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub points: u64,
    pub series: u64,
    pub digest: Digest,
}

impl Summary {
    /// An `exit::Mismatch` unless points, series and digest equal what `fetch` recorded.
    pub fn check_against(&self, fetch: &FetchInfo, what: &str) -> Result<()> {
        let mut diffs = Vec::new();
        if self.points != fetch.points {
            diffs.push(format!("{} points where fetch recorded {}", self.points, fetch.points));
        }
        if self.series != fetch.series {
            diffs.push(format!("{} series where fetch recorded {}", self.series, fetch.series));
        }
        if self.digest != fetch.digest {
            diffs.push(format!("digest {} where fetch recorded {}", self.digest, fetch.digest));
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(Mismatch(format!("{what} holds {}", diffs.join(", "))).into())
        }
    }
}

/// Decrypts (if needed) and decodes a whole archive, counting and digesting its points.
pub fn summarize(reader: impl Read, key: Option<&crypt::MasterKey>, segment_id: &SegmentId) -> Result<Summary> {
    summarize_with(reader, key, segment_id, |_, _, _| {})
}

/// Like [`summarize`], showing every decoded point to `visit` (purge collects the archived
/// series and points through it).
pub fn summarize_with(
    reader: impl Read,
    key: Option<&crypt::MasterKey>,
    segment_id: &SegmentId,
    mut visit: impl FnMut(&SeriesKey, &SeriesHash, &Point),
) -> Result<Summary> {
    let mut dec = Decoder::open(reader, key, segment_id)?;
    let mut sum = Summary {
        points: 0,
        series: 0,
        digest: Digest::default(),
    };
    let mut digest = DigestBuilder::default();
    let mut current: Option<(SeriesKey, SeriesHash)> = None;
    while let Some(batch) = dec.next_batch()? {
        let hash = match &current {
            Some((k, h)) if *k == batch.key => *h,
            _ => {
                sum.series += 1;
                let h = SeriesHash::of(&batch.key);
                current = Some((batch.key.clone(), h));
                h
            }
        };
        for p in &batch.points {
            digest.add(&hash, p);
            visit(&batch.key, &hash, p);
        }
        sum.points += batch.points.len() as u64;
    }
    sum.digest = digest.finish();
    Ok(sum)
}

#[cfg(test)]
mod tests;
