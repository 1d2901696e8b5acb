//! Reading Warp 10 fetch text (a spool, or the content of a `gts.zst` archive) point by point.

use crate::gts::line::{FetchLine, parse_fetch_line, parse_header, parse_plain_cont, parse_plain_cont_line};
use crate::gts::{Point, SeriesKey};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Read};

/// Longest line accepted, as in `fetch`: a 64 KiB string percent-encodes to 192 KiB.
const MAX_LINE: u64 = 4 << 20;

pub struct TextReader<R> {
    input: R,
    buf: Vec<u8>,
    header: Vec<u8>,
    key: Option<SeriesKey>,
    line_no: u64,
}

impl<R: BufRead> TextReader<R> {
    pub fn new(input: R) -> Self {
        TextReader {
            input,
            buf: Vec::with_capacity(256),
            header: Vec::new(),
            key: None,
            line_no: 0,
        }
    }

    /// The series of the last point returned.
    pub fn key(&self) -> &SeriesKey {
        self.key.as_ref().expect("a point was read")
    }

    /// The next point and whether it starts a new series (a full line naming another series
    /// than the previous one), or None at the end.
    pub fn next_point(&mut self) -> Result<Option<(bool, Point)>> {
        let line_no = self.line_no + 1;
        // A line wholly in the reader's buffer is parsed there; one that straddles the end of
        // the buffer (or the rare very long line) is copied out first.
        let available = self
            .input
            .fill_buf()
            .with_context(|| format!("reading line {line_no}"))?;
        // Nearly every line is `=TS// NUMBER`: parsed where it starts, its end found on the way.
        if self.key.is_some()
            && let Some((ts, value, len)) = parse_plain_cont_line(available)
        {
            self.line_no = line_no;
            self.input.consume(len);
            let point = Point {
                ts,
                geo: None,
                elev: None,
                value,
            };
            return Ok(Some((false, point)));
        }
        if let Some(end) = memchr::memchr(b'\n', available) {
            self.line_no = line_no;
            let point = parse(&mut self.header, &mut self.key, &available[..end], line_no);
            self.input.consume(end + 1);
            return point.map(Some);
        }
        self.buf.clear();
        let n = (&mut self.input)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .with_context(|| format!("reading line {line_no}"))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no = line_no;
        let Some(line) = self.buf.strip_suffix(b"\n") else {
            bail!("line {line_no} is truncated or longer than {MAX_LINE} bytes");
        };
        parse(&mut self.header, &mut self.key, line, line_no).map(Some)
    }
}

/// Parses one line given the raw header and the key of the previous series; see `next_point`.
#[inline]
fn parse(header: &mut Vec<u8>, key: &mut Option<SeriesKey>, line: &[u8], line_no: u64) -> Result<(bool, Point)> {
    if key.is_some()
        && let Some((ts, value)) = parse_plain_cont(line)
    {
        return Ok((
            false,
            Point {
                ts,
                geo: None,
                elev: None,
                value,
            },
        ));
    }
    match parse_fetch_line(line).with_context(|| format!("line {line_no}"))? {
        FetchLine::Cont(p) => {
            if key.is_none() {
                bail!("line {line_no}: continuation line before any series");
            }
            Ok((false, p))
        }
        FetchLine::Full { header: h, point, .. } => {
            if key.is_some() && h == header.as_slice() {
                return Ok((false, point));
            }
            let parsed = parse_header(h).with_context(|| format!("line {line_no}"))?;
            header.clear();
            header.extend_from_slice(h);
            let new = key.as_ref() != Some(&parsed);
            *key = Some(parsed);
            Ok((new, point))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines parsed in the reader's buffer and lines that straddle its end (or exceed it)
    /// give the same points and series.
    #[test]
    fn lines_across_buffer_ends_read_the_same() {
        let text =
            b"1000// a{x=1} 1.5\n=999// -2\n=998// 3.25\n1000/1.5:2.5/7 b{} 'a%20long%20string%20value'\n=997// T\n";
        let read = |mut r: TextReader<&mut dyn BufRead>| {
            let mut all = Vec::new();
            while let Some((new, p)) = r.next_point().unwrap() {
                all.push((new, r.key().clone(), p));
            }
            all
        };
        let whole = read(TextReader::new(&mut &text[..]));
        assert_eq!(whole.len(), 5);
        for capacity in 1..text.len() {
            let mut small = std::io::BufReader::with_capacity(capacity, &text[..]);
            assert_eq!(read(TextReader::new(&mut small)), whole, "buffer of {capacity} bytes");
        }
    }
}
