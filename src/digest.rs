//! Order-independent digest of a set of points.
//!
//! Warp 10 returns series in arbitrary order and the archive may reorder both series and points,
//! so the digest is a multiset hash: the wrapping sum (mod 2^128) of a 128-bit hash of each
//! canonical point record `(series key, ts, geo, elevation, type, value bits)`.
//! The series key is hashed once with BLAKE3; each point then costs one XXH3-128 over ~50 bytes,
//! which keeps the digest far below the parse cost (a per-point BLAKE3 would double it).
//! The digest detects accidents (lost, duplicated or altered points); authenticity of archives
//! comes from the BLAKE3 of the object and optional AEAD encryption.

use crate::gts::{Point, SeriesKey, Value};
use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "x3s1:";

/// Hash of a series identity, computed once per series and mixed into every point record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesHash([u8; 16]);

impl SeriesHash {
    pub fn of(key: &SeriesKey) -> SeriesHash {
        let mut h = blake3::Hasher::new_derive_key("warp-offload series key v1");
        put_bytes(&mut h, key.class.as_bytes());
        h.update(&(key.labels.len() as u64).to_le_bytes());
        for (k, v) in &key.labels {
            put_bytes(&mut h, k.as_bytes());
            put_bytes(&mut h, v.as_bytes());
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        SeriesHash(out)
    }
}

fn put_bytes(h: &mut blake3::Hasher, b: &[u8]) {
    h.update(&(b.len() as u64).to_le_bytes());
    h.update(b);
}

/// Multiset digest plus the point count it covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Digest {
    sum: u128,
}

impl Digest {
    pub fn add(&mut self, series: &SeriesHash, p: &Point) {
        self.sum = self.sum.wrapping_add(point_hash(series, p));
    }

    /// Adds the points of another digest (the union of two disjoint multisets).
    pub fn merge(&mut self, other: &Digest) {
        self.sum = self.sum.wrapping_add(other.sum);
    }
}

/// The 128-bit hash of one canonical point record (the digest is their sum). Purge uses the
/// set of them to tell which points of a partly deleted range are still archived.
pub fn point_hash(series: &SeriesHash, p: &Point) -> u128 {
    let mut buf = [0u8; RECORD];
    match record(series, p, &mut buf) {
        Some(tail) => hash_with_tail(&buf[..HEAD], tail),
        None => xxhash_rust::xxh3::xxh3_128(&buf[..FIXED]),
    }
}

/// Bytes of a record buffer; of a record whose value fits in it; of the part before the value.
const RECORD: usize = 64;
const FIXED: usize = 57;
const HEAD: usize = 49;

/// Lays out the canonical record of `p` in `buf` (zeroed): all of it for fixed-size values, or
/// its head and the value bytes to hash after it (strings and bytes).
fn record<'p>(series: &SeriesHash, p: &'p Point, buf: &mut [u8; RECORD]) -> Option<&'p [u8]> {
    buf[..16].copy_from_slice(&series.0);
    buf[16..24].copy_from_slice(&p.ts.to_le_bytes());
    let mut flags = p.value.type_tag();
    if let Some(g) = p.geo {
        flags |= 0x10;
        buf[25..33].copy_from_slice(&g.lat.to_bits().to_le_bytes());
        buf[33..41].copy_from_slice(&g.lon.to_bits().to_le_bytes());
    }
    if let Some(e) = p.elev {
        flags |= 0x20;
        buf[41..49].copy_from_slice(&e.to_le_bytes());
    }
    buf[24] = flags;
    match &p.value {
        Value::Long(v) => buf[49..57].copy_from_slice(&v.to_le_bytes()),
        Value::Double(v) => buf[49..57].copy_from_slice(&v.to_bits().to_le_bytes()),
        Value::Bool(v) => buf[49] = u8::from(*v),
        Value::Str(s) => return Some(s.as_bytes()),
        Value::Bin(b) => return Some(b),
    }
    None
}

/// Records laid out and not hashed yet in a [`DigestBuilder`].
const PENDING: usize = 16;

/// Builds a [`Digest`] point by point, hashing fixed-size records a few at a time. A record
/// hashed right after it is laid out makes the CPU wait for its own stores (the hash reads
/// 8-byte words across fields stored with other offsets), which costs about as much as the
/// hash itself: 12 ns a point one by one, 7 in batches (micro-benchmark of XXH3-128 on 57
/// bytes). The sum is the same as [`Digest::add`] of every point.
pub struct DigestBuilder {
    sum: Digest,
    pending: [[u8; RECORD]; PENDING],
    n: usize,
}

impl Default for DigestBuilder {
    fn default() -> Self {
        DigestBuilder {
            sum: Digest::default(),
            pending: [[0; RECORD]; PENDING],
            n: 0,
        }
    }
}

impl DigestBuilder {
    pub fn add(&mut self, series: &SeriesHash, p: &Point) {
        let buf = &mut self.pending[self.n];
        *buf = [0; RECORD];
        match record(series, p, buf) {
            Some(tail) => self.sum.sum = self.sum.sum.wrapping_add(hash_with_tail(&buf[..HEAD], tail)),
            None => {
                self.n += 1;
                if self.n == PENDING {
                    self.hash_pending();
                }
            }
        }
    }

    fn hash_pending(&mut self) {
        for r in &self.pending[..self.n] {
            self.sum.sum = self.sum.sum.wrapping_add(xxhash_rust::xxh3::xxh3_128(&r[..FIXED]));
        }
        self.n = 0;
    }

    pub fn finish(mut self) -> Digest {
        self.hash_pending();
        self.sum
    }
}

fn hash_with_tail(head: &[u8], tail: &[u8]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(head);
    h.update(&(tail.len() as u64).to_le_bytes());
    h.update(tail);
    h.digest128()
}

/// The exact set of point records of an archive, for questions a multiset sum cannot answer:
/// which points of a partly deleted range are archived, whether a restore wrote every point.
/// 16 bytes per point.
#[derive(Debug, Default)]
pub struct PointSet {
    hashes: Vec<u128>,
}

impl PointSet {
    pub fn insert(&mut self, series: &SeriesHash, p: &Point) {
        self.hashes.push(point_hash(series, p));
    }

    /// Sorts the set; call once after the last insert and before any lookup.
    pub fn seal(&mut self) {
        self.hashes.sort_unstable();
    }

    pub fn contains(&self, series: &SeriesHash, p: &Point) -> bool {
        self.hashes.binary_search(&point_hash(series, p)).is_ok()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{:032x}", self.sum)
    }
}

impl FromStr for Digest {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Digest> {
        let hex = s
            .strip_prefix(PREFIX)
            .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| anyhow::anyhow!("invalid digest {s:?}: expected {PREFIX} and 32 hex digits"))?;
        Ok(Digest {
            sum: u128::from_str_radix(hex, 16)?,
        })
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gts::Geo;

    fn key(c: &str) -> SeriesKey {
        SeriesKey {
            class: c.into(),
            labels: [("host".to_string(), "a".to_string())].into(),
        }
    }

    fn pt(ts: i64, value: Value) -> Point {
        Point {
            ts,
            geo: None,
            elev: None,
            value,
        }
    }

    #[test]
    fn order_independent_and_sensitive_to_every_field() {
        let a = SeriesHash::of(&key("a"));
        let b = SeriesHash::of(&key("b"));
        let pts = [
            pt(1, Value::Long(1)),
            pt(2, Value::Double(1.0)),
            pt(3, Value::Str("x".into())),
        ];
        let mut d1 = Digest::default();
        for p in &pts {
            d1.add(&a, p);
        }
        let mut d2 = Digest::default();
        for p in pts.iter().rev() {
            d2.add(&a, p);
        }
        assert_eq!(d1, d2);
        let variants = [
            (b, pt(1, Value::Long(1))),
            (a, pt(1, Value::Double(1.0))),
            (a, pt(0, Value::Long(1))),
            (
                a,
                Point {
                    geo: Some(Geo { lat: 0.0, lon: 0.0 }),
                    ..pt(1, Value::Long(1))
                },
            ),
            (
                a,
                Point {
                    elev: Some(0),
                    ..pt(1, Value::Long(1))
                },
            ),
        ];
        let mut base = Digest::default();
        base.add(&a, &pt(1, Value::Long(1)));
        for (s, p) in variants {
            let mut d = Digest::default();
            d.add(&s, &p);
            assert_ne!(d, base, "{p:?}");
        }
        let mut z = Digest::default();
        z.add(&a, &pt(1, Value::Double(0.0)));
        let mut nz = Digest::default();
        nz.add(&a, &pt(1, Value::Double(-0.0)));
        assert_ne!(z, nz);
    }

    #[test]
    fn the_builder_sums_what_add_sums() {
        let (a, b) = (SeriesHash::of(&key("a")), SeriesHash::of(&key("b")));
        let geo = Some(Geo { lat: 1.5, lon: -2.25 });
        let mut pts = Vec::new();
        for ts in 0..100i64 {
            let value = match ts % 5 {
                0 => Value::Long(ts * 7),
                1 => Value::Double(ts as f64 / 3.0),
                2 => Value::Bool(ts % 2 == 0),
                3 => Value::Str(format!("s{ts}")),
                _ => Value::Bin(vec![ts as u8; ts as usize % 9]),
            };
            let (geo, elev) = (geo.filter(|_| ts % 3 == 0), Some(ts).filter(|_| ts % 4 == 0));
            pts.push((if ts % 2 == 0 { a } else { b }, Point { ts, geo, elev, value }));
        }
        // Every count around the batch size, so that a record left pending would show.
        for n in [0, 1, PENDING - 1, PENDING, PENDING + 1, 3 * PENDING + 5, pts.len()] {
            let mut one = Digest::default();
            let mut built = DigestBuilder::default();
            for (s, p) in &pts[..n] {
                one.add(s, p);
                built.add(s, p);
            }
            assert_eq!(built.finish(), one, "{n} points");
        }
    }

    #[test]
    fn point_set_membership() {
        let a = SeriesHash::of(&key("a"));
        let mut set = PointSet::default();
        for ts in [5, 1, 3] {
            set.insert(&a, &pt(ts, Value::Long(ts)));
        }
        set.seal();
        assert!(set.contains(&a, &pt(3, Value::Long(3))));
        assert!(!set.contains(&a, &pt(3, Value::Long(4))));
        assert!(!set.contains(&SeriesHash::of(&key("b")), &pt(3, Value::Long(3))));
    }

    #[test]
    fn display_parse_round_trip() {
        let mut d = Digest::default();
        d.add(&SeriesHash::of(&key("a")), &pt(1, Value::Bin(vec![0, 255])));
        let s = d.to_string();
        assert_eq!(s.parse::<Digest>().unwrap(), d);
        assert!("x3s1:zz".parse::<Digest>().is_err());
        assert!("sha:00".parse::<Digest>().is_err());
    }
}
