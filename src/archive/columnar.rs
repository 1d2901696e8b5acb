//! The `columnar` codec: warp-offload's own archive format.
//!
//! ```text
//! header  "W10A" version:u8 codec:u8 0:u8 0:u8     (version 2; version 1 is still read)
//! block*  'B' raw_len:uvarint comp_len:uvarint zstd(raw)      (checksummed zstd frame)
//! index   'X' ...                                            (see `index.rs`; header flag 1)
//! footer  'E' len:uvarint body  footer_len:u32le "W10A"
//!         body = n_blocks, (offset, series, points)*, total_points   (all uvarints)
//! ```
//!
//! A block holds up to `BLOCK_POINTS` points of up to `BLOCK_SERIES` series (a longer series
//! continues in the next block under the same key), so both ends stream with memory bounded by
//! one block. Inside a block, columns of all its series are grouped by kind so that zstd sees
//! similar bytes together:
//!
//! ```text
//! raw = n_series n_points section{15}       (each section: uvarint length + bytes)
//! keys      class, n_labels, (key, value)*          length-prefixed UTF-8
//! meta      per series: n, flags, then as needed: ts ref distance | ts coding, long coding,
//!           double exponent + mantissa coding, elevation coding (coding: see `ints`)
//! ts        timestamps, an integer column (`ints`: nibble planes of delta or
//!           delta-of-delta residuals, or from version 2 a pco file for long series)
//! ts_ref    a series whose timestamps nearly equal those of one of the previous
//!           `TS_REF_WINDOW` series stores only the edits against it
//! types     one type tag per point, only for series that mix value types
//! longs, double_mantissas (coded like ts), double_corrections, double_escapes, bools (bitmap),
//! blob_lens, blob_data (STRING and BINARY), presence (geo/elevation bitmaps when only
//! some points have them), geo (lat/lon bit deltas), elev
//! ```
//! flags: bits 0-2 value type tag (0 = mixed), bits 3-4 geo and 5-6 elevation presence
//! (0 none, 1 all, 2 some), bit 7 timestamps by reference.
//!
//! The decoder checks every count and length against what remains and against the caps
//! below before allocating, and the footer against the blocks it saw.

use super::bytes::{Bits, Reader, put_bits, put_bytes, put_ivarint, put_uvarint};
use super::index::{self, FLAG_INDEX, SeriesSpan, TAG_INDEX};
use super::ints;
use super::{SeriesBatch, double};
use crate::gts::{Geo, Point, SeriesKey, Value};
use anyhow::{Context, Result, bail};
use std::collections::VecDeque;
use std::io::{BufReader, Read, Write};

pub const MAGIC: &[u8; 4] = b"W10A";
/// Version written; version 1 (no pco columns) is still read.
const VERSION: u8 = 2;
const CODEC_ID: u8 = 1;
/// Points per block: ~1 MB of varints, enough for zstd to see many series of a host together.
/// (256 Ki-point blocks were tried: a third less memory per segment in flight in `all`, but 4 x
/// 6h segments of D1 came out 8 % larger.)
pub const BLOCK_POINTS: usize = 1 << 20;
const BLOCK_SERIES: usize = 1 << 14;
/// STRING/BINARY bytes after which a block is closed early.
const BLOCK_BLOB_BYTES: usize = 8 << 20;
/// Largest decompressed block accepted. The worst block the encoder writes: ~60 bytes per point
/// (8 timestamp, 1 type, 23 double, 20 geo, 8 elevation) times `BLOCK_POINTS`, plus
/// `BLOCK_BLOB_BYTES` and one last value (a fetch line is at most 4 MiB).
const MAX_RAW: usize = 128 << 20;
const TS_REF_WINDOW: usize = 8;
const MAX_KEY_BYTES: usize = 1 << 20;

const TAG_BLOCK: u8 = b'B';
const TAG_END: u8 = b'E';

const KEYS: usize = 0;
const META: usize = 1;
const TS: usize = 2;
const TS_REF: usize = 3;
const TYPES: usize = 4;
const LONGS: usize = 5;
const D_MANT: usize = 6;
const D_CORR: usize = 7;
const D_ESC: usize = 8;
const BOOLS: usize = 9;
const BLOB_LENS: usize = 10;
const BLOB_DATA: usize = 11;
const PRESENCE: usize = 12;
const GEO: usize = 13;
const ELEV: usize = 14;
const SECTIONS: usize = 15;
const SECTION_NAMES: [&str; SECTIONS] = [
    "keys",
    "meta",
    "timestamps",
    "timestamp references",
    "types",
    "longs",
    "double mantissas",
    "double corrections",
    "double escapes",
    "booleans",
    "blob lengths",
    "blob data",
    "presence",
    "geo",
    "elevation",
];

const TAG_LONG: u8 = 1;
const TAG_DOUBLE: u8 = 2;
const TAG_BOOL: u8 = 3;
const TAG_STR: u8 = 4;
const TAG_BIN: u8 = 5;
const PRESENT_NONE: u8 = 0;
const PRESENT_ALL: u8 = 1;
const PRESENT_SOME: u8 = 2;

/// Edits turning `base` into `ts` (both strictly decreasing): `(copied before, inserted value
/// or None for a dropped base entry)`. Base entries after the last edit are copied until `ts`
/// is complete. Gives up past `max` edits.
fn ts_edits(base: &[i64], ts: &[i64], max: usize, edits: &mut Vec<(usize, Option<i64>)>) -> bool {
    edits.clear();
    let (mut i, mut j, mut gap) = (0, 0, 0);
    while j < ts.len() {
        if i < base.len() && base[i] == ts[j] {
            gap += 1;
            i += 1;
            j += 1;
            continue;
        }
        if i < base.len() && base[i] > ts[j] {
            edits.push((gap, None));
            i += 1;
        } else {
            edits.push((gap, Some(ts[j])));
            j += 1;
        }
        gap = 0;
        if edits.len() > max {
            return false;
        }
    }
    true
}

fn put_ts_edits(out: &mut Vec<u8>, edits: &[(usize, Option<i64>)], base: &[i64]) {
    put_uvarint(out, edits.len() as u64);
    let (mut i, mut last) = (0usize, 0i64);
    for &(gap, insert) in edits {
        if gap > 0 {
            i += gap;
            last = base[i - 1];
        }
        put_uvarint(out, (gap as u64) << 1 | u64::from(insert.is_some()));
        match insert {
            Some(v) => {
                put_ivarint(out, v.wrapping_sub(last));
                last = v;
            }
            None => i += 1,
        }
    }
}

fn apply_ts_edits(r: &mut Reader, base: &[i64], n: usize, out: &mut Vec<i64>) -> Result<()> {
    let edits = r.len(r.remaining())?;
    out.clear();
    out.reserve(n);
    let mut i = 0usize;
    for _ in 0..edits {
        let code = r.uvarint()?;
        let gap = usize::try_from(code >> 1).unwrap_or(usize::MAX);
        if gap > base.len() - i || gap > n - out.len() {
            bail!("timestamp reference edit copies past the end");
        }
        out.extend_from_slice(&base[i..i + gap]);
        i += gap;
        if code & 1 == 1 {
            if out.len() == n {
                bail!("timestamp reference edit inserts past the end");
            }
            let last = out.last().copied().unwrap_or(0);
            out.push(last.wrapping_add(r.ivarint()?));
        } else {
            if i == base.len() {
                bail!("timestamp reference edit drops past the end");
            }
            i += 1;
        }
    }
    let rest = (n - out.len()).min(base.len() - i);
    out.extend_from_slice(&base[i..i + rest]);
    if out.len() != n {
        bail!("timestamp reference yields {} timestamps, {n} announced", out.len());
    }
    Ok(())
}

/// Start of one series' data in each column of the block being built.
struct Entry {
    key: SeriesKey,
    points: usize,
    longs: usize,
    doubles: usize,
    bools: usize,
    blobs: usize,
    geo: usize,
    elev: usize,
}

/// Streams series into a columnar archive. Feed `begin_series` then its points, series after
/// series; memory is bounded by one block.
pub struct Encoder<W: Write> {
    out: W,
    compressor: zstd::bulk::Compressor<'static>,
    entries: Vec<Entry>,
    ts: Vec<i64>,
    types: Vec<u8>,
    longs: Vec<i64>,
    doubles: Vec<f64>,
    bools: Vec<bool>,
    blob_lens: Vec<usize>,
    blob_data: Vec<u8>,
    /// (point index in block, value) for the points that have one.
    geo: Vec<(usize, Geo)>,
    elev: Vec<(usize, i64)>,
    sections: [Vec<u8>; SECTIONS],
    raw: Vec<u8>,
    comp: Vec<u8>,
    scratch: Vec<i64>,
    edits: Vec<(usize, Option<i64>)>,
    offset: u64,
    index: Vec<(u64, u64, u64)>,
    level: i32,
    block_index: index::Builder,
    spans: Vec<SeriesSpan>,
    block_points: usize,
    /// Entries of the block already encoded into `sections` (every one but the open series),
    /// whether their timestamps strictly decrease (references need it), and how many had points.
    encoded: usize,
    descending: Vec<bool>,
    block_series: u64,
}

impl<W: Write> Encoder<W> {
    pub fn new(mut out: W, level: i32) -> Result<Self> {
        let mut compressor = zstd::bulk::Compressor::new(level).context("setting up zstd")?;
        compressor
            .set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
            .context("setting up zstd")?;
        // Residual planes are noise-like: spurious short matches cost more than they save.
        compressor
            .set_parameter(zstd::zstd_safe::CParameter::MinMatch(7))
            .context("setting up zstd")?;
        out.write_all(MAGIC)
            .and_then(|()| out.write_all(&[VERSION, CODEC_ID, FLAG_INDEX, 0]))
            .context("writing archive header")?;
        Ok(Encoder {
            out,
            compressor,
            entries: Vec::new(),
            ts: Vec::new(),
            types: Vec::new(),
            longs: Vec::new(),
            doubles: Vec::new(),
            bools: Vec::new(),
            blob_lens: Vec::new(),
            blob_data: Vec::new(),
            geo: Vec::new(),
            elev: Vec::new(),
            sections: Default::default(),
            raw: Vec::new(),
            comp: Vec::new(),
            scratch: Vec::new(),
            edits: Vec::new(),
            offset: 8,
            index: Vec::new(),
            level,
            block_index: index::Builder::default(),
            spans: Vec::new(),
            block_points: BLOCK_POINTS,
            encoded: 0,
            descending: Vec::new(),
            block_series: 0,
        })
    }

    /// Writes blocks of `n` points (for tests of the format's limits).
    #[cfg(test)]
    pub fn with_block_points(mut self, n: usize) -> Self {
        self.block_points = n;
        self
    }

    pub fn begin_series(&mut self, key: &SeriesKey) -> Result<()> {
        if self.entries.len() >= BLOCK_SERIES {
            self.flush()?;
        }
        self.open_entry(key.clone())
    }

    /// Opens a series; an empty one left open before (no points) is replaced, so that every
    /// written series has points and reference distances count written series only.
    fn open_entry(&mut self, key: SeriesKey) -> Result<()> {
        if self.entries.last().is_some_and(|e| e.points == self.ts.len()) {
            self.entries.pop();
        }
        self.encode_entries()?;
        self.entries.push(Entry {
            key,
            points: self.ts.len(),
            longs: self.longs.len(),
            doubles: self.doubles.len(),
            bools: self.bools.len(),
            blobs: self.blob_lens.len(),
            geo: self.geo.len(),
            elev: self.elev.len(),
        });
        Ok(())
    }

    pub fn push(&mut self, p: &Point) -> Result<()> {
        if self.entries.is_empty() {
            bail!("a point came before any series");
        }
        if self.ts.len() >= self.block_points || self.blob_data.len() >= BLOCK_BLOB_BYTES {
            let key = self.entries.last().expect("checked above").key.clone();
            self.flush()?;
            self.open_entry(key)?;
        }
        let i = self.ts.len();
        self.ts.push(p.ts);
        self.types.push(p.value.type_tag());
        match &p.value {
            Value::Long(v) => self.longs.push(*v),
            Value::Double(v) => self.doubles.push(*v),
            Value::Bool(v) => self.bools.push(*v),
            Value::Str(s) => self.push_blob(s.as_bytes()),
            Value::Bin(b) => self.push_blob(b),
        }
        if let Some(g) = p.geo {
            self.geo.push((i, g));
        }
        if let Some(e) = p.elev {
            self.elev.push((i, e));
        }
        Ok(())
    }

    fn push_blob(&mut self, b: &[u8]) {
        self.blob_lens.push(b.len());
        self.blob_data.extend_from_slice(b);
    }

    /// Writes the last block and the footer; returns the inner writer (not flushed further).
    pub fn finish(mut self) -> Result<W> {
        self.flush()?;
        let frame = self.block_index.frame(self.level)?;
        self.out.write_all(&frame).context("writing archive index")?;
        let mut body = Vec::new();
        put_uvarint(&mut body, self.index.len() as u64);
        for &(offset, series, points) in &self.index {
            put_uvarint(&mut body, offset);
            put_uvarint(&mut body, series);
            put_uvarint(&mut body, points);
        }
        put_uvarint(&mut body, self.index.iter().map(|e| e.2).sum());
        let mut footer = vec![TAG_END];
        put_bytes(&mut footer, &body);
        let len = u32::try_from(footer.len()).context("archive index too large")?;
        footer.extend_from_slice(&len.to_le_bytes());
        footer.extend_from_slice(MAGIC);
        self.out.write_all(&footer).context("writing archive footer")?;
        Ok(self.out)
    }

    /// Encodes the complete entries not encoded yet: all but the open series, whose points may
    /// still come. Called as each series ends, so that a series is compressed while the next one
    /// is read instead of the whole block at once when it is full.
    fn encode_entries(&mut self) -> Result<()> {
        if self.encoded == 0 {
            for s in &mut self.sections {
                s.clear();
            }
        }
        while self.encoded < self.entries.len() {
            let i = self.encoded;
            self.descending.push(false);
            self.encode_entry(i)?;
            self.encoded += 1;
        }
        Ok(())
    }

    /// Appends series `i` of the block (complete: the next entry, if any, starts its columns'
    /// ends) to the sections.
    fn encode_entry(&mut self, i: usize) -> Result<()> {
        let range = |col: fn(&Entry) -> usize, len: usize| span(&self.entries, i, col, len);
        let pts = range(|e| e.points, self.ts.len());
        if pts.is_empty() {
            return Ok(());
        }
        self.block_series += 1;
        let ts = &self.ts[pts.clone()];
        self.descending[i] = ts.windows(2).all(|w| w[0] > w[1]);
        let types = &self.types[pts.clone()];
        let kind = if types.iter().all(|&t| t == types[0]) {
            types[0]
        } else {
            0
        };
        let geo = &self.geo[range(|e| e.geo, self.geo.len())];
        let elev = &self.elev[range(|e| e.elev, self.elev.len())];
        let presence = |count: usize| match count {
            0 => PRESENT_NONE,
            c if c == ts.len() => PRESENT_ALL,
            _ => PRESENT_SOME,
        };
        let (geo_mode, elev_mode) = (presence(geo.len()), presence(elev.len()));

        // The closest of the previous series' timestamps, if editing them is cheaper.
        let entry_points = |j: usize| span(&self.entries, j, |e| e.points, self.ts.len());
        let mut best: Option<(usize, usize)> = None;
        if self.descending[i] {
            for back in (1..=TS_REF_WINDOW.min(i)).filter(|&b| self.descending[i - b]) {
                let max = best.map_or(ts.len() / 4, |(_, e)| e.saturating_sub(1));
                if ts_edits(&self.ts[entry_points(i - back)], ts, max, &mut self.edits) {
                    best = Some((back, self.edits.len()));
                }
            }
        }

        let s = &mut self.sections;
        put_key(&mut s[KEYS], &self.entries[i].key);
        put_uvarint(&mut s[META], ts.len() as u64);
        s[META].push(kind | geo_mode << 3 | elev_mode << 5 | if best.is_some() { 0x80 } else { 0 });
        match best {
            Some((back, _)) => {
                let base = &self.ts[entry_points(i - back)];
                ts_edits(base, ts, usize::MAX, &mut self.edits);
                put_uvarint(&mut s[META], back as u64);
                put_ts_edits(&mut s[TS_REF], &self.edits, base);
            }
            None => {
                let [meta, out] = s.get_disjoint_mut([META, TS]).expect("distinct sections");
                ints::put_timestamps(meta, out, ts)?;
            }
        }
        if kind == 0 {
            s[TYPES].extend_from_slice(types);
        }
        let longs = &self.longs[range(|e| e.longs, self.longs.len())];
        if !longs.is_empty() {
            let [meta, out] = s.get_disjoint_mut([META, LONGS]).expect("distinct sections");
            ints::put(meta, out, longs)?;
        }
        let doubles = &self.doubles[range(|e| e.doubles, self.doubles.len())];
        if !doubles.is_empty() {
            let exp = double::choose_exponent(doubles);
            self.scratch.clear();
            let [d_corr, d_esc] = s.get_disjoint_mut([D_CORR, D_ESC]).expect("distinct sections");
            double::split(doubles, exp, &mut self.scratch, d_corr, d_esc);
            s[META].push(exp);
            let [meta, out] = s.get_disjoint_mut([META, D_MANT]).expect("distinct sections");
            ints::put(meta, out, &self.scratch)?;
        }
        put_bits(
            &mut s[BOOLS],
            self.bools[range(|e| e.bools, self.bools.len())].iter().copied(),
        );
        for k in range(|e| e.blobs, self.blob_lens.len()) {
            put_uvarint(&mut s[BLOB_LENS], self.blob_lens[k] as u64);
        }
        if geo_mode == PRESENT_SOME {
            put_presence(&mut s[PRESENCE], pts.clone(), geo.iter().map(|g| g.0));
        }
        if elev_mode == PRESENT_SOME {
            put_presence(&mut s[PRESENCE], pts.clone(), elev.iter().map(|e| e.0));
        }
        let (mut lat, mut lon) = (0i64, 0i64);
        for (_, g) in geo {
            let (a, o) = (g.lat.to_bits() as i64, g.lon.to_bits() as i64);
            put_ivarint(&mut s[GEO], a.wrapping_sub(lat));
            put_ivarint(&mut s[GEO], o.wrapping_sub(lon));
            (lat, lon) = (a, o);
        }
        if !elev.is_empty() {
            self.scratch.clear();
            self.scratch.extend(elev.iter().map(|e| e.1));
            let [meta, out] = s.get_disjoint_mut([META, ELEV]).expect("distinct sections");
            ints::put(meta, out, &self.scratch)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.ts.is_empty() {
            self.entries.clear();
            return Ok(());
        }
        self.encode_entries()?;
        self.sections[BLOB_DATA].extend_from_slice(&self.blob_data);
        self.raw.clear();
        put_uvarint(&mut self.raw, self.block_series);
        put_uvarint(&mut self.raw, self.ts.len() as u64);
        for s in &self.sections {
            put_bytes(&mut self.raw, s);
        }
        if self.raw.len() > MAX_RAW {
            bail!(
                "a block of {} bytes exceeds the format limit of {MAX_RAW}",
                self.raw.len()
            );
        }
        self.comp.clear();
        self.comp.reserve(zstd::zstd_safe::compress_bound(self.raw.len()));
        self.compressor
            .compress_to_buffer(&self.raw, &mut self.comp)
            .context("zstd compression of a block")?;
        let mut head = vec![TAG_BLOCK];
        put_uvarint(&mut head, self.raw.len() as u64);
        put_uvarint(&mut head, self.comp.len() as u64);
        self.out
            .write_all(&head)
            .and_then(|()| self.out.write_all(&self.comp))
            .context("writing archive block")?;
        self.index.push((self.offset, self.block_series, self.ts.len() as u64));
        let len = (head.len() + self.comp.len()) as u64;
        self.spans.clear();
        for i in 0..self.entries.len() {
            let ts = &self.ts[span(&self.entries, i, |e| e.points, self.ts.len())];
            if !ts.is_empty() {
                self.spans.push(SeriesSpan::of(&self.entries[i].key, ts));
            }
        }
        self.block_index.add_block(self.offset, len, &self.spans);
        self.offset += len;

        self.entries.clear();
        self.encoded = 0;
        self.descending.clear();
        self.block_series = 0;
        self.ts.clear();
        self.types.clear();
        self.longs.clear();
        self.doubles.clear();
        self.bools.clear();
        self.blob_lens.clear();
        self.blob_data.clear();
        self.geo.clear();
        self.elev.clear();
        Ok(())
    }
}

/// Where series `i` of the block starts and ends in the column that `col` indexes.
fn span(entries: &[Entry], i: usize, col: fn(&Entry) -> usize, len: usize) -> std::ops::Range<usize> {
    col(&entries[i])..entries.get(i + 1).map_or(len, col)
}

/// Presence bitmap over the points `pts` (block indices) given the sorted indices that have it.
fn put_presence(out: &mut Vec<u8>, pts: std::ops::Range<usize>, mut have: impl Iterator<Item = usize>) {
    let mut next = have.next();
    put_bits(
        out,
        pts.map(|k| {
            let hit = next == Some(k);
            if hit {
                next = have.next();
            }
            hit
        }),
    );
}

/// Reads a uvarint from a byte stream (frame headers).
fn read_uvarint(r: &mut impl Read) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let mut b = [0u8];
        r.read_exact(&mut b).context("archive ends inside a frame header")?;
        if shift == 63 && b[0] > 1 {
            break;
        }
        v |= u64::from(b[0] & 0x7f) << shift;
        if b[0] < 0x80 {
            return Ok(v);
        }
    }
    bail!("overlong varint in a frame header")
}

/// Counts the bytes read so that block offsets can be checked against the footer.
struct Counting<R> {
    inner: BufReader<R>,
    pos: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The block being decoded: its raw bytes, where each section starts and ends, and how far
/// each has been read.
#[derive(Default)]
struct Block {
    raw: Vec<u8>,
    ranges: [std::ops::Range<usize>; SECTIONS],
    pos: [usize; SECTIONS],
    series_left: usize,
    points_left: usize,
    /// Timestamps of the last `TS_REF_WINDOW` series, for references.
    recent: VecDeque<Vec<i64>>,
}

/// Streams `(key, points)` batches out of a columnar archive, one series (or one block's part
/// of a long series) at a time, in the order they were written.
pub struct Decoder<R: Read> {
    input: Counting<R>,
    decompressor: zstd::bulk::Decompressor<'static>,
    comp: Vec<u8>,
    block: Block,
    index: Vec<(u64, u64, u64)>,
    done: bool,
    /// Reading one block frame alone (a ranged read), not a whole archive.
    single_block: bool,
    /// The header announced an index frame; `rebuilt` is the index of the blocks decoded so
    /// far, `spans` that of the current block's series, to compare with the stored one.
    has_index: bool,
    index_seen: bool,
    rebuilt: index::Builder,
    spans: Vec<SeriesSpan>,
    /// Format version of the archive (which column codings it may use).
    version: u8,
    longs: Vec<i64>,
    mantissas: Vec<i64>,
    doubles: Vec<f64>,
    elevs: Vec<i64>,
}

impl<R: Read> Decoder<R> {
    /// Starts decoding; `input` must begin with the header (magic included).
    pub fn new(input: R) -> Result<Self> {
        let mut input = Counting {
            inner: BufReader::with_capacity(1 << 16, input),
            pos: 0,
        };
        let mut head = [0u8; 8];
        input
            .read_exact(&mut head)
            .context("archive is shorter than its header")?;
        if &head[..4] != MAGIC {
            bail!("not a columnar archive (bad magic)");
        }
        if !(1..=VERSION).contains(&head[4]) {
            bail!(
                "unsupported columnar archive version {} (this build reads 1 to {VERSION})",
                head[4]
            );
        }
        if head[5] != CODEC_ID || head[6] & !FLAG_INDEX != 0 || head[7] != 0 {
            bail!(
                "unsupported columnar archive codec {} / flags {:?}",
                head[5],
                &head[6..]
            );
        }
        let mut dec = Self::start(input, head[4])?;
        dec.has_index = head[6] & FLAG_INDEX != 0;
        Ok(dec)
    }

    /// Decodes one block frame alone (`'B'` to the end of its bytes), as read by range from an
    /// archive whose index located it.
    pub fn for_block(frame: R, version: u8) -> Result<Self> {
        if !(1..=VERSION).contains(&version) {
            bail!("unsupported columnar archive version {version} (this build reads 1 to {VERSION})");
        }
        let mut dec = Self::start(
            Counting {
                inner: BufReader::with_capacity(1 << 16, frame),
                pos: 0,
            },
            version,
        )?;
        dec.single_block = true;
        Ok(dec)
    }

    fn start(input: Counting<R>, version: u8) -> Result<Self> {
        Ok(Decoder {
            input,
            decompressor: zstd::bulk::Decompressor::new().context("setting up zstd")?,
            comp: Vec::new(),
            block: Block::default(),
            index: Vec::new(),
            done: false,
            single_block: false,
            has_index: false,
            index_seen: false,
            rebuilt: index::Builder::default(),
            spans: Vec::new(),
            version,
            longs: Vec::new(),
            mantissas: Vec::new(),
            doubles: Vec::new(),
            elevs: Vec::new(),
        })
    }

    /// The next batch, or None after the footer was read and checked.
    pub fn next_batch(&mut self) -> Result<Option<SeriesBatch>> {
        while self.block.series_left == 0 {
            if self.done {
                return Ok(None);
            }
            let offset = self.input.pos;
            if let Some(&(start, _, _)) = self.index.last() {
                self.check_block_end()?;
                if self.single_block {
                    if self.input.read(&mut [0u8])? != 0 {
                        bail!("unexpected bytes after the block");
                    }
                    self.done = true;
                    return Ok(None);
                }
                if !self.spans.is_empty() {
                    self.rebuilt.add_block(start, offset - start, &self.spans);
                    self.spans.clear();
                }
            }
            let mut tag = [0u8];
            self.input
                .read_exact(&mut tag)
                .context("archive is truncated (no footer)")?;
            match tag[0] {
                TAG_BLOCK => self.read_block(offset)?,
                TAG_INDEX if self.has_index && !self.index_seen && !self.single_block => self.read_index(offset)?,
                TAG_END if !self.single_block => {
                    if self.has_index && !self.index_seen {
                        bail!("the archive header announces an index but there is none before the footer");
                    }
                    self.read_footer()?;
                    self.done = true;
                }
                t => bail!("unknown frame tag {t:#04x} at offset {offset}"),
            }
        }
        let n = self.index.len();
        self.decode_series()
            .with_context(|| format!("decoding block {n} of the archive"))
            .map(Some)
    }

    fn check_block_end(&self) -> Result<()> {
        let b = &self.block;
        if let Some(k) = (0..SECTIONS).find(|&k| b.pos[k] != b.ranges[k].len()) {
            bail!(
                "block {}: {} section has unread bytes",
                self.index.len(),
                SECTION_NAMES[k]
            );
        }
        if b.points_left != 0 {
            bail!(
                "block {}: {} announced points are missing",
                self.index.len(),
                b.points_left
            );
        }
        Ok(())
    }

    fn read_block(&mut self, offset: u64) -> Result<()> {
        let raw_len = read_uvarint(&mut self.input)?;
        let comp_len = read_uvarint(&mut self.input)?;
        if raw_len > MAX_RAW as u64 || comp_len > zstd::zstd_safe::compress_bound(MAX_RAW) as u64 {
            bail!("block at offset {offset} declares {raw_len} / {comp_len} bytes, beyond the format limits");
        }
        self.comp.clear();
        (&mut self.input)
            .take(comp_len)
            .read_to_end(&mut self.comp)
            .context("reading an archive block")?;
        if self.comp.len() as u64 != comp_len {
            bail!("archive is truncated inside the block at offset {offset}");
        }
        let b = &mut self.block;
        b.raw.clear();
        b.raw.reserve_exact(raw_len as usize);
        let n = self
            .decompressor
            .decompress_to_buffer(&self.comp, &mut b.raw)
            .with_context(|| format!("block at offset {offset} does not decompress"))?;
        if n as u64 != raw_len {
            bail!("block at offset {offset} decompresses to {n} bytes, {raw_len} declared");
        }
        let mut r = Reader::new(&b.raw, "block header");
        let series = r.len(BLOCK_SERIES)?;
        let points = r.len(BLOCK_POINTS)?;
        for k in 0..SECTIONS {
            let len = r.len(r.remaining())?;
            let start = b.raw.len() - r.remaining();
            r.take(len)?;
            b.ranges[k] = start..start + len;
        }
        r.finish()?;
        if series == 0 || points < series {
            bail!("block at offset {offset} declares {series} series and {points} points");
        }
        b.pos = [0; SECTIONS];
        b.series_left = series;
        b.points_left = points;
        b.recent.clear();
        self.index.push((offset, series as u64, points as u64));
        Ok(())
    }

    /// Reads the index frame and requires it to be exactly the index of the blocks decoded.
    fn read_index(&mut self, offset: u64) -> Result<()> {
        let raw_len = read_uvarint(&mut self.input)?;
        let comp_len = read_uvarint(&mut self.input)?;
        let mut after_tag = Vec::new();
        put_uvarint(&mut after_tag, raw_len);
        put_uvarint(&mut after_tag, comp_len);
        (&mut self.input)
            .take(comp_len.saturating_add(4))
            .read_to_end(&mut after_tag)
            .context("reading the archive index")?;
        let raw = index::read_frame(&after_tag).with_context(|| format!("archive index at offset {offset}"))?;
        if raw != self.rebuilt.raw() {
            bail!("the archive index at offset {offset} does not describe the archive's blocks");
        }
        self.index_seen = true;
        Ok(())
    }

    fn read_footer(&mut self) -> Result<()> {
        let start = self.input.pos - 1;
        let len = read_uvarint(&mut self.input)?;
        if len > 64 + 30 * self.index.len() as u64 {
            bail!(
                "archive footer of {len} bytes is larger than its {} blocks need",
                self.index.len()
            );
        }
        let mut body = vec![0u8; len as usize];
        self.input
            .read_exact(&mut body)
            .context("archive is truncated inside its footer")?;
        let mut r = Reader::new(&body, "footer");
        if r.len(self.index.len())? != self.index.len() {
            bail!("archive footer lists a different number of blocks than the archive holds");
        }
        for &(offset, series, points) in &self.index {
            if (r.uvarint()?, r.uvarint()?, r.uvarint()?) != (offset, series, points) {
                bail!("archive footer does not match the block at offset {offset}");
            }
        }
        if r.uvarint()? != self.index.iter().map(|e| e.2).sum::<u64>() {
            bail!("archive footer total does not match the blocks");
        }
        r.finish()?;
        let mut trailer = [0u8; 8];
        self.input
            .read_exact(&mut trailer)
            .context("archive is truncated inside its trailer")?;
        let footer_len = self.input.pos - 8 - start;
        if u64::from(u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"))) != footer_len
            || &trailer[4..] != MAGIC
        {
            bail!("archive trailer is damaged");
        }
        if self.input.read(&mut [0u8])? != 0 {
            bail!("unexpected bytes after the archive trailer");
        }
        Ok(())
    }

    fn decode_series(&mut self) -> Result<SeriesBatch> {
        let version = self.version;
        let b = &mut self.block;
        let raw = &b.raw;
        let mut rd: [Reader; SECTIONS] =
            std::array::from_fn(|k| Reader::new(&raw[b.ranges[k].clone()], SECTION_NAMES[k]).at(b.pos[k]));
        let key = read_key(&mut rd[KEYS])?;
        let n = rd[META].len(b.points_left)?;
        if n == 0 {
            bail!("series {} has no points", key.class);
        }
        b.points_left -= n;
        b.series_left -= 1;
        let flags = rd[META].u8()?;
        let (kind, geo_mode, elev_mode) = (flags & 7, flags >> 3 & 3, flags >> 5 & 3);
        if kind > TAG_BIN || geo_mode > PRESENT_SOME || elev_mode > PRESENT_SOME {
            bail!("series {} has invalid flags {flags:#04x}", key.class);
        }
        let mut ts = Vec::new();
        if flags & 0x80 != 0 {
            let back = rd[META].len(b.recent.len())?;
            if back == 0 {
                bail!("timestamp reference distance 0");
            }
            apply_ts_edits(&mut rd[TS_REF], &b.recent[b.recent.len() - back], n, &mut ts)?;
        } else {
            let [meta, col] = rd.get_disjoint_mut([META, TS]).expect("distinct sections");
            ints::get(meta, col, n, &mut ts, version)?;
        }
        let types = if kind == 0 {
            let t = rd[TYPES].take(n)?;
            if let Some(bad) = t.iter().find(|&&t| !(TAG_LONG..=TAG_BIN).contains(&t)) {
                bail!("unknown value type {bad}");
            }
            Some(t)
        } else {
            None
        };
        let mut counts = [0usize; 6];
        match types {
            Some(t) => t.iter().for_each(|&t| counts[t as usize] += 1),
            None => counts[kind as usize] = n,
        }
        if counts[TAG_LONG as usize] > 0 {
            let [meta, col] = rd.get_disjoint_mut([META, LONGS]).expect("distinct sections");
            ints::get(meta, col, counts[TAG_LONG as usize], &mut self.longs, version)?;
        }
        let mut exp = 0;
        if counts[TAG_DOUBLE as usize] > 0 {
            exp = rd[META].u8()?;
            let [meta, col] = rd.get_disjoint_mut([META, D_MANT]).expect("distinct sections");
            ints::get(meta, col, counts[TAG_DOUBLE as usize], &mut self.mantissas, version)?;
        }
        let mut bools = rd[BOOLS].bits(counts[TAG_BOOL as usize])?;
        let mut geo_bits = presence(&mut rd[PRESENCE], geo_mode, n)?;
        let mut elev_bits = presence(&mut rd[PRESENCE], elev_mode, n)?;
        let elev_count = match &elev_bits {
            Some(bits) => bits.count_ones(n),
            None if elev_mode == PRESENT_ALL => n,
            None => 0,
        };
        if elev_count > 0 {
            let [meta, col] = rd.get_disjoint_mut([META, ELEV]).expect("distinct sections");
            ints::get(meta, col, elev_count, &mut self.elevs, version)?;
        }

        // Nearly every series holds one numeric type without location or elevation: its points
        // are built column by column, without the general loop's per-point branches (decoding
        // heldout to points went from about 33 to 50 M points/CPU-s).
        let plain = geo_mode == PRESENT_NONE && elev_mode == PRESENT_NONE;
        let points = if plain && kind == TAG_LONG {
            zip_points(&ts, self.longs.iter().map(|&v| Value::Long(v)))?
        } else if plain && kind == TAG_DOUBLE {
            let [c, e] = rd.get_disjoint_mut([D_CORR, D_ESC]).expect("distinct sections");
            self.doubles.clear();
            for &m in &self.mantissas {
                self.doubles.push(double::join(m, exp, c, e)?);
            }
            zip_points(&ts, self.doubles.iter().map(|&v| Value::Double(v)))?
        } else {
            let mut points = Vec::with_capacity(n);
            let (mut li, mut di, mut ei) = (0, 0, 0);
            let (mut lat, mut lon) = (0i64, 0i64);
            for (k, &t) in ts.iter().enumerate() {
                let tag = types.map_or(kind, |ty| ty[k]);
                let value = match tag {
                    TAG_LONG => {
                        li += 1;
                        Value::Long(self.longs[li - 1])
                    }
                    TAG_DOUBLE => {
                        di += 1;
                        let [c, e] = rd.get_disjoint_mut([D_CORR, D_ESC]).expect("distinct sections");
                        Value::Double(double::join(self.mantissas[di - 1], exp, c, e)?)
                    }
                    TAG_BOOL => Value::Bool(bools.next_bit()),
                    _ => {
                        let len = rd[BLOB_LENS].len(rd[BLOB_DATA].remaining())?;
                        let bytes = rd[BLOB_DATA].take(len)?;
                        if tag == TAG_STR {
                            Value::Str(String::from_utf8(bytes.to_vec()).context("STRING value is not UTF-8")?)
                        } else {
                            Value::Bin(bytes.to_vec())
                        }
                    }
                };
                let geo = if present(geo_mode, &mut geo_bits) {
                    lat = lat.wrapping_add(rd[GEO].ivarint()?);
                    lon = lon.wrapping_add(rd[GEO].ivarint()?);
                    Some(Geo {
                        lat: f64::from_bits(lat as u64),
                        lon: f64::from_bits(lon as u64),
                    })
                } else {
                    None
                };
                let elev = if present(elev_mode, &mut elev_bits) {
                    ei += 1;
                    Some(self.elevs[ei - 1])
                } else {
                    None
                };
                points.push(Point {
                    ts: t,
                    geo,
                    elev,
                    value,
                });
            }
            points
        };
        for (pos, r) in b.pos.iter_mut().zip(&rd) {
            *pos = r.pos();
        }
        if b.recent.len() == TS_REF_WINDOW {
            b.recent.pop_front();
        }
        if !self.single_block {
            self.spans.push(SeriesSpan::of(&key, &ts));
        }
        b.recent.push_back(ts);
        Ok(SeriesBatch { key, points })
    }
}

/// Points without location or elevation from a timestamp column and a value column. The
/// columns were read as `n` values each; checked again here because `zip` would silently drop
/// the points of a longer timestamp column.
fn zip_points(ts: &[i64], values: impl ExactSizeIterator<Item = Value>) -> Result<Vec<Point>> {
    if values.len() != ts.len() {
        bail!("{} timestamps but {} values", ts.len(), values.len());
    }
    Ok(ts
        .iter()
        .zip(values)
        .map(|(&ts, value)| Point {
            ts,
            geo: None,
            elev: None,
            value,
        })
        .collect())
}

fn presence<'a>(r: &mut Reader<'a>, mode: u8, n: usize) -> Result<Option<Bits<'a>>> {
    Ok(if mode == PRESENT_SOME { Some(r.bits(n)?) } else { None })
}

fn present(mode: u8, bits: &mut Option<Bits>) -> bool {
    match bits {
        Some(b) => b.next_bit(),
        None => mode == PRESENT_ALL,
    }
}

/// A series key as the `keys` section (and the index) hold it: class, label count, pairs.
pub(super) fn put_key(out: &mut Vec<u8>, key: &SeriesKey) {
    put_bytes(out, key.class.as_bytes());
    put_uvarint(out, key.labels.len() as u64);
    for (k, v) in &key.labels {
        put_bytes(out, k.as_bytes());
        put_bytes(out, v.as_bytes());
    }
}

pub(super) fn read_key(r: &mut Reader) -> Result<SeriesKey> {
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).context("series name is not UTF-8");
    let class = text(r.bytes()?)?;
    let n = r.len(MAX_KEY_BYTES.min(r.remaining()))?;
    let mut labels = std::collections::BTreeMap::new();
    for _ in 0..n {
        let k = text(r.bytes()?)?;
        let v = text(r.bytes()?)?;
        if labels.insert(k, v).is_some() {
            bail!("series {class} has a duplicate label");
        }
    }
    Ok(SeriesKey { class, labels })
}
