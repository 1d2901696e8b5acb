//! The block index of a columnar archive: for every block, where it lies in the object and which
//! series (key, points, time span) it holds, so that a reader fetches only the blocks a query
//! needs, with ranged reads (`crate::read`).
//!
//! ```text
//! index frame  'X' raw_len:uvarint comp_len:uvarint zstd(raw) frame_len:u32le
//! raw          n_blocks block*
//! block        offset len n_series (key points first_ts:ivarint span:uvarint)*
//! ```
//! Keys are written as in the blocks' `keys` section. `first_ts` is the smallest timestamp of
//! the series in the block, `span` the largest minus it. The frame sits between the last block
//! and the footer, and header flag [`FLAG_INDEX`] says it is there; `frame_len` (the whole
//! frame) lets a reader coming from the end find its start.
//!
//! The streaming decoder rebuilds the index from the blocks it decodes and requires the stored
//! one to be the same bytes, so `verify` proves the index as it proves the points: a query
//! trusting it cannot silently miss a block.

use super::bytes::{Reader, put_ivarint, put_uvarint};
use super::columnar::{MAGIC, put_key, read_key};
use crate::gts::SeriesKey;
use anyhow::{Context, Result, bail};

/// Header flag byte 6, bit 0: the archive has an index frame.
pub const FLAG_INDEX: u8 = 1;
pub const TAG_INDEX: u8 = b'X';
/// Largest decompressed index accepted (about 60 bytes per series and block).
const MAX_RAW: u64 = 1 << 30;

/// One series' part of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSpan {
    pub key: SeriesKey,
    pub points: u64,
    /// Smallest and largest timestamp, inclusive.
    pub first: i64,
    pub last: i64,
}

impl SeriesSpan {
    /// The span of a series with these (non-empty) timestamps.
    pub fn of(key: &SeriesKey, ts: &[i64]) -> SeriesSpan {
        let (first, last) = match ts {
            [] => (0, 0),
            _ => ts
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t))),
        };
        SeriesSpan {
            key: key.clone(),
            points: ts.len() as u64,
            first,
            last,
        }
    }
}

/// Where one block frame lies in the archive object, and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockEntry {
    pub offset: u64,
    pub len: u64,
    pub series: Vec<SeriesSpan>,
}

/// Accumulates the index as blocks are written (or decoded).
#[derive(Default)]
pub struct Builder {
    blocks: u64,
    body: Vec<u8>,
}

impl Builder {
    /// Adds a block of `len` bytes at `offset` holding these series.
    pub fn add_block(&mut self, offset: u64, len: u64, series: &[SeriesSpan]) {
        self.blocks += 1;
        put_uvarint(&mut self.body, offset);
        put_uvarint(&mut self.body, len);
        put_uvarint(&mut self.body, series.len() as u64);
        for s in series {
            put_key(&mut self.body, &s.key);
            put_uvarint(&mut self.body, s.points);
            put_ivarint(&mut self.body, s.first);
            put_uvarint(&mut self.body, s.last.abs_diff(s.first));
        }
    }

    /// The raw (uncompressed) index.
    pub fn raw(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.body.len() + 10);
        put_uvarint(&mut raw, self.blocks);
        raw.extend_from_slice(&self.body);
        raw
    }

    /// The whole index frame, compressed at `level`.
    pub fn frame(&self, level: i32) -> Result<Vec<u8>> {
        let raw = self.raw();
        let comp = zstd::bulk::compress(&raw, level).context("zstd compression of the archive index")?;
        let mut frame = vec![TAG_INDEX];
        put_uvarint(&mut frame, raw.len() as u64);
        put_uvarint(&mut frame, comp.len() as u64);
        frame.extend_from_slice(&comp);
        let len = u32::try_from(frame.len() + 4).context("archive index too large")?;
        frame.extend_from_slice(&len.to_le_bytes());
        Ok(frame)
    }
}

/// Decompresses the body of an index frame given its bytes after the tag (`raw_len comp_len
/// zstd frame_len`) and checks `frame_len`.
pub fn read_frame(after_tag: &[u8]) -> Result<Vec<u8>> {
    let mut r = Reader::new(after_tag, "archive index");
    let raw_len = r.uvarint()?;
    let comp_len = r.uvarint()?;
    if raw_len > MAX_RAW {
        bail!("archive index declares {raw_len} bytes, beyond the format limit");
    }
    let comp = r.take(usize::try_from(comp_len).context("archive index length")?)?;
    let frame_len = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
    r.finish()?;
    if u64::from(frame_len) != after_tag.len() as u64 + 1 {
        bail!(
            "archive index frame length {frame_len} does not match its {} bytes",
            after_tag.len() + 1
        );
    }
    let raw = zstd::bulk::decompress(comp, raw_len as usize).context("archive index does not decompress")?;
    if raw.len() as u64 != raw_len {
        bail!("archive index decompresses to {} bytes, {raw_len} declared", raw.len());
    }
    Ok(raw)
}

/// Parses a raw index; every block must lie inside `data_end` (where the index frame starts),
/// after the header and after the block before it.
pub fn parse(raw: &[u8], data_end: u64) -> Result<Vec<BlockEntry>> {
    let mut r = Reader::new(raw, "archive index");
    let n = r.len(r.remaining())?;
    let mut blocks = Vec::with_capacity(n);
    let mut end = 8u64;
    for b in 0..n {
        let offset = r.uvarint()?;
        let len = r.uvarint()?;
        if offset < end || len == 0 || offset.checked_add(len).is_none_or(|e| e > data_end) {
            bail!("archive index: block {b} at {offset}+{len} lies outside the archive's blocks");
        }
        end = offset + len;
        let count = r.len(r.remaining())?;
        let mut series = Vec::with_capacity(count);
        for _ in 0..count {
            let key = read_key(&mut r)?;
            let points = r.uvarint()?;
            let first = r.ivarint()?;
            let last = first
                .checked_add_unsigned(r.uvarint()?)
                .context("archive index: time span overflows")?;
            series.push(SeriesSpan {
                key,
                points,
                first,
                last,
            });
        }
        blocks.push(BlockEntry { offset, len, series });
    }
    r.finish()?;
    Ok(blocks)
}

/// Whether an archive whose first 8 bytes are `header` is columnar with an index.
pub fn has_index(header: &[u8]) -> bool {
    header.len() >= 8 && &header[..4] == MAGIC && header[6] & FLAG_INDEX != 0
}

/// Where the footer starts, from the object size and its last 8 bytes (the trailer).
pub fn footer_start(size: u64, trailer: &[u8]) -> Result<u64> {
    if trailer.len() != 8 || &trailer[4..] != MAGIC {
        bail!("archive trailer is damaged");
    }
    let footer_len = u64::from(u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes")));
    size.checked_sub(8 + footer_len)
        .filter(|&s| s >= 8)
        .context("archive trailer gives a footer longer than the archive")
}

/// Where the index frame starts, from where the footer starts and the 4 bytes before it.
pub fn frame_start(footer_start: u64, frame_len: &[u8]) -> Result<u64> {
    let len = u64::from(u32::from_le_bytes(
        frame_len.try_into().context("archive index frame length")?,
    ));
    footer_start
        .checked_sub(len)
        .filter(|&s| s >= 8 && len > 4)
        .context("archive index frame length points outside the archive")
}
