//! The retry loop shared by every client (Warp 10, S3, webhooks): transient failures only, with
//! exponential backoff and jitter.

use crate::error::is_transient;
use anyhow::Result;
use std::time::Duration;

/// Runs `op` up to `attempts` times, retrying only transient failures, with exponential
/// backoff (0.2 s, 0.4 s, ... capped at 10 s) and full jitter. `op`'s errors must name the
/// request (endpoint or object): the warning of each retry quotes them, and names the segment
/// of the worker thread it runs on (`log::in_segment`).
pub fn with_retries<T>(attempts: u32, what: &str, mut op: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 1;
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) if attempt < attempts && is_transient(&e) => {
                let cap =
                    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(10));
                let wait = cap.mul_f64(jitter());
                // The segment comes from the worker's thread; the request, from the error.
                crate::log::described(
                    crate::log::Level::Warn,
                    what,
                    &format!(
                        "attempt {attempt}/{attempts} failed, retrying in {} ms: {e:#}",
                        wait.as_millis()
                    ),
                    &[
                        ("attempt", attempt.into()),
                        ("attempts", attempts.into()),
                        ("wait_ms", (wait.as_millis() as u64).into()),
                    ],
                );
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A number in [0.5, 1) from the clock: enough to spread retries of parallel workers.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = xxhash_rust::xxh3::xxh3_64(&nanos.to_le_bytes());
    0.5 + (mixed % 1000) as f64 / 2000.0
}
