//! Byte-level building blocks of the columnar format: LEB128 varints, zigzag, bitmaps, and a
//! bounds-checked reader that turns every overrun into an error instead of a panic.

use anyhow::{Result, bail};

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

pub fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Packs booleans eight to a byte, least significant bit first.
pub fn put_bits(out: &mut Vec<u8>, bits: impl IntoIterator<Item = bool>) {
    let mut byte = 0u8;
    let mut n = 0;
    for b in bits {
        byte |= u8::from(b) << n;
        n += 1;
        if n == 8 {
            out.push(byte);
            byte = 0;
            n = 0;
        }
    }
    if n > 0 {
        out.push(byte);
    }
}

/// A cursor over one section of a decoded block. Every read checks what remains.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    /// The same reader moved to `pos` (clamped to the end).
    pub fn at(self, pos: usize) -> Self {
        Reader {
            pos: pos.min(self.buf.len()),
            ..self
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn u8(&mut self) -> Result<u8> {
        let Some(&b) = self.buf.get(self.pos) else {
            bail!("{} section ends early", self.what)
        };
        self.pos += 1;
        Ok(b)
    }

    pub fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        bail!("{} section holds an overlong varint", self.what)
    }

    pub fn ivarint(&mut self) -> Result<i64> {
        Ok(unzigzag(self.uvarint()?))
    }

    /// A varint used as a count or length, checked against `max`.
    pub fn len(&mut self, max: usize) -> Result<usize> {
        let v = self.uvarint()?;
        if v > max as u64 {
            bail!("{} section: length {v} exceeds the limit {max}", self.what);
        }
        Ok(v as usize)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            bail!("{} section: {n} bytes needed, {} left", self.what, self.remaining());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(self.remaining())?;
        self.take(n)
    }

    pub fn u64_le(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// `n` booleans packed by `put_bits`.
    pub fn bits(&mut self, n: usize) -> Result<Bits<'a>> {
        Ok(Bits {
            bytes: self.take(n.div_ceil(8))?,
            i: 0,
        })
    }

    /// Fails unless the whole section was consumed: leftovers mean a corrupt block.
    pub fn finish(&self) -> Result<()> {
        if !self.is_empty() {
            bail!(
                "{} section has {} unexpected trailing bytes",
                self.what,
                self.remaining()
            );
        }
        Ok(())
    }
}

/// A bitmap being read, within a slice already checked to hold all its bits.
pub struct Bits<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl Bits<'_> {
    /// Set bits among the first `n` (padding bits are ignored).
    pub fn count_ones(&self, n: usize) -> usize {
        let full: usize = self.bytes[..(n / 8).min(self.bytes.len())]
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum();
        let tail = self
            .bytes
            .get(n / 8)
            .map_or(0, |b| (b & ((1u8 << (n % 8)) - 1)).count_ones() as usize);
        full + tail
    }

    pub fn next_bit(&mut self) -> bool {
        let b = self
            .bytes
            .get(self.i / 8)
            .is_some_and(|byte| byte >> (self.i % 8) & 1 == 1);
        self.i += 1;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let vals = [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 53];
        let mut out = Vec::new();
        for v in vals {
            put_ivarint(&mut out, v);
        }
        put_uvarint(&mut out, u64::MAX);
        let mut r = Reader::new(&out, "test");
        for v in vals {
            assert_eq!(r.ivarint().unwrap(), v);
        }
        assert_eq!(r.uvarint().unwrap(), u64::MAX);
        r.finish().unwrap();
        for v in [0u64, 127, 128, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v));
        }
    }

    #[test]
    fn overruns_are_errors() {
        assert!(Reader::new(&[0x80], "t").uvarint().is_err());
        assert!(Reader::new(&[0xff; 11], "t").uvarint().is_err());
        assert!(Reader::new(&[5, 1], "t").bytes().is_err());
        assert!(Reader::new(&[0x7f], "t").len(10).is_err());
        assert!(Reader::new(&[1], "t").bits(9).is_err());
    }
}
