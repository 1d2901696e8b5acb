//! Reading one segment's archive for a query: by its block index when it has one (a header
//! read, a tail read holding the footer and usually the index, then one ranged read per block
//! needed), else whole, streamed, and checked against the manifest's size and BLAKE3.
//!
//! Ranged reads cannot be checked against the object's BLAKE3; each block is a checksummed
//! zstd frame whose counts the decoder checks, and `verify` proved the index equal to the
//! blocks when the archive was written.

use super::{Query, Stats};
use crate::archive::crypt::MasterKey;
use crate::archive::{Codec, Decoder, Hashed, SeriesBatch, decode_block, index};
use crate::exit::Mismatch;
use crate::gts::{Point, SeriesKey};
use crate::manifest::Segment;
use crate::store::Store;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

/// Bytes read from the end of an archive: the footer, and the index of most archives.
const TAIL: u64 = 64 << 10;

/// Where the matching points of each batch go.
pub type Emit<'e> = dyn FnMut(&SeriesKey, Vec<Point>) -> Result<()> + 'e;

pub fn read(
    store: &dyn Store,
    seg: &Segment,
    q: &Query,
    key: Option<&MasterKey>,
    stats: &Stats,
    emit: &mut Emit,
) -> Result<()> {
    let (Some(archive), Some(up)) = (&seg.archive, &seg.upload) else {
        bail!("segment {} has no archive or upload section", seg.id);
    };
    let plain_columnar = archive.codec == Codec::Columnar.name() && archive.key_id.is_none();
    if plain_columnar && up.size > TAIL {
        let head = store.get_range(&up.key, 0, 8)?;
        stats.read(8);
        if index::has_index(&head) {
            return read_indexed(store, &up.key, up.size, q, stats, emit);
        }
    }
    read_whole(store, seg, q, key, stats, emit)
}

fn keep(q: &Query, batch: SeriesBatch, emit: &mut Emit) -> Result<()> {
    if !q.selector.matches(&batch.key, &BTreeMap::new()) {
        return Ok(());
    }
    let points: Vec<Point> = batch
        .points
        .into_iter()
        .filter(|p| (q.lo..=q.hi).contains(&p.ts))
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    emit(&batch.key, points)
}

fn read_indexed(store: &dyn Store, key: &str, size: u64, q: &Query, stats: &Stats, emit: &mut Emit) -> Result<()> {
    let tail_start = size - TAIL;
    let tail = store.get_range(key, tail_start, TAIL)?;
    stats.read(TAIL);
    // Bytes `start..end` of the object, from the tail when it holds them.
    let bytes = |start: u64, end: u64| -> Result<Vec<u8>> {
        if start >= tail_start {
            return Ok(tail[(start - tail_start) as usize..(end - tail_start) as usize].to_vec());
        }
        stats.read(end - start);
        store.get_range(key, start, end - start)
    };
    let footer = index::footer_start(size, &tail[tail.len() - 8..])?;
    let frame_start = index::frame_start(footer, &bytes(footer - 4, footer)?)?;
    let frame = bytes(frame_start, footer)?;
    if frame.first() != Some(&index::TAG_INDEX) {
        bail!("no archive index at offset {frame_start}, where the footer says it is");
    }
    let blocks = index::parse(&index::read_frame(&frame[1..])?, frame_start)?;
    for block in blocks {
        let wanted = block
            .series
            .iter()
            .any(|s| s.first <= q.hi && q.lo <= s.last && q.selector.matches(&s.key, &BTreeMap::new()));
        if !wanted {
            continue;
        }
        let data = store.get_range(key, block.offset, block.len)?;
        stats.read(block.len);
        decode_block(&data, |batch| keep(q, batch, emit))
            .with_context(|| format!("block at offset {}", block.offset))?;
    }
    Ok(())
}

fn read_whole(
    store: &dyn Store,
    seg: &Segment,
    q: &Query,
    key: Option<&MasterKey>,
    stats: &Stats,
    emit: &mut Emit,
) -> Result<()> {
    let up = seg.upload.as_ref().expect("checked by the caller");
    let mut hashed = Hashed::new(store.get(&up.key)?);
    {
        let mut dec = Decoder::open(&mut hashed, key, &seg.id)?;
        while let Some(batch) = dec.next_batch()? {
            keep(q, batch, emit)?;
        }
    }
    let (size, blake3) = hashed.finish().context("reading the archive")?;
    stats.read(size);
    if (size, blake3.as_str()) != (up.size, up.blake3.as_str()) {
        return Err(Mismatch(format!(
            "archive read back is {size} bytes with BLAKE3 {blake3}, the manifest records {} bytes with {}",
            up.size, up.blake3
        ))
        .into());
    }
    Ok(())
}
