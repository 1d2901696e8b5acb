//! Where a segment comes from and what it is called: the Warp 10 a run talks to (`Source`, with
//! its time unit) and segment ids, validated names derived from the source and the range.

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAX_ID_LEN: usize = 200;

/// A segment id: `[A-Za-z0-9._-]{1,200}`, not `.` or `..`. Safe as a file name and an object key
/// component; the only way to build one is through validation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SegmentId(String);

impl SegmentId {
    pub fn new(s: &str) -> Result<SegmentId> {
        let ok_chars = s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if s.is_empty() || s.len() > MAX_ID_LEN || !ok_chars || s == "." || s == ".." {
            bail!(
                "invalid segment id {:?}: must be 1 to {MAX_ID_LEN} characters of [A-Za-z0-9._-] and not . or ..",
                truncate(s, 80)
            );
        }
        Ok(SegmentId(s.to_string()))
    }

    /// Deterministic id from the segment's source and range: readable start and length, plus a
    /// hash that makes it unique per (Warp 10 URL, time unit, selector, start, end). The source
    /// is part of it so that state saved for one Warp 10 (or one time unit) is never resumed,
    /// nor its archive purged, against another: there it is another segment.
    pub fn derive(source: &Source, selector: &str, start: Timestamp, end: Timestamp) -> SegmentId {
        let mut h = blake3::Hasher::new_derive_key("warp-offload segment id v2");
        for part in [
            source.url.as_bytes(),
            source.time_unit.name().as_bytes(),
            selector.as_bytes(),
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(&start.as_nanosecond().to_le_bytes());
        h.update(&end.as_nanosecond().to_le_bytes());
        let hash = h.finalize().to_hex();
        let stamp = start.strftime("%Y%m%dT%H%M%SZ").to_string();
        let secs = (end.as_second() - start.as_second()).max(0);
        SegmentId(format!(
            "{stamp}-{}-{}",
            crate::time::format_duration_secs(secs),
            &hash[..12]
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SegmentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SegmentId, D::Error> {
        let s = String::deserialize(d)?;
        SegmentId::new(&s).map_err(serde::de::Error::custom)
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Platform time unit of the Warp 10 instance (`warp.timeunits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Ms,
    Us,
    Ns,
}

impl TimeUnit {
    /// The name used in records and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
            TimeUnit::Ns => "ns",
        }
    }

    /// Units per second, as in the `X-Warp10-Timeunit` header.
    pub fn per_second(self) -> i64 {
        match self {
            TimeUnit::Ms => 1_000,
            TimeUnit::Us => 1_000_000,
            TimeUnit::Ns => 1_000_000_000,
        }
    }

    /// Converts a UTC instant to platform units. Errors if it is not a whole number of units or
    /// does not fit in an i64.
    pub fn units_of(self, t: Timestamp) -> Result<i64> {
        let ns = t.as_nanosecond();
        let per = i128::from(1_000_000_000 / self.per_second());
        if ns % per != 0 {
            bail!("{t} is not a whole number of {self:?} (platform time unit)");
        }
        i64::try_from(ns / per).with_context(|| format!("{t} overflows the platform time range"))
    }
}

/// The Warp 10 a run talks to. It comes only from this run's command line or environment, never
/// from a record, a state file or a manifest object: those are checked against it, so nothing
/// the tool reads can send a token or a delete elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Base URL without trailing slashes.
    pub url: String,
    pub time_unit: TimeUnit,
}

impl Source {
    pub fn new(url: &str, time_unit: TimeUnit) -> Result<Source> {
        crate::net::check_base_url(url)?;
        Ok(Source {
            url: url.trim_end_matches('/').to_string(),
            time_unit,
        })
    }
}
