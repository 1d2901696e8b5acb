//! Planning: selectors and a time range become segments — UTC-aligned half-open windows, one
//! selector each, optionally split per class or per series found with `/api/v0/find`.

use crate::error::{Usage, bad_flag};
use crate::id::{Source, TimeUnit};
use crate::manifest::Segment;
use crate::secret::Secret;
use crate::time::{align_down, parse_duration_secs, parse_instant};
use crate::warp10::{Client, HttpConfig};
use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use std::path::Path;

/// How to split a selector into segments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitBy {
    /// One segment per selector and window
    None,
    /// One segment per class matched by the selector (via /api/v0/find)
    Class,
    /// One segment per series matched by the selector (via /api/v0/find)
    Series,
}

/// What to plan: the Warp 10, its selectors, the range and the segment length (all text as the
/// user gave it: relative times are resolved when planning).
pub struct PlanSpec<'a> {
    pub warp10_url: &'a str,
    pub time_unit: TimeUnit,
    pub selectors: &'a [String],
    pub start: &'a str,
    pub end: &'a str,
    pub segment_length: &'a str,
    pub split_by: SplitBy,
    pub min_age: &'a str,
    pub read_token_file: Option<&'a Path>,
    pub max_clock_skew: &'a str,
    pub http: HttpConfig,
}

/// The segments of a plan: every selector (or every class or series it matches) times every
/// window.
pub fn segments(a: &PlanSpec) -> Result<Vec<Segment>> {
    for sel in a.selectors {
        crate::gts::selector::check(sel).map_err(|e| Usage(format!("--selector: {e:#}")))?;
    }
    let max_skew = parse_duration_secs(a.max_clock_skew).map_err(bad_flag("--max-clock-skew"))?;
    let source = Source::new(a.warp10_url, a.time_unit)?;
    let client = Client::new(&source.url, &a.http)?;
    // The whole command line is checked before the first request.
    let windows = windows(a, Timestamp::now())?;
    // Planning works offline (the URL is only recorded), so an unreachable Warp 10 leaves the
    // clock unchecked with a warning; a reachable one with a skewed clock stops the plan.
    match client.check_clock(max_skew) {
        Err(e) if crate::error::is_transient(&e) => {
            crate::log::warn(&format!("the local clock was not checked against Warp 10: {e:#}"))
        }
        r => r?,
    }
    let selectors = match a.split_by {
        SplitBy::None => a.selectors.to_vec(),
        split => {
            let token = crate::secret::read_token(a.read_token_file)?;
            let selectors = split_selectors(&client, &token, a.selectors, split)?;
            client.check_clock(max_skew)?;
            selectors
        }
    };
    let segments: Vec<Segment> = selectors
        .iter()
        .flat_map(|sel| windows.iter().map(|&(s, e)| Segment::new(&source, sel, s, e)))
        .collect();
    crate::log::info(
        "plan",
        None,
        &format!(
            "{} segments ({} selectors x {} windows)",
            segments.len(),
            selectors.len(),
            windows.len()
        ),
        &[],
    );
    Ok(segments)
}

/// The aligned windows `[start, end)` covering the requested range, refusing any that touch
/// the settle horizon `now - min_age`.
fn windows(a: &PlanSpec, now: Timestamp) -> Result<Vec<(Timestamp, Timestamp)>> {
    let len = parse_duration_secs(a.segment_length).map_err(bad_flag("--segment-length"))?;
    let min_age = parse_duration_secs(a.min_age).map_err(bad_flag("--min-age"))?;
    let start_at = parse_instant(a.start, now).map_err(bad_flag("--start"))?;
    let end_at = parse_instant(a.end, now).map_err(bad_flag("--end"))?;
    if end_at < start_at {
        // Relative times are shown with the instant they stand for.
        let shown = |text: &str, at: Timestamp| match at.to_string() {
            same if same == text => same,
            other => format!("{text} ({other})"),
        };
        return Err(Usage(format!(
            "--start {} is after --end {}",
            shown(a.start, start_at),
            shown(a.end, end_at)
        ))
        .into());
    }
    let (start, end) = (align_down(start_at, len), align_down(end_at, len));
    if end <= start {
        return Err(Usage(format!(
            "empty range: --start {} and --end {} give no whole {} segment (start {start}, end {end} after alignment)",
            a.start, a.end, a.segment_length
        ))
        .into());
    }
    let horizon = now - SignedDuration::from_secs(min_age);
    if end > horizon {
        return Err(Usage(format!(
            "the range ends at {end}, inside the settle horizon (--min-age {}: nothing after {horizon}); \
             late writes could still arrive there",
            a.min_age
        ))
        .into());
    }
    let step = SignedDuration::from_secs(len);
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let e = s + step;
        out.push((s, e));
        s = e;
    }
    Ok(out)
}

fn split_selectors(client: &Client, token: &Secret, selectors: &[String], split: SplitBy) -> Result<Vec<String>> {
    let mut out = std::collections::BTreeSet::new();
    for sel in selectors {
        let series = client
            .find(token, sel)
            .with_context(|| format!("finding series for selector {sel}"))?;
        for key in series {
            out.insert(match split {
                SplitBy::Class => crate::gts::selector::exact_class_selector(&key.class),
                _ => crate::gts::selector::exact_selector(&key),
            });
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args<'a>(start: &'a str, end: &'a str, seg: &'a str) -> PlanSpec<'a> {
        PlanSpec {
            warp10_url: "http://127.0.0.1:1",
            time_unit: crate::id::TimeUnit::Us,
            selectors: &[],
            start,
            end,
            segment_length: seg,
            split_by: SplitBy::None,
            min_age: "1d",
            read_token_file: None,
            max_clock_skew: "5m",
            http: HttpConfig {
                retries: 1,
                timeout: 1,
                min_rate: 0,
            },
        }
    }

    #[test]
    fn windows_are_aligned_contiguous_and_never_recent() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let w = windows(&args("2026-10-01T05:00:00Z", "2026-10-03T07:00:00Z", "1d"), now).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].0.to_string(), "2026-10-01T00:00:00Z");
        assert_eq!(w[0].1, w[1].0);
        assert_eq!(w[1].1.to_string(), "2026-10-03T00:00:00Z");
        let w = windows(&args("now-3d", "now-1d", "6h"), now).unwrap();
        assert_eq!(w.len(), 8);
        assert!(windows(&args("now-3d", "now-12h", "1h"), now).is_err());
        assert!(windows(&args("2026-10-02T00:00:00Z", "2026-10-01T00:00:00Z", "1d"), now).is_err());
    }
}
