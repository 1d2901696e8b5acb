//! Time arguments: RFC 3339 instants, cron-friendly relative times (`now-30d`) and segment
//! lengths (`1h`, `6h`, `1d`, `7d`).

use anyhow::{Context, Result, bail};
use jiff::Timestamp;

/// Parses a duration of the form `<n><unit>` with unit `s`, `m`, `h`, `d` or `w` into seconds.
pub fn parse_duration_secs(s: &str) -> Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?}: expected a number then s, m, h, d or w (e.g. 1d)"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("invalid duration {s:?}: unit must be s, m, h, d or w"),
    };
    if n <= 0 {
        bail!("invalid duration {s:?}: must be positive");
    }
    n.checked_mul(mult)
        .with_context(|| format!("duration {s:?} is too large"))
}

/// Formats seconds with the largest unit that divides them exactly (`86400` -> `1d`).
pub fn format_duration_secs(secs: i64) -> String {
    for (unit, len) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs % len == 0 {
            return format!("{}{unit}", secs / len);
        }
    }
    format!("{secs}s")
}

/// Parses `--start`/`--end`: an RFC 3339 instant with zone, `now`, or `now-<duration>`.
pub fn parse_instant(s: &str, now: Timestamp) -> Result<Timestamp> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Some(rel) = s.strip_prefix("now-") {
        let secs = parse_duration_secs(rel).with_context(|| format!("invalid relative time {s:?}"))?;
        return now
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .with_context(|| format!("{s:?} is out of range"));
    }
    s.parse::<Timestamp>().with_context(|| {
        format!("invalid time {s:?}: expected RFC 3339 with a zone (2026-10-01T00:00:00Z), now or now-30d")
    })
}

/// Rounds down to a multiple of `len_secs` since the Unix epoch (UTC-aligned windows).
pub fn align_down(t: Timestamp, len_secs: i64) -> Timestamp {
    let secs = t.as_second().div_euclid(len_secs) * len_secs;
    Timestamp::from_second(secs).expect("aligning down stays in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1h").unwrap(), 3600);
        assert_eq!(parse_duration_secs("7d").unwrap(), 604_800);
        assert_eq!(format_duration_secs(86_400), "1d");
        assert_eq!(format_duration_secs(21_600), "6h");
        assert_eq!(format_duration_secs(90), "90s");
        for bad in ["", "d", "1y", "-1d", "0h", "1.5h"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instants() {
        let now: Timestamp = "2026-11-27T10:11:12Z".parse().unwrap();
        assert_eq!(
            parse_instant("now-1d", now).unwrap().to_string(),
            "2026-11-26T10:11:12Z"
        );
        assert_eq!(
            parse_instant("2026-10-01T02:00:00+02:00", now).unwrap().to_string(),
            "2026-10-01T00:00:00Z"
        );
        assert!(parse_instant("2026-10-01T00:00:00", now).is_err());
        assert_eq!(align_down(now, 86_400).to_string(), "2026-11-27T00:00:00Z");
        assert_eq!(align_down(now, 3600).to_string(), "2026-11-27T10:00:00Z");
    }
}
