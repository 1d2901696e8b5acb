//! HTTP client for Warp 10 (`docs/WARP10.md`): find, fetch, delete and update.
//!
//! The token travels only in the `X-Warp10-Token` header, redirects are never followed (the
//! header would travel with them), bodies are streamed, and errors say which endpoint failed
//! and whether a retry may help, without echoing the body (it can quote data lines).
//!
//! Time is bounded without a flat deadline (a fetch of a big segment can rightly take minutes):
//! `--timeout` bounds connecting, sending, the wait for the response headers and each read, and
//! every response body must keep up `--min-rate` over each `--timeout` of waiting
//! (`net::MinRate`). An update, whose size is known, also gets an overall deadline.

use crate::error::Transient;
use crate::gts::SeriesKey;
use crate::net;
use crate::retry::with_retries;
use crate::secret::Secret;
use anyhow::{Context, Result, bail};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

pub const TOKEN_HEADER: &str = "X-Warp10-Token";
pub const TIMEUNIT_HEADER: &str = "X-Warp10-Timeunit";

/// Retries and time limits of the Warp 10 client (from `--retries`, `--timeout`, `--min-rate`).
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub retries: u32,
    pub timeout: u64,
    pub min_rate: u64,
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    retries: u32,
    timeout: Duration,
    min_rate: u64,
    /// Seconds the server's clock is ahead of ours, from the `Date` header of its latest response.
    server_ahead_s: std::sync::Mutex<Option<i64>>,
}

/// The local clock and Warp 10's differ by more than `--max-clock-skew`.
#[derive(Debug)]
pub struct ClockSkew(pub String);

impl fmt::Display for ClockSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClockSkew {}

/// A response, with what its `-v` line needs.
struct Exchange {
    resp: http::Response<ureq::Body>,
    method: &'static str,
    /// The request URL: parameters only, the token travels in a header.
    url: String,
    started: Instant,
}

/// A response body that logs its request at `-v` when dropped (read to the end or abandoned):
/// method, URL, status, body bytes, milliseconds from the request to the end of the body.
struct Logged<R> {
    inner: R,
    method: &'static str,
    url: String,
    status: u16,
    bytes: u64,
    started: Instant,
}

impl<R: Read> Read for Logged<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R> Drop for Logged<R> {
    fn drop(&mut self) {
        let outcome = self.status.to_string();
        crate::log::request("warp10", self.method, &self.url, &outcome, self.bytes, self.started);
    }
}

/// A fetch response whose status and time unit were checked; the body is still to be read.
pub struct FetchBody {
    pub reader: BufReader<Box<dyn Read + Send>>,
}

impl Client {
    pub fn new(base: &str, http: &HttpConfig) -> Result<Client> {
        crate::net::check_base_url(base)?;
        if base.starts_with("http://") && !crate::net::plain_http_allowed(base) {
            bail!(
                "refusing plain http:// to {base}: the token would travel in clear; use https:// or --allow-insecure-http"
            );
        }
        let timeout = Duration::from_secs(http.timeout);
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            .user_agent(concat!("warp-offload/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            retries: http.retries.max(1),
            timeout,
            min_rate: http.min_rate,
            server_ahead_s: std::sync::Mutex::new(None),
        })
    }

    /// Notes the server's clock from a response's `Date` header (HTTP-date, 1 s resolution).
    fn record_date<B>(&self, resp: &http::Response<B>) {
        let date = resp
            .headers()
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| jiff::fmt::rfc2822::parse(v).ok());
        if let Some(date) = date {
            let ahead = date.timestamp().as_second() - jiff::Timestamp::now().as_second();
            *self.server_ahead_s.lock().expect("clock lock") = Some(ahead);
        }
    }

    /// Stops when the local clock and Warp 10's differ by more than `max_s` seconds: windows,
    /// the settle horizon and relative times (`now-30d`) all come from the local clock. Uses the
    /// `Date` of the latest response, or asks for one with a token-less request (any answer
    /// carries a `Date`). A server that sends no `Date` cannot be checked: a warning, not an error.
    pub fn check_clock(&self, max_s: i64) -> Result<()> {
        if self.server_ahead_s.lock().expect("clock lock").is_none() {
            let (url, started) = (self.url("find"), Instant::now());
            let resp = self.agent.get(&url).call();
            let resp = self.logged("GET", url, started, resp, "find")?;
            self.record_date(&resp.resp);
        }
        let Some(ahead) = *self.server_ahead_s.lock().expect("clock lock") else {
            crate::log::warn(&format!(
                "Warp 10 at {} sends no Date header: the local clock was not checked",
                self.base
            ));
            return Ok(());
        };
        if ahead.abs() > max_s {
            let (dir, by) = if ahead > 0 {
                ("behind", ahead)
            } else {
                ("ahead of", -ahead)
            };
            return Err(ClockSkew(format!(
                "the local clock is {} {dir} Warp 10 at {} (its Date header), more than --max-clock-skew {}: \
                 fix the clock (NTP) before planning or purging",
                crate::time::format_duration_secs(by),
                self.base,
                crate::time::format_duration_secs(max_s)
            ))
            .into());
        }
        Ok(())
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/api/v0/{endpoint}", self.base)
    }

    /// The body of a response to `endpoint`, held to `--min-rate`, logged at `-v` once done.
    fn body(&self, endpoint: &str, ex: Exchange) -> BufReader<Box<dyn Read + Send>> {
        let status = ex.resp.status().as_u16();
        let reader = net::MinRate::new(
            ex.resp.into_body().into_reader(),
            format!("/api/v0/{endpoint} on {}", self.base),
            self.min_rate,
            self.timeout,
        );
        let logged = Logged {
            inner: reader,
            method: ex.method,
            url: ex.url,
            status,
            bytes: 0,
            started: ex.started,
        };
        BufReader::with_capacity(256 * 1024, Box::new(logged))
    }

    /// The outcome of sending a request: a response to go on with, or the transport error
    /// (logged at `-v` here, since there is no body to log it).
    fn logged(
        &self,
        method: &'static str,
        url: String,
        started: Instant,
        sent: Result<http::Response<ureq::Body>, ureq::Error>,
        endpoint: &str,
    ) -> Result<Exchange> {
        match sent {
            Ok(resp) => Ok(Exchange {
                resp,
                method,
                url,
                started,
            }),
            Err(e) => {
                let e = self.transport_error(endpoint, e);
                crate::log::request("warp10", method, &url, &format!("failed: {e}"), 0, started);
                Err(e)
            }
        }
    }

    fn transport_error(&self, endpoint: &str, e: ureq::Error) -> anyhow::Error {
        let msg = match e {
            ureq::Error::Timeout(t) => format!(
                "/api/v0/{endpoint} on {}: {}",
                self.base,
                net::describe_timeout(t, "--timeout", self.timeout)
            ),
            ref e => format!("/api/v0/{endpoint} on {}: {e}", self.base),
        };
        let transient = matches!(
            e,
            ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound
        );
        if transient {
            Transient(msg).into()
        } else {
            anyhow::anyhow!(msg)
        }
    }

    /// GET with query parameters; `flags` are boolean parameters Warp 10 enables by presence.
    fn get(&self, endpoint: &str, token: &Secret, params: &[(&str, &str)], flags: &[&str]) -> Result<Exchange> {
        let mut url = self.url(endpoint);
        let mut sep = '?';
        for (k, v) in params {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.extend(form_urlencoded::byte_serialize(v.as_bytes()));
            sep = '&';
        }
        for f in flags {
            url.push(sep);
            url.push_str(f);
            sep = '&';
        }
        let started = Instant::now();
        let sent = self
            .agent
            .get(&url)
            .header(TOKEN_HEADER, token.expose())
            .header("Accept", "text/plain")
            .header("Accept-Encoding", "identity")
            .call();
        let ex = self.logged("GET", url, started, sent, endpoint)?;
        self.record_date(&ex.resp);
        self.check_status(endpoint, ex)
    }

    /// Streams `/api/v0/fetch` of `selector` over the inclusive platform range `[start, end]`,
    /// in text format with `showerrors` and nothing lossy. Checks the time unit header.
    pub fn fetch(
        &self,
        token: &Secret,
        selector: &str,
        start: i64,
        end: i64,
        units_per_second: i64,
    ) -> Result<FetchBody> {
        let (s, e) = (start.to_string(), end.to_string());
        let resp = self.get(
            "fetch",
            token,
            &[("selector", selector), ("start", &s), ("end", &e), ("format", "text")],
            &["showerrors"],
        )?;
        let unit = resp
            .resp
            .headers()
            .get(TIMEUNIT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        match unit {
            Some(u) if u == units_per_second => {}
            Some(u) => bail!(
                "Warp 10 at {} reports {TIMEUNIT_HEADER}: {u} but the segment expects {units_per_second} units per second (--time-unit)",
                self.base
            ),
            None => bail!(
                "Warp 10 at {} sent no valid {TIMEUNIT_HEADER} header on /api/v0/fetch",
                self.base
            ),
        }
        Ok(FetchBody {
            reader: self.body("fetch", resp),
        })
    }

    /// Lists the series matched by `selector` (`/api/v0/find`, sorted labels).
    pub fn find(&self, token: &Secret, selector: &str) -> Result<Vec<SeriesKey>> {
        with_retries(self.retries, "find", || {
            let resp = self.get("find", token, &[("selector", selector)], &["sortmeta", "showerrors"])?;
            let mut keys = Vec::new();
            for (i, line) in self.body("find", resp).lines().enumerate() {
                let line = line.map_err(|e| Transient(format!("reading /api/v0/find body from {}: {e}", self.base)))?;
                if line.starts_with('#') || line.is_empty() {
                    bail!("/api/v0/find on {} reported an error at line {}", self.base, i + 1);
                }
                let key = crate::gts::line::parse_header(line.as_bytes())
                    .with_context(|| format!("/api/v0/find line {}", i + 1))?;
                keys.push(key);
            }
            Ok(keys)
        })
    }
}

/// What a delete (or its dry run) listed, read to the end of the response.
#[derive(Debug)]
pub struct DeleteListing {
    pub series: Vec<SeriesKey>,
}

impl Client {
    /// `/api/v0/delete` of `selector` over the inclusive range `[start, end]`. With `dry_run`
    /// Warp 10 only lists what it would delete (the parameter acts by its presence, so it is
    /// omitted entirely for a real delete). The listing is read to its end; a cut response is an error.
    pub fn delete(&self, token: &Secret, selector: &str, start: i64, end: i64, dry_run: bool) -> Result<DeleteListing> {
        let (s, e) = (start.to_string(), end.to_string());
        let params = [("selector", selector), ("start", s.as_str()), ("end", e.as_str())];
        let flags: &[&str] = if dry_run {
            &["dryrun", "showerrors"]
        } else {
            &["showerrors"]
        };
        let resp = self.get("delete", token, &params, flags)?;
        let mut series = Vec::new();
        let mut reader = self.body("delete", resp);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|err| {
                anyhow::anyhow!(
                    "/api/v0/delete on {} was cut after {} series: {err}",
                    self.base,
                    series.len()
                )
            })?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                bail!(
                    "/api/v0/delete on {} ended inside a line after {} series",
                    self.base,
                    series.len()
                );
            }
            let text = line
                .strip_suffix(b"\n")
                .and_then(|l| l.strip_suffix(b"\r").or(Some(l)))
                .unwrap_or(&line);
            if text.is_empty() || text[0] == b'#' {
                bail!(
                    "/api/v0/delete on {} reported an error after {} series",
                    self.base,
                    series.len()
                );
            }
            let (key, _attrs) = crate::gts::line::parse_header_with_attrs(text)
                .with_context(|| format!("/api/v0/delete listing line {}", series.len() + 1))?;
            series.push(key);
        }
        Ok(DeleteListing { series })
    }

    /// POSTs one body of GTS input lines to `/api/v0/update`. The body must start with a full
    /// line. Re-sending the same lines is harmless (equal timestamps overwrite). The whole
    /// exchange gets `--timeout` plus the body's time at `--min-rate`: a server that reads the
    /// body slowly is bounded too.
    pub fn update(&self, token: &Secret, body: &[u8]) -> Result<()> {
        let deadline = (self.min_rate > 0)
            .then(|| self.timeout + Duration::from_secs_f64(body.len() as f64 / self.min_rate as f64));
        let (url, started) = (self.url("update"), Instant::now());
        let sent = self
            .agent
            .post(&url)
            .config()
            .timeout_per_call(deadline)
            .build()
            .header(TOKEN_HEADER, token.expose())
            .header("Content-Type", "text/plain; charset=UTF-8")
            .header("Accept", "text/plain")
            .send(body);
        if let (Err(ureq::Error::Timeout(ureq::Timeout::PerCall)), Some(d)) = (&sent, deadline) {
            let msg = format!(
                "/api/v0/update on {}: not done within {:.0} s (--timeout plus {} bytes at --min-rate)",
                self.base,
                d.as_secs_f64(),
                body.len()
            );
            crate::log::request("warp10", "POST", &url, &format!("failed: {msg}"), 0, started);
            return Err(Transient(msg).into());
        }
        let ex = self.logged("POST", url, started, sent, "update")?;
        self.record_date(&ex.resp);
        let (method, url, status) = (ex.method, ex.url.clone(), ex.resp.status().as_u16());
        self.check_status("update", ex)?;
        crate::log::request("warp10", method, &url, &status.to_string(), body.len() as u64, started);
        Ok(())
    }
}

impl Client {
    fn check_status(&self, endpoint: &str, ex: Exchange) -> Result<Exchange> {
        let status = ex.resp.status();
        if status.is_success() {
            return Ok(ex);
        }
        let base = &self.base;
        if status.is_redirection() {
            drop(self.body(endpoint, ex));
            bail!(
                "/api/v0/{endpoint} on {base} answered {status} (redirect); not followed, since the token would travel with it"
            );
        }
        // Warp 10 says why in the body (Jetty's `MESSAGE:` line, or the text alone). A short
        // excerpt only: its error pages can echo data lines.
        let mut body = String::new();
        let _ = self.body(endpoint, ex).take(300).read_to_string(&mut body);
        let why = error_text(&body);
        let mut msg = format!("/api/v0/{endpoint} on {base} answered HTTP {status}");
        if !why.is_empty() {
            msg.push_str(&format!(": {why}"));
        }
        if status.as_u16() == 403 {
            msg.push_str(match endpoint {
                "update" | "delete" => " (check the write token: --write-token-file or WARP10_WRITE_TOKEN)",
                _ => " (check the read token: --read-token-file or WARP10_READ_TOKEN)",
            });
        }
        if status.is_server_error() || status.as_u16() == 429 {
            Err(Transient(msg).into())
        } else {
            Err(anyhow::anyhow!(msg))
        }
    }
}

/// Warp 10's reason in an error body: the `MESSAGE:` line of Jetty's text page, else its first
/// non-empty line.
fn error_text(body: &str) -> String {
    let line = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("MESSAGE:"))
        .or_else(|| body.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or_default();
    line.trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_text_is_warp10s_reason() {
        let jetty = "HTTP ERROR 400 Invalid selector\nURI: /api/v0/fetch\nSTATUS: 400\nMESSAGE: Invalid selector\nSERVLET: null\n";
        assert_eq!(super::error_text(jetty), "Invalid selector");
        assert_eq!(
            super::error_text("\nMissing or invalid token.\n"),
            "Missing or invalid token."
        );
        assert_eq!(super::error_text(""), "");
    }

    /// What `get` relies on: Jetty turns `+` into a space, so a literal `+` must travel encoded.
    #[test]
    fn form_encoding_protects_plus_and_braces() {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        assert_eq!(encode("cls{k=a%20b}"), "cls%7Bk%3Da%2520b%7D");
        assert_eq!(encode("a+b c"), "a%2Bb+c");
    }
}
