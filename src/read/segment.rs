//! Reading one segment's archive for a query: by its block index when it has one (a tail read
//! holding the footer and usually the index, a header read, then one ranged read per block
//! needed; an archive smaller than the tail is read once, whole; an encrypted one through the
//! chunks holding those bytes), else whole, streamed, and checked against the manifest's size
//! and BLAKE3.
//!
//! Ranged reads cannot be checked against the object's BLAKE3; each block is a checksummed
//! zstd frame whose counts the decoder checks, and `verify` proved the index equal to the
//! blocks when the archive was written.

use super::{Query, Stats};
use crate::archive::crypt::{MasterKey, RangedDecrypt};
use crate::archive::index::{self, BlockEntry};
use crate::archive::{Codec, Decoder, Hashed, SeriesBatch, decode_block};
use crate::error::Mismatch;
use crate::gts::selector::Selector;
use crate::gts::{Point, SeriesKey};
use crate::manifest::Segment;
use crate::store::Store;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};

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
    let Some(ix) = index_of(store, seg, key, stats)? else {
        return read_whole(store, seg, q, key, stats, emit);
    };
    let mut read = 0;
    for block in &ix.blocks {
        let wanted = block
            .series
            .iter()
            .any(|s| s.first <= q.hi && q.lo <= s.last && q.selector.matches(&s.key, &BTreeMap::new()));
        if !wanted {
            continue;
        }
        read += 1;
        let data = ix.bytes(store, stats, block.offset, block.offset + block.len)?;
        decode_block(&data, ix.version, |batch| keep(q, batch, emit))
            .with_context(|| format!("block at offset {}", block.offset))?;
    }
    crate::log::debug(
        "read",
        Some(seg.id.as_str()),
        &format!("read {read} of {} blocks by the index", ix.blocks.len()),
    );
    Ok(())
}

/// Adds the keys of the series matching `selector` to `out`: from the index alone when there is
/// one, else from the whole archive.
pub fn keys(
    store: &dyn Store,
    seg: &Segment,
    selector: &Selector,
    key: Option<&MasterKey>,
    stats: &Stats,
    out: &mut BTreeSet<SeriesKey>,
) -> Result<()> {
    let Some(ix) = index_of(store, seg, key, stats)? else {
        let q = Query {
            selector,
            lo: i64::MIN,
            hi: i64::MAX,
            skip: 0,
            limit: usize::MAX,
            max_points: u64::MAX,
        };
        return read_whole(store, seg, &q, key, stats, &mut |k, _| {
            out.insert(k.clone());
            Ok(())
        });
    };
    let no_attrs = BTreeMap::new();
    for s in ix.blocks.into_iter().flat_map(|b| b.series) {
        if selector.matches(&s.key, &no_attrs) {
            out.insert(s.key);
        }
    }
    Ok(())
}

/// A columnar archive's block index, with the last bytes of the object read to find it, and
/// what decrypts it when it is encrypted.
struct Indexed<'s> {
    object: &'s str,
    tail_start: u64,
    tail: Vec<u8>,
    cipher: Option<RangedDecrypt>,
    blocks: Vec<BlockEntry>,
    /// The archive's format version, from its header: which column codings its blocks use.
    version: u8,
}

impl Indexed<'_> {
    /// Bytes `start..end` of the object as stored: from the tail when it holds them, else one
    /// ranged read.
    fn raw(&self, store: &dyn Store, stats: &Stats, start: u64, end: u64) -> Result<Vec<u8>> {
        if start >= self.tail_start {
            let at = |o: u64| (o - self.tail_start) as usize;
            return Ok(self.tail[at(start)..at(end)].to_vec());
        }
        stats.read(end - start);
        store.get_range(self.object, start, end - start)
    }

    /// Bytes `start..end` of the archive (decrypted when it is encrypted).
    fn bytes(&self, store: &dyn Store, stats: &Stats, start: u64, end: u64) -> Result<Vec<u8>> {
        let Some(c) = &self.cipher else {
            return self.raw(store, stats, start, end);
        };
        let (offset, len) = c.cipher_range(start, end);
        c.decrypt(start, end, &self.raw(store, stats, offset, offset + len)?)
    }
}

/// Bytes enough for any encryption header (its segment id is at most 255 bytes).
const CRYPT_HEADER_MAX: u64 = 512;

/// The block index of a columnar archive that has one: its tail is read first (the footer,
/// usually the index; a small archive whole, its blocks then come from there), then its header,
/// to see whether it has an index (archives written before it have none). An encrypted archive
/// is read the same way through whole chunks (its encryption header first, and the first chunk
/// for the archive header: 1 MiB more per segment); without the key it is left to the whole
/// read, which says the key is missing.
fn index_of<'s>(
    store: &dyn Store,
    seg: &'s Segment,
    key: Option<&MasterKey>,
    stats: &Stats,
) -> Result<Option<Indexed<'s>>> {
    let (Some(archive), Some(up)) = (&seg.archive, &seg.upload) else {
        bail!("segment {} has no archive or upload section", seg.id);
    };
    if archive.codec != Codec::Columnar.name() || (archive.key_id.is_some() && key.is_none()) {
        return Ok(None);
    }
    let (object, size) = (up.key.as_str(), up.size);
    if size < 16 {
        bail!("{size} bytes: too short for an archive");
    }
    let mut ix = Indexed {
        object,
        tail_start: size,
        tail: Vec::new(),
        cipher: None,
        blocks: Vec::new(),
        version: 0,
    };
    let mut plain_len = size;
    // The tail: the last TAIL bytes of the archive, as whole chunks when it is encrypted.
    let mut tail = (size - size.min(TAIL), size);
    if let (Some(_), Some(key)) = (&archive.key_id, key) {
        let head = ix.raw(store, stats, 0, size.min(CRYPT_HEADER_MAX))?;
        let cipher = RangedDecrypt::open(&head, size, key, seg.id.as_str())?;
        plain_len = cipher.plain_len();
        let (offset, len) = cipher.cipher_range(plain_len - plain_len.min(TAIL), plain_len);
        tail = (offset, offset + len);
        ix.cipher = Some(cipher);
    }
    ix.tail = ix.raw(store, stats, tail.0, tail.1)?;
    ix.tail_start = tail.0;
    let header = if plain_len < 16 {
        Vec::new()
    } else {
        ix.bytes(store, stats, 0, 8)?
    };
    if !index::has_index(&header) {
        return Ok(None);
    }
    ix.version = header[4];
    let trailer = ix.bytes(store, stats, plain_len - 8, plain_len)?;
    let footer = index::footer_start(plain_len, &trailer)?;
    let frame_start = index::frame_start(footer, &ix.bytes(store, stats, footer - 4, footer)?)?;
    let frame = ix.bytes(store, stats, frame_start, footer)?;
    if frame.first() != Some(&index::TAG_INDEX) {
        bail!("no archive index at offset {frame_start}, where the footer says it is");
    }
    ix.blocks = index::parse(&index::read_frame(&frame[1..])?, frame_start)?;
    Ok(Some(ix))
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

fn read_whole(
    store: &dyn Store,
    seg: &Segment,
    q: &Query,
    key: Option<&MasterKey>,
    stats: &Stats,
    emit: &mut Emit,
) -> Result<()> {
    let up = seg.upload.as_ref().expect("index_of checked the upload section");
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
