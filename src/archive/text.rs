//! Reading Warp 10 fetch text (a spool, or the content of a `gts.zst` archive) point by point.

use crate::gts::line::{FetchLine, parse_fetch_line, parse_header};
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
        self.buf.clear();
        let n = (&mut self.input)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .with_context(|| format!("reading line {}", self.line_no + 1))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        let line_no = self.line_no;
        let Some(line) = self.buf.strip_suffix(b"\n") else {
            bail!("line {line_no} is truncated or longer than {MAX_LINE} bytes");
        };
        match parse_fetch_line(line).with_context(|| format!("line {line_no}"))? {
            FetchLine::Cont(p) => {
                if self.key.is_none() {
                    bail!("line {line_no}: continuation line before any series");
                }
                Ok(Some((false, p)))
            }
            FetchLine::Full { header, point, .. } => {
                if self.key.is_some() && header == self.header.as_slice() {
                    return Ok(Some((false, point)));
                }
                let key = parse_header(header).with_context(|| format!("line {line_no}"))?;
                self.header.clear();
                self.header.extend_from_slice(header);
                let new = self.key.as_ref() != Some(&key);
                self.key = Some(key);
                Ok(Some((new, point)))
            }
        }
    }
}
