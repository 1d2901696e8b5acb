//! `/api/v0/fetch` time parameters as Warp 10 reads them (`docs/WARP10.md#fetch`,
//! `FETCH.computeTimeRange`, `FETCH.getTimestamp`), shared by the fake and `serve`.

use crate::id::TimeUnit;

/// An inclusive range in platform units, and how many of each series' most recent points in it
/// to skip, then keep at most.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRange {
    pub lo: i64,
    pub hi: i64,
    pub skip: usize,
    pub limit: usize,
}

/// `FETCH.computeTimeRange`: start/end (swapped if reversed), end/start + timespan, a negative
/// timespan as a count, end + count. `param` gives a query parameter; the error is the message
/// of a 400.
pub fn range<'a>(param: &dyn Fn(&str) -> Option<&'a str>, unit: TimeUnit) -> Result<FetchRange, String> {
    let time = |name: &str| -> Result<Option<i64>, String> {
        param(name)
            .map(|v| time(v, unit).ok_or_else(|| format!("Invalid format for parameter '{name}'")))
            .transpose()
    };
    let ends: Vec<&str> = ["end", "stop", "now"]
        .into_iter()
        .filter(|p| param(p).is_some())
        .collect();
    if ends.len() > 1 {
        return Err("Only one of 'end', 'stop' and 'now' may be given.".into());
    }
    let start = time("start")?;
    let end = match ends.first() {
        Some(p) => time(p)?,
        None => None,
    };
    let long = |name: &str| -> Result<Option<i64>, String> {
        param(name)
            .map(|v| v.parse::<i64>().map_err(|_| format!("Invalid '{name}' parameter.")))
            .transpose()
    };
    let mut count = long("count")?;
    let skip = long("skip")?.unwrap_or(0).max(0) as usize;
    let mut timespan = match param("timespan") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .or_else(|| iso_duration(v, unit))
                .ok_or("Invalid 'timespan'.")?,
        ),
    };
    if let Some(t) = timespan.filter(|&t| t < 0) {
        if count.is_some() {
            return Err("Cannot give both a negative 'timespan' and 'count'.".into());
        }
        count = Some(t.saturating_neg());
        timespan = None;
    }
    let (lo, hi) = match (start, end, timespan) {
        (Some(_), Some(_), Some(_)) => return Err("Cannot give 'start', 'end' and 'timespan' together.".into()),
        (Some(s), Some(e), None) => (s.min(e), s.max(e)),
        (None, Some(e), Some(t)) => (e.saturating_sub(t).saturating_add(1), e),
        (Some(s), None, Some(t)) => (s, s.saturating_add(t).saturating_sub(1)),
        (None, Some(e), None) if count.is_some() => (i64::MIN, e),
        _ => return Err("Missing time range: give start and end, or a timespan or count.".into()),
    };
    let limit = count.map_or(usize::MAX, |c| if c < 0 { usize::MAX } else { c as usize });
    Ok(FetchRange { lo, hi, skip, limit })
}

/// Now in platform units.
pub fn now(unit: TimeUnit) -> i64 {
    let ns = jiff::Timestamp::now().as_nanosecond();
    (ns / i128::from(1_000_000_000 / unit.per_second())) as i64
}

/// A long in platform units, `now`, or ISO 8601 with a zone (extra precision truncated).
pub fn time(v: &str, unit: TimeUnit) -> Option<i64> {
    if v == "now" {
        return Some(now(unit));
    }
    v.parse::<i64>().ok().or_else(|| iso_time(v, unit))
}

pub fn iso_time(v: &str, unit: TimeUnit) -> Option<i64> {
    let t: jiff::Timestamp = v.parse().ok()?;
    i64::try_from(t.as_nanosecond() / i128::from(1_000_000_000 / unit.per_second())).ok()
}

/// ISO 8601 durations without months or years (`PT1H`, `P1DT12H`), in platform units.
fn iso_duration(v: &str, unit: TimeUnit) -> Option<i64> {
    if !v.starts_with('P') || v.contains('Y') || v.split('T').next()?.contains('M') {
        return None;
    }
    let span: jiff::SignedDuration = v.parse().ok()?;
    i64::try_from(span.as_nanos() / i128::from(1_000_000_000 / unit.per_second())).ok()
}
