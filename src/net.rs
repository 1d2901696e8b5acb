//! Network policy shared by every client (Warp 10, S3, webhooks): plain `http://` only to
//! loopback, unless the run was started with `--allow-insecure-http` (tokens, keys and webhook
//! URLs would otherwise travel in clear).

use std::sync::atomic::{AtomicBool, Ordering};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:1") && is_loopback("http://localhost") && is_loopback("http://[::1]:8"));
        assert!(!is_loopback("http://10.0.0.1") && !is_loopback("http://example.com"));
    }
}
