//! The strict checker of Warp 10 fetch output, shared by `fetch` (which archives it), `purge`
//! (which re-fetches before deleting) and `restore` (which reads back what it wrote): every line
//! parsed, every point inside the range, timestamps strictly decreasing within a series, no
//! series twice, no in-band error, no truncated end.

use super::line::{FetchLine, parse_fetch_line, parse_header, parse_plain_cont};
use super::{Point, SeriesKey};
use crate::digest::{Digest, DigestBuilder, SeriesHash};
use crate::error::Transient;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use std::io::{BufRead, Read, Write};

/// Longest line accepted: a 64 KiB string percent-encodes to 192 KiB, labels add a few KiB.
const MAX_LINE: u64 = 4 << 20;

#[derive(Debug)]
pub struct StreamStats {
    pub points: u64,
    pub bytes: u64,
    pub digest: Digest,
    /// Every series that had at least one point.
    pub series: HashSet<SeriesHash>,
}

/// Reads Warp 10 text output line by line, checks it strictly against the inclusive range
/// `[start, end]`, and copies it to `out`. Fails on an in-band error (`#` line, empty line), a
/// truncated last line, a point outside the range, a timestamp that does not strictly decrease
/// within a series, a series printed twice, or any malformed line. `on_point` sees every point
/// with its series; its error stops the stream.
pub fn check_stream(
    mut input: impl BufRead,
    start: i64,
    end: i64,
    out: &mut impl Write,
    mut on_point: impl FnMut(&SeriesKey, &SeriesHash, &crate::gts::Point) -> Result<()>,
) -> Result<StreamStats> {
    let mut c = Checker {
        start,
        end,
        line_no: 0,
        stats: StreamStats {
            points: 0,
            bytes: 0,
            digest: Digest::default(),
            series: HashSet::new(),
        },
        digest: DigestBuilder::default(),
        header: Vec::new(),
        current: None,
        key: SeriesKey::default(),
    };
    let read_error =
        |e: std::io::Error, line_no: u64| Transient(format!("reading fetch body after line {line_no}: {e}"));
    // Lines are checked where they lie in the reader's buffer; only a line split across two
    // reads is gathered in `split` (copying every line cost a tenth of `all`'s CPU with 1-hour
    // segments).
    let mut split = Vec::new();
    loop {
        let avail = input.fill_buf().map_err(|e| read_error(e, c.line_no))?;
        if avail.is_empty() {
            break;
        }
        let (mut used, mut in_band) = (0, None);
        for nl in memchr::memchr_iter(b'\n', avail) {
            let line = &avail[used..=nl];
            used = nl + 1;
            if let Err(line) = c.line(line, out, &mut on_point)? {
                in_band = Some(line.to_vec());
                break;
            }
        }
        let rest = avail.len() - used;
        input.consume(used);
        if let Some(line) = in_band {
            return Err(in_band_error(&mut input, &line, c.line_no, c.stats.points));
        }
        if rest == 0 {
            continue;
        }
        split.clear();
        (&mut input)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut split)
            .map_err(|e| read_error(e, c.line_no))?;
        if split.last() != Some(&b'\n') {
            let line_no = c.line_no + 1;
            if split.len() as u64 > MAX_LINE {
                bail!("line {line_no} is longer than {MAX_LINE} bytes");
            }
            return Err(Transient(format!(
                "fetch body ends with a truncated line {line_no} (the server stopped mid-stream)"
            ))
            .into());
        }
        if let Err(line) = c.line(&split, out, &mut on_point)? {
            return Err(in_band_error(&mut input, line, c.line_no, c.stats.points));
        }
    }
    c.stats.digest = c.digest.finish();
    Ok(c.stats)
}

/// The state of [`check_stream`] between lines.
struct Checker {
    start: i64,
    end: i64,
    line_no: u64,
    stats: StreamStats,
    digest: DigestBuilder,
    /// The header of the current series as printed, and the series parsed from it.
    header: Vec<u8>,
    key: SeriesKey,
    /// The current series and its last timestamp.
    current: Option<(SeriesHash, i64)>,
}

impl Checker {
    /// Checks one line (with its `\n`) and copies it to `out`; `Err(line)` (without the `\n`)
    /// for an empty or `#` line, the start of an in-band error that the caller reads on.
    fn line<'l>(
        &mut self,
        with_nl: &'l [u8],
        out: &mut impl Write,
        on_point: &mut impl FnMut(&SeriesKey, &SeriesHash, &crate::gts::Point) -> Result<()>,
    ) -> Result<Result<(), &'l [u8]>> {
        self.line_no += 1;
        let line_no = self.line_no;
        if with_nl.len() as u64 > MAX_LINE {
            bail!("line {line_no} is longer than {MAX_LINE} bytes");
        }
        self.stats.bytes += with_nl.len() as u64;
        let line = &with_nl[..with_nl.len() - 1];
        if line.is_empty() || line == b"\r" || line[0] == b'#' {
            return Ok(Err(line));
        }
        // The usual `=TS// VALUE` line holds only digits and `=/ -.`: no raw byte to check.
        let point = match self.current.and_then(|_| parse_plain_cont(line)) {
            Some((ts, value)) => {
                check_next(&mut self.current, ts, line_no)?;
                Point {
                    ts,
                    geo: None,
                    elev: None,
                    value,
                }
            }
            None => check_line(
                line,
                line_no,
                &mut self.header,
                &mut self.current,
                &mut self.key,
                &mut self.stats.series,
            )?,
        };
        if point.ts < self.start || point.ts > self.end {
            bail!(
                "line {line_no}: timestamp {} is outside the requested range [{}, {}]",
                point.ts,
                self.start,
                self.end
            );
        }
        let (hash, _) = self.current.expect("a series is current");
        self.digest.add(&hash, &point);
        self.stats.points += 1;
        on_point(&self.key, &hash, &point)?;
        if self.stats.points == 100 {
            crate::exit::failpoint("fetch-mid-stream");
        }
        out.write_all(with_nl).context("writing spool")?;
        Ok(Ok(()))
    }
}

/// Any line but the usual continuation line: checked byte by byte and parsed by the general
/// parser; a full line naming another series makes that series current.
fn check_line(
    line: &[u8],
    line_no: u64,
    header: &mut Vec<u8>,
    current: &mut Option<(SeriesHash, i64)>,
    key: &mut SeriesKey,
    series: &mut HashSet<SeriesHash>,
) -> Result<Point> {
    check_raw_bytes(line, line_no)?;
    let parsed = parse_fetch_line(line).with_context(|| format!("fetch output line {line_no}"))?;
    match parsed {
        FetchLine::Full { header: h, point, .. } => {
            if current.is_none() || h != header.as_slice() {
                *key = parse_header(h).with_context(|| format!("fetch output line {line_no}"))?;
                let hash = SeriesHash::of(key);
                if !series.insert(hash) {
                    bail!(
                        "line {line_no}: series {} appears twice in the fetch output (two series differing only \
                         in hidden labels, or overlapping selectors): restoring would merge them",
                        String::from_utf8_lossy(h)
                    );
                }
                header.clear();
                header.extend_from_slice(h);
                *current = Some((hash, i64::MAX));
            }
            check_next(current, point.ts, line_no)?;
            Ok(point)
        }
        FetchLine::Cont(point) => {
            if current.is_none() {
                bail!("line {line_no}: continuation line before any series");
            }
            check_next(current, point.ts, line_no)?;
            Ok(point)
        }
    }
}

/// Warp 10 percent-encodes control characters and non-ASCII in everything it prints, so a raw
/// control byte or invalid UTF-8 in its output is corruption, not data (the parser itself is
/// lenient with raw characters, as Warp 10's decoder is).
fn check_raw_bytes(line: &[u8], line_no: u64) -> Result<()> {
    // Printable ASCII, the usual case, in one pass the compiler vectorizes (no early exit).
    if line.iter().fold(true, |ok, &b| ok & (b.wrapping_sub(0x20) < 0x5f)) {
        return Ok(());
    }
    if let Some(at) = line.iter().position(|&b| b < 0x20 || b == 0x7f) {
        bail!(
            "line {line_no}: raw control byte 0x{:02x} at byte {} (Warp 10 would have percent-encoded it)",
            line[at],
            at + 1
        );
    }
    if let Err(e) = std::str::from_utf8(line) {
        bail!("line {line_no}: invalid UTF-8 at byte {}", e.valid_up_to() + 1);
    }
    Ok(())
}

/// Enforces strictly decreasing timestamps within the current series.
#[inline]
fn check_next(current: &mut Option<(SeriesHash, i64)>, ts: i64, line_no: u64) -> Result<()> {
    let (_, last) = current.as_mut().expect("a series is current");
    if ts >= *last {
        bail!("line {line_no}: timestamp {ts} does not strictly decrease within its series (previous {last})");
    }
    *last = ts;
    Ok(())
}

/// Builds the error for an empty or `#` line: Warp 10 signals a mid-stream failure with an
/// empty line and `# ERROR: <url-encoded message>` when `showerrors` is set.
fn in_band_error(input: &mut impl BufRead, line: &[u8], line_no: u64, points: u64) -> anyhow::Error {
    let mut text = line.to_vec();
    if line.is_empty() || line == b"\r" {
        text.clear();
        let _ = input.take(4096).read_until(b'\n', &mut text);
    }
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    if let Some(msg) = text.strip_prefix("# ERROR:") {
        let msg = crate::gts::percent::decode_str(msg.trim().as_bytes()).unwrap_or_else(|_| msg.trim().to_string());
        let first = msg.lines().next().unwrap_or("").chars().take(200).collect::<String>();
        return Transient(format!(
            "Warp 10 reported an error after {points} points (line {line_no}): {first}"
        ))
        .into();
    }
    if text.starts_with('#') {
        anyhow::anyhow!("line {line_no}: unexpected comment line in fetch output after {points} points")
    } else {
        anyhow::anyhow!("line {line_no}: empty line in fetch output after {points} points")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `text` read whole and through buffers of a few bytes (lines split across reads),
    /// which must give the same stats, copy, or error.
    fn check(text: &str) -> Result<StreamStats> {
        let run = |input: &mut dyn BufRead| {
            let mut copy = Vec::new();
            let r = check_stream(input, 0, 1000, &mut copy, |_, _, _| Ok(()));
            let shown = match &r {
                Ok(s) => format!("{} {} {} {:?}", s.points, s.bytes, s.digest, copy),
                Err(e) => format!("{e:#} {}", crate::error::is_transient(e)),
            };
            (r, shown)
        };
        let (whole, shown) = run(&mut text.as_bytes());
        for cap in [1, 2, 3, 5, 8, 13, 64] {
            let (_, small) = run(&mut std::io::BufReader::with_capacity(cap, text.as_bytes()));
            assert_eq!(small, shown, "{text:?} read {cap} bytes at a time");
        }
        whole
    }

    #[test]
    fn counts_and_digests() {
        let s = check("10// a{x=1} 1\n=9// 2.0\n=1// T\n10// b{} 'x'\n").unwrap();
        assert_eq!((s.points, s.series.len()), (4, 2));
        let reordered = check("10// b{} 'x'\n10// a{x=1} 1\n=9// 2.0\n=1// T\n").unwrap();
        assert_eq!(reordered.digest, s.digest);
        let fulltext = check("10// a{x=1} 1\n9// a{x=1} 2.0\n1// a{x=1} T\n10// b{} 'x'\n").unwrap();
        assert_eq!(fulltext.digest, s.digest);
    }

    #[test]
    fn strictness() {
        for (text, what) in [
            ("10// a{} 1\n=9// 2", "truncated"),
            ("10// a{} 1\n\n# ERROR: java.lang.Exception%3A%20boom\n", "boom"),
            ("10// a{} 1\n# ERROR: x\n", "reported an error"),
            ("10// a{} 1\n\n", "empty line"),
            ("=10// 1\n", "before any series"),
            ("10// a{} 1\n=10// 1\n", "strictly decrease"),
            ("10// a{} 1\n=11// 1\n", "strictly decrease"),
            ("1001// a{} 1\n", "outside"),
            ("-1// a{} 1\n", "outside"),
            ("10// a{} 1\n10// b{} 1\n9// a{} 1\n", "appears twice"),
            ("10// a{} x\n", "line 1"),
            ("10// a{} 'a\u{0}b'\n", "raw control byte 0x00"),
            ("10// a{} 1\n=9// 'x\ty'\n", "line 2: raw control byte 0x09"),
        ] {
            let err = format!("{:#}", check(text).unwrap_err());
            assert!(err.contains(what), "{text:?}: {err}");
        }
        assert!(crate::error::is_transient(&check("10// a{} 1\n=9// 2").unwrap_err()));
        assert!(!crate::error::is_transient(&check("1001// a{} 1\n").unwrap_err()));
        let bad_utf8 = format!("{:#}", check_raw_bytes(b"10// a{} '\xc3('", 7).unwrap_err());
        assert!(bad_utf8.contains("line 7: invalid UTF-8 at byte 11"), "{bad_utf8}");
        assert!(
            check_raw_bytes("10// caf\u{e9}{} 1".as_bytes(), 1).is_ok(),
            "raw UTF-8 stays accepted"
        );
        let long = format!("10// a{{}} '{}'\n", "x".repeat(MAX_LINE as usize));
        assert!(format!("{:#}", check(&long).unwrap_err()).contains("longer than"));
    }
}
