//! Network policy shared by every client (Warp 10, S3, webhooks): plain `http://` only to
//! loopback, unless the run was started with `--allow-insecure-http` (tokens, keys and webhook
//! URLs would otherwise travel in clear); and bounded time, so that a server that trickles its
//! answer cannot hold a run forever (`MinRate`, `describe_timeout`).

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static ALLOW_INSECURE_HTTP: AtomicBool = AtomicBool::new(false);

/// Set once in `main` from the global flag.
pub fn set_allow_insecure_http(on: bool) {
    ALLOW_INSECURE_HTTP.store(on, Ordering::Relaxed);
}

/// True when a plain http:// request to `url` is acceptable.
pub fn plain_http_allowed(url: &str) -> bool {
    is_loopback(url) || ALLOW_INSECURE_HTTP.load(Ordering::Relaxed)
}

/// True when `url`'s host is a loopback address or `localhost`.
pub fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A response body that must keep up a minimum average rate, like curl's `--speed-limit` and
/// `--speed-time`: every `window` spent waiting on `inner`, at least `min_rate` bytes per second
/// of that wait must have come, or the read fails (`TimedOut`, naming `what`). Only time inside
/// `inner.read` counts, so a slow consumer (compression, a full disk) is never blamed on the
/// server. A read that waits longer than `window` with nothing at all is reported as such.
/// `min_rate` 0 turns the rate check off (the per-read timeout of the client still applies).
pub struct MinRate<R> {
    inner: R,
    what: String,
    min_rate: u64,
    window: Duration,
    waited: Duration,
    got: u64,
}

impl<R: Read> MinRate<R> {
    /// `what` names the request in errors (`/api/v0/fetch on http://host:8080`).
    pub fn new(inner: R, what: String, min_rate: u64, window: Duration) -> MinRate<R> {
        MinRate {
            inner,
            what,
            min_rate,
            window,
            waited: Duration::ZERO,
            got: 0,
        }
    }
}

impl<R: Read> Read for MinRate<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let began = Instant::now();
        let n = self.inner.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{}: no data for --timeout {} s while reading the answer",
                        self.what,
                        self.window.as_secs()
                    ),
                )
            } else {
                e
            }
        })?;
        self.waited += began.elapsed();
        self.got += n as u64;
        if self.min_rate > 0 && self.waited >= self.window {
            let rate = self.got as f64 / self.waited.as_secs_f64();
            if rate < self.min_rate as f64 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{}: answer too slow: {} bytes in {:.1} s ({rate:.0} bytes/s), below --min-rate {} bytes/s",
                        self.what,
                        self.got,
                        self.waited.as_secs_f64(),
                        self.min_rate
                    ),
                ));
            }
            self.waited = Duration::ZERO;
            self.got = 0;
        }
        Ok(n)
    }
}

/// What a ureq timeout means, in terms of the option that set it.
pub fn describe_timeout(t: ureq::Timeout, option: &str, limit: Duration) -> String {
    use ureq::Timeout as T;
    let what = match t {
        T::Resolve | T::Connect => "could not connect",
        T::SendRequest | T::SendBody | T::PerWrite => "could not send the request",
        T::RecvResponse => "no response headers",
        T::PerRead => "no data",
        _ => "the request did not complete",
    };
    format!("{what} within {option} {:.0} s", limit.as_secs_f64())
}

/// Checks the shape of a Warp 10 base URL: http(s), a host, no credentials, query or fragment.
pub fn check_base_url(url: &str) -> Result<()> {
    let uri: http::Uri = url.parse().with_context(|| format!("invalid Warp 10 URL {url:?}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => bail!("invalid Warp 10 URL {url:?}: must start with http:// or https://"),
    }
    let authority = uri
        .authority()
        .with_context(|| format!("invalid Warp 10 URL {url:?}: no host"))?;
    if authority.as_str().contains('@') {
        bail!("invalid Warp 10 URL: it must not carry credentials (use --read-token-file / --write-token-file)");
    }
    if uri.query().is_some() || url.contains('#') {
        bail!("invalid Warp 10 URL {url:?}: no query string or fragment allowed (tokens never go in URLs)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        check_base_url("http://127.0.0.1:8080").unwrap();
        check_base_url("https://warp.example/prefix").unwrap();
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("http://user:pw@host").is_err());
        assert!(check_base_url("http://host/?token=abc").is_err());
    }

    /// Hands out `chunks`, sleeping `pause` before each.
    struct Slow {
        chunks: Vec<Vec<u8>>,
        pause: Duration,
    }

    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(self.pause);
            if self.chunks.is_empty() {
                return Ok(0);
            }
            let c = self.chunks.remove(0);
            buf[..c.len()].copy_from_slice(&c);
            Ok(c.len())
        }
    }

    #[test]
    fn min_rate_stops_a_trickle_and_passes_a_steady_stream() {
        let trickle = Slow {
            chunks: vec![vec![b'x']; 1000],
            pause: Duration::from_millis(20),
        };
        let mut r = MinRate::new(trickle, "GET /x".into(), 100, Duration::from_millis(200));
        let began = Instant::now();
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(
            e.to_string().contains("GET /x: answer too slow") && e.to_string().contains("--min-rate 100"),
            "{e}"
        );
        assert!(began.elapsed() < Duration::from_secs(2));

        let steady = Slow {
            chunks: vec![vec![b'x'; 100]; 20],
            pause: Duration::from_millis(20),
        };
        let mut r = MinRate::new(steady, "GET /x".into(), 100, Duration::from_millis(200));
        assert_eq!(std::io::copy(&mut r, &mut std::io::sink()).unwrap(), 2000);
        let off = Slow {
            chunks: vec![vec![b'x']; 20],
            pause: Duration::from_millis(20),
        };
        let mut r = MinRate::new(off, "GET /x".into(), 0, Duration::from_millis(100));
        assert_eq!(std::io::copy(&mut r, &mut std::io::sink()).unwrap(), 20);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:1") && is_loopback("http://localhost") && is_loopback("http://[::1]:8"));
        assert!(!is_loopback("http://10.0.0.1") && !is_loopback("http://example.com"));
    }
}
