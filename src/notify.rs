//! The run summary `notify` builds from segment records, its two renderings (a Slack message and
//! a JSON document) and their delivery to webhooks.
//!
//! Definitions (also in `notify --help`):
//! - a segment *failed* when its record carries an `error` (a *mismatch* is a failure whose error
//!   is an integrity mismatch);
//! - the run's *last stage* is the furthest stage any successful record reached; a record without
//!   error that stopped earlier is *skipped* (a stage passed it through without doing its work);
//! - points are the points fetched; bytes in are the Warp 10 text fetched, bytes out the archive sizes; the ratio compares the two
//!   over the segments that have both;
//! - durations are the `duration_ms` fields of the record sections, summed per section; the wall
//!   time runs from the earliest section start (`at - duration_ms`) to the latest `at`.
//!
//! Webhook URLs are secrets: they are sent to ureq and nowhere else. Messages name a webhook by
//! kind and `scheme://host[:port]` only, and ureq errors are described from their variant, never
//! displayed (some variants quote the URL).

use crate::exit::Tally;
use crate::manifest::Segment;
use crate::secret::Secret;
use anyhow::{Result, bail};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

/// Error messages are cut to this many characters in summaries; the records keep the full text.
const MAX_MESSAGE_CHARS: usize = 300;
/// Failed segments listed one by one in the JSON summary and on stderr.
const MAX_FAILURES_LISTED: usize = 100;
/// Failed segments given their own Slack block (Slack allows 50 blocks per message).
const SLACK_MAX_FAILURES: usize = 10;
/// Pause before the single retry of a failed post.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Positions in the pipeline, in order. `verify` runs twice: on the local archive before
/// upload, on the object read back after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Plan,
    Fetch,
    Compress,
    VerifyLocal,
    Upload,
    VerifyRemote,
    Purge,
}

const STEPS: [Step; 7] = [
    Step::Plan,
    Step::Fetch,
    Step::Compress,
    Step::VerifyLocal,
    Step::Upload,
    Step::VerifyRemote,
    Step::Purge,
];

impl Step {
    /// The furthest step whose section the record carries (stages add a section on success only).
    fn reached(seg: &Segment) -> Step {
        if seg.purge.is_some() {
            Step::Purge
        } else if seg.verify.as_ref().is_some_and(|v| v.scope == "remote") {
            Step::VerifyRemote
        } else if seg.upload.is_some() {
            Step::Upload
        } else if seg.verify.is_some() {
            Step::VerifyLocal
        } else if seg.archive.is_some() {
            Step::Compress
        } else if seg.fetch.is_some() {
            Step::Fetch
        } else {
            Step::Plan
        }
    }

    /// Where a failed segment starts again: the stage its error names, else the one after the
    /// last it reached.
    fn retry_from(seg: &Segment) -> Step {
        let named = seg.error.as_ref().and_then(|e| match e.stage.as_str() {
            "fetch" => Some(Step::Fetch),
            "compress" => Some(Step::Compress),
            "verify" if seg.upload.is_some() => Some(Step::VerifyRemote),
            "verify" => Some(Step::VerifyLocal),
            "upload" => Some(Step::Upload),
            "purge" => Some(Step::Purge),
            _ => None,
        });
        named.unwrap_or_else(|| STEPS[(Step::reached(seg) as usize + 1).min(STEPS.len() - 1)])
    }

    /// The subcommand that runs this step.
    fn command(self) -> &'static str {
        match self {
            Step::Plan => "plan",
            Step::Fetch => "fetch",
            Step::Compress => "compress",
            Step::VerifyLocal | Step::VerifyRemote => "verify",
            Step::Upload => "upload",
            Step::Purge => "purge",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Step::VerifyLocal => "verify-local",
            Step::VerifyRemote => "verify-remote",
            other => other.command(),
        }
    }
}

/// Accumulates what the records say; [`Summary::report`] turns it into the run summary.
#[derive(Default)]
pub struct Summary {
    tally: Tally,
    /// Successful records per step reached, indexed by `Step as usize`.
    ok_by_step: [usize; STEPS.len()],
    /// The first failures, in input order (the count is in `tally`).
    failures: Vec<Failure>,
    /// The furthest step any failed segment must be retried from.
    furthest_retry: Option<Step>,
    points: u64,
    bytes_in: u64,
    bytes_out: u64,
    /// Bytes in and out of the segments that have both, for the ratio.
    paired_in: u64,
    paired_out: u64,
    durations_ms: BTreeMap<String, u64>,
    started: Option<Timestamp>,
    finished: Option<Timestamp>,
    range: Option<(Timestamp, Timestamp)>,
    /// The upload destination named by the records, for retry commands.
    dest: Option<String>,
}

struct Failure {
    id: String,
    stage: String,
    message: String,
    retryable: bool,
    mismatch: bool,
    from: Step,
    dest: Option<String>,
}

impl Summary {
    pub fn add(&mut self, seg: &Segment) {
        self.tally.record(seg);
        match &seg.error {
            None => self.ok_by_step[Step::reached(seg) as usize] += 1,
            Some(e) => {
                let from = Step::retry_from(seg);
                self.furthest_retry = self.furthest_retry.max(Some(from));
                if self.failures.len() < MAX_FAILURES_LISTED {
                    self.failures.push(Failure {
                        id: seg.id.to_string(),
                        stage: e.stage.clone(),
                        message: truncate(&e.message, MAX_MESSAGE_CHARS),
                        retryable: e.retryable,
                        mismatch: e.mismatch,
                        from,
                        dest: seg.upload.as_ref().map(|u| u.dest.clone()),
                    });
                }
            }
        }
        if let Some(f) = &seg.fetch {
            self.points += f.points;
            self.bytes_in += f.bytes;
        }
        if let Some(a) = &seg.archive {
            self.bytes_out += a.size;
        }
        if let (Some(f), Some(a)) = (&seg.fetch, &seg.archive) {
            self.paired_in += f.bytes;
            self.paired_out += a.size;
        }
        if self.dest.is_none() {
            self.dest = seg.upload.as_ref().map(|u| u.dest.clone());
        }
        self.range = Some(match self.range {
            None => (seg.start, seg.end),
            Some((s, e)) => (s.min(seg.start), e.max(seg.end)),
        });
        self.add_times(seg);
    }

    /// Points and bytes so far, for a progress bar.
    pub fn progress_line(&self) -> String {
        let mut s = format!(
            "{} points, {} in, {} out",
            self.points,
            human_bytes(self.bytes_in),
            human_bytes(self.bytes_out)
        );
        if self.paired_out > 0 {
            s.push_str(&format!(
                " (ratio {:.1})",
                self.paired_in as f64 / self.paired_out as f64
            ));
        }
        s
    }

    /// Reads `at` and `duration_ms` from every section generically, so that a stage which starts
    /// recording its duration is counted without a change here.
    fn add_times(&mut self, seg: &Segment) {
        let Ok(Value::Object(record)) = serde_json::to_value(seg) else {
            return;
        };
        for (section, value) in &record {
            let Some(at) = value.get("at").and_then(|v| v.as_str()?.parse::<Timestamp>().ok()) else {
                continue;
            };
            let ms = value.get("duration_ms").and_then(Value::as_u64);
            if let Some(ms) = ms {
                *self.durations_ms.entry(section.clone()).or_default() += ms;
            }
            let began = at
                .checked_sub(jiff::SignedDuration::from_millis(ms.unwrap_or(0) as i64))
                .unwrap_or(at);
            self.started = Some(self.started.map_or(began, |s| s.min(began)));
            self.finished = Some(self.finished.map_or(at, |f| f.max(at)));
        }
    }

    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// The run summary. `manifest_hint` is the file the user keeps this run's records in, named
    /// in the retry commands; `input_error` reports records that could not be read.
    pub fn report(&self, manifest_hint: &str, input_error: Option<String>) -> Report {
        let last_ok = STEPS.iter().rev().find(|s| self.ok_by_step[**s as usize] > 0).copied();
        let skipped: usize = match last_ok {
            Some(last) => STEPS
                .iter()
                .filter(|s| **s < last)
                .map(|s| self.ok_by_step[*s as usize])
                .sum(),
            None => 0,
        };
        let run_end = last_ok.max(self.furthest_retry).unwrap_or(Step::Plan);
        let failed = self.tally.failed + self.tally.mismatched;
        let failures = self
            .failures
            .iter()
            .map(|f| FailureReport {
                id: f.id.clone(),
                stage: f.stage.clone(),
                message: f.message.clone(),
                retryable: f.retryable,
                mismatch: f.mismatch,
                retry: retry_command(
                    &f.id,
                    f.from,
                    run_end,
                    f.dest.as_deref().or(self.dest.as_deref()),
                    manifest_hint,
                ),
            })
            .collect();
        let (status, exit_code) = match &input_error {
            Some(_) => ("error", crate::exit::ERROR),
            None if self.tally.mismatched > 0 => ("mismatch", self.tally.code()),
            None if self.tally.failed > 0 => ("failed", self.tally.code()),
            None => ("ok", self.tally.code()),
        };
        Report {
            v: 1,
            status,
            exit_code,
            segments: Counts {
                total: self.tally.ok + self.tally.failed + self.tally.mismatched,
                ok: self.tally.ok - skipped,
                failed,
                mismatched: self.tally.mismatched,
                skipped,
            },
            last_stage: last_ok.map(Step::name),
            range: self.range.map(|(start, end)| Range { start, end }),
            points: self.points,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            ratio: (self.paired_out > 0).then(|| self.paired_in as f64 / self.paired_out as f64),
            durations_ms: self.durations_ms.clone(),
            started: self.started,
            finished: self.finished,
            wall_ms: self.started.zip(self.finished).map(|(s, f)| {
                let ms = f.duration_since(s).as_millis();
                u64::try_from(ms).unwrap_or(0)
            }),
            failures_omitted: failed - self.failures.len(),
            failures,
            manifest_hint: manifest_hint.to_string(),
            input_error: input_error.map(|e| truncate(&e, MAX_MESSAGE_CHARS)),
        }
    }
}

/// The run summary; serialised as is, it is the body posted to the JSON webhook.
#[derive(Debug, Serialize)]
pub struct Report {
    pub v: u32,
    /// `ok`, `failed`, `mismatch` or `error` (the records could not all be read).
    pub status: &'static str,
    /// The exit code `notify` returns for these records.
    pub exit_code: u8,
    pub segments: Counts,
    pub last_stage: Option<&'static str>,
    pub range: Option<Range>,
    pub points: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub ratio: Option<f64>,
    pub durations_ms: BTreeMap<String, u64>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub wall_ms: Option<u64>,
    pub failures: Vec<FailureReport>,
    /// Failed segments beyond the listed ones.
    pub failures_omitted: usize,
    pub manifest_hint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub total: usize,
    pub ok: usize,
    /// Includes the mismatched ones.
    pub failed: usize,
    pub mismatched: usize,
    pub skipped: usize,
}

#[derive(Debug, Serialize)]
pub struct Range {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct FailureReport {
    pub id: String,
    pub stage: String,
    pub message: String,
    pub retryable: bool,
    pub mismatch: bool,
    /// A shell command that runs this segment again from the failed stage to the run's last.
    pub retry: String,
}

impl Report {
    /// Whether `--on` asks for a post: always, or when something failed.
    pub fn wanted(&self, always: bool) -> bool {
        always || self.status != "ok"
    }

    pub fn title(&self) -> String {
        let c = &self.segments;
        match self.status {
            "ok" if c.skipped > 0 => format!(
                "warp-offload: {} segments ok up to {}, {} skipped",
                c.ok,
                self.last_stage.unwrap_or("plan"),
                c.skipped
            ),
            "ok" => format!(
                "warp-offload: {} segments ok up to {}",
                c.ok,
                self.last_stage.unwrap_or("plan")
            ),
            "mismatch" => format!(
                "warp-offload: integrity mismatch in {} of {} segments",
                c.mismatched, c.total
            ),
            "failed" => format!("warp-offload: {} of {} segments failed", c.failed, c.total),
            _ => format!("warp-offload: unreadable records after {} segments", c.total),
        }
    }

    /// One line for stderr and for Slack's notification text.
    pub fn line(&self) -> String {
        let c = &self.segments;
        let mut s = format!("{} segments: {} ok, {} failed", c.total, c.ok, c.failed);
        if c.mismatched > 0 {
            s.push_str(&format!(" ({} mismatch)", c.mismatched));
        }
        s.push_str(&format!(
            ", {} skipped; {} points; {}",
            c.skipped,
            self.points,
            self.bytes_text()
        ));
        if let Some(t) = self.time_text() {
            s.push_str("; ");
            s.push_str(&t);
        }
        s
    }

    fn bytes_text(&self) -> String {
        let mut s = format!("{} in, {} out", human_bytes(self.bytes_in), human_bytes(self.bytes_out));
        if let Some(r) = self.ratio {
            s.push_str(&format!(" (ratio {r:.1})"));
        }
        s
    }

    fn time_text(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .wall_ms
            .map(|ms| format!("wall {}", human_ms(ms)))
            .into_iter()
            .collect();
        parts.extend(self.durations_ms.iter().map(|(k, ms)| format!("{k} {}", human_ms(*ms))));
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// The Slack incoming-webhook message: `text` for notifications, `blocks` for the display.
    pub fn slack_payload(&self) -> Value {
        let c = &self.segments;
        let mut segments = format!("{} ok, {} failed", c.ok, c.failed);
        if c.mismatched > 0 {
            segments.push_str(&format!(" ({} mismatch)", c.mismatched));
        }
        segments.push_str(&format!(", {} skipped", c.skipped));
        let mut fields = vec![
            field("Segments", &segments),
            field("Points", &self.points.to_string()),
            field("Bytes", &self.bytes_text()),
        ];
        if let Some(r) = &self.range {
            fields.push(field("Range", &format!("{} to {}", r.start, r.end)));
        }
        if let Some(t) = self.time_text() {
            fields.push(field("Time", &t));
        }
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&self.title(), 150)}}),
            json!({"type": "section", "fields": fields}),
        ];
        if let Some(e) = &self.input_error {
            blocks.push(section(&format!("*Could not read all records:* {}", esc(e))));
        }
        for f in self.failures.iter().take(SLACK_MAX_FAILURES) {
            let kind = if f.mismatch {
                "integrity mismatch"
            } else if f.retryable {
                "retryable"
            } else {
                "not retryable"
            };
            blocks.push(section(&format!(
                "*`{}`* failed at *{}* ({kind}): {}\n```{}```",
                esc(&f.id),
                esc(&f.stage),
                esc(&f.message),
                esc(&f.retry)
            )));
        }
        let more = c.failed.saturating_sub(SLACK_MAX_FAILURES);
        if more > 0 {
            let list = format!("jq -c 'select(.error)' {}", shell_quote(&self.manifest_hint));
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
                "text": esc(&format!("and {more} more failed segments: {list}"))}]}));
        }
        json!({"text": esc(&format!("{}. {}", self.title(), self.line())), "blocks": blocks})
    }
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", esc(value))})
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// Slack's escaping for mrkdwn text: only these three characters are control characters.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `max_chars` characters, the last one `…` when something was cut.
fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn human_ms(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// Quotes `s` for a POSIX shell (single quotes; a `'` becomes `'\''`); plain words stay bare.
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `jq` picks the segment out of the saved records and drops its error, then the stages from
/// `from` to `to` run on it. Upload gets `--dest` when the records name it; otherwise upload
/// stops on the missing flag rather than guessing.
fn retry_command(id: &str, from: Step, to: Step, dest: Option<&str>, manifest: &str) -> String {
    let id_literal = serde_json::to_string(id).expect("a string serialises");
    let filter = format!("select(.id == {id_literal}) | del(.error)");
    let mut cmd = format!("jq -c {} {}", shell_quote(&filter), shell_quote(manifest));
    for step in STEPS.iter().filter(|s| (from..=to).contains(*s)) {
        cmd.push_str(" | warp-offload ");
        cmd.push_str(step.command());
        if let (Step::Upload, Some(d)) = (step, dest) {
            cmd.push_str(" --dest ");
            cmd.push_str(&shell_quote(d));
        }
    }
    cmd
}

/// Which rendering a webhook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Json,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Slack => "Slack webhook",
            Kind::Json => "JSON webhook",
        }
    }

    pub fn payload(self, r: &Report) -> Value {
        match self {
            Kind::Slack => r.slack_payload(),
            Kind::Json => serde_json::to_value(r).expect("the report serialises"),
        }
    }
}

/// A webhook whose URL is a secret; `shown` is what messages may say about it.
pub struct Webhook {
    pub kind: Kind,
    url: Secret,
    shown: String,
}

impl Webhook {
    /// Checks the URL: https, or plain http to loopback or with `--allow-insecure-http`. Errors
    /// never quote the URL.
    pub fn new(kind: Kind, url: Secret) -> Result<Webhook> {
        let what = kind.label();
        let Ok(uri) = url.expose().parse::<http::Uri>() else {
            bail!("the {what} URL is not a valid URL");
        };
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            bail!("the {what} URL must be absolute (https://host/...)");
        };
        let shown = match uri.port_u16() {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        match scheme {
            "https" => {}
            "http" if crate::net::plain_http_allowed(url.expose()) => {}
            "http" => bail!(
                "refusing plain http:// for the {what} ({shown}): the URL is a secret; use https:// or --allow-insecure-http"
            ),
            _ => bail!("the {what} URL must start with https:// (found {scheme}://)"),
        }
        Ok(Webhook { kind, url, shown })
    }

    /// Names the webhook in messages: kind, scheme and host, never the path.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.kind.label(), self.shown)
    }

    /// Posts `body`, retrying once after a short pause on a connection error, a timeout, a 5xx
    /// or a 429.
    pub fn post(&self, agent: &ureq::Agent, body: &[u8]) -> Result<(), PostError> {
        match self.post_once(agent, body) {
            Err(e) if e.retry => {
                crate::log::debug(
                    "notify",
                    None,
                    &format!("{}: {}; retrying once", self.describe(), e.msg),
                );
                std::thread::sleep(RETRY_PAUSE);
                self.post_once(agent, body)
            }
            other => other,
        }
    }

    fn post_once(&self, agent: &ureq::Agent, body: &[u8]) -> Result<(), PostError> {
        let mut resp = agent
            .post(self.url.expose())
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| transport_failure(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // Slack answers errors with a short code (`invalid_payload`, `no_service`); anything else
        // from the body stays out of the message, since it could echo the request.
        let mut text = String::new();
        let _ = resp.body_mut().as_reader().take(64).read_to_string(&mut text);
        let code = text.trim();
        let code = if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            format!(" {code}")
        } else {
            String::new()
        };
        let redirect = if status.is_redirection() {
            " (redirect, not followed)"
        } else {
            ""
        };
        Err(PostError {
            retry: status.is_server_error() || status.as_u16() == 429,
            msg: format!("answered HTTP {}{code}{redirect}", status.as_u16()),
        })
    }
}

/// Why a post failed, in words that never quote the URL.
#[derive(Debug)]
pub struct PostError {
    retry: bool,
    pub msg: String,
}

/// ureq's `Display` quotes the URL for some variants: describe the failure from the variant.
/// A certificate or handshake failure is not retried: it would fail the same way.
fn transport_failure(e: &ureq::Error) -> PostError {
    let tls = |msg: String| PostError { retry: false, msg };
    let other = |msg: &str| PostError {
        retry: true,
        msg: msg.to_string(),
    };
    match e {
        ureq::Error::Timeout(_) => other("timed out"),
        ureq::Error::ConnectionFailed => other("connection failed"),
        ureq::Error::HostNotFound => other("host not found"),
        // A failed TLS handshake surfaces as an I/O error around the rustls error, whose text
        // (e.g. "invalid peer certificate: UnknownIssuer") never holds the URL.
        ureq::Error::Io(io) => match io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(t) => tls(format!("TLS error: {t}")),
            None => other(&format!("I/O error ({})", io.kind())),
        },
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            tls("TLS error (certificate or handshake)".into())
        }
        _ => other("request failed"),
    }
}

/// The HTTP agent for webhooks: each attempt bounded by `timeout`, redirects not followed (the
/// URL is a secret and the target could be anywhere), statuses handled by the caller.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(concat!("warp-offload/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::manifest::{ArchiveInfo, FetchInfo, PurgeInfo, TimeUnit, UploadInfo, VerifyInfo};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn planned(day: u32) -> Segment {
        let start = at(&format!("2026-10-{day:02}T00:00:00Z"));
        let end = at(&format!("2026-10-{:02}T00:00:00Z", day + 1));
        Segment::new(
            &crate::manifest::Source::new("http://127.0.0.1:8080", TimeUnit::Us).unwrap(),
            "os.cpu{}",
            start,
            end,
        )
    }

    fn fetched(day: u32, points: u64, bytes: u64, done: &str, ms: u64) -> Segment {
        let mut s = planned(day);
        s.fetch = Some(FetchInfo {
            points,
            series: 1,
            bytes,
            digest: Digest::default(),
            spool: crate::workdir::WorkDir::spool_rel(&s.id),
            at: at(done),
            duration_ms: ms,
        });
        s
    }

    fn archived(mut s: Segment, size: u64, done: &str) -> Segment {
        s.archive = Some(ArchiveInfo {
            codec: "wac1".into(),
            path: crate::workdir::WorkDir::archive_rel(&s.id, "wac1"),
            size,
            blake3: "00".into(),
            bytes_per_point: 1.0,
            key_id: None,
            at: at(done),
        });
        s
    }

    fn verified(mut s: Segment, scope: &str, done: &str) -> Segment {
        s.verify = Some(VerifyInfo {
            scope: scope.into(),
            points: 0,
            series: 0,
            digest: Digest::default(),
            at: at(done),
        });
        s
    }

    fn uploaded(mut s: Segment, dest: &str, done: &str) -> Segment {
        s.upload = Some(UploadInfo {
            dest: dest.into(),
            key: "k".into(),
            manifest_key: "m".into(),
            size: 1,
            blake3: "00".into(),
            etag: None,
            at: at(done),
        });
        s
    }

    fn purged(mut s: Segment, done: &str) -> Segment {
        s.purge = Some(PurgeInfo {
            state: "purged".into(),
            series: vec![],
            points: 0,
            not_archived: Vec::new(),
            at: at(done),
        });
        s
    }

    fn failed(mut s: Segment, stage: &str, msg: &str) -> Segment {
        s.fail(stage, &anyhow::anyhow!(msg.to_string()), true);
        s
    }

    fn summary(segs: &[Segment]) -> Report {
        let mut sum = Summary::default();
        for s in segs {
            sum.add(s);
        }
        sum.report("run.ndjson", None)
    }

    fn full(day: u32) -> Segment {
        let s = fetched(day, 1000, 7000, "2026-11-01T00:00:10Z", 4000);
        let s = archived(s, 1700, "2026-11-01T00:00:20Z");
        let s = verified(s, "local", "2026-11-01T00:00:21Z");
        let s = uploaded(s, "s3://b/p", "2026-11-01T00:00:30Z");
        let s = verified(s, "remote", "2026-11-01T00:00:31Z");
        purged(s, "2026-11-01T00:00:40Z")
    }

    #[test]
    fn counts_bytes_ratio_and_times() {
        let only_fetched = fetched(5, 10, 100, "2026-11-01T00:00:05Z", 1000);
        let broken = failed(
            fetched(6, 20, 300, "2026-11-01T00:00:06Z", 500),
            "compress",
            "disk full",
        );
        let r = summary(&[full(1), full(2), only_fetched, broken]);
        assert_eq!(r.segments.total, 4);
        assert_eq!(
            (
                r.segments.ok,
                r.segments.failed,
                r.segments.skipped,
                r.segments.mismatched
            ),
            (2, 1, 1, 0)
        );
        assert_eq!(r.status, "failed");
        assert_eq!(r.exit_code, crate::exit::PARTIAL);
        assert_eq!(r.last_stage, Some("purge"));
        assert_eq!(r.points, 2030);
        assert_eq!((r.bytes_in, r.bytes_out), (14_400, 3400));
        // Only segments with both a fetch and an archive count in the ratio.
        assert_eq!(r.ratio, Some(14_000.0 / 3400.0));
        assert_eq!(r.durations_ms.get("fetch"), Some(&(4000 + 4000 + 1000 + 500)));
        assert_eq!(r.started, Some(at("2026-11-01T00:00:04Z")));
        assert_eq!(r.finished, Some(at("2026-11-01T00:00:40Z")));
        assert_eq!(r.wall_ms, Some(36_000));
        let range = r.range.as_ref().unwrap();
        assert_eq!(
            (range.start, range.end),
            (at("2026-10-01T00:00:00Z"), at("2026-10-07T00:00:00Z"))
        );
        assert_eq!(r.failures.len(), 1);
        assert_eq!(r.failures[0].stage, "compress");
        assert!(
            r.line()
                .starts_with("4 segments: 2 ok, 1 failed, 1 skipped; 2030 points"),
            "{}",
            r.line()
        );
    }

    #[test]
    fn all_ok_and_empty_runs() {
        let r = summary(&[full(1)]);
        assert_eq!((r.status, r.exit_code, r.segments.ok), ("ok", 0, 1));
        assert!(!r.wanted(false) && r.wanted(true));
        let r = summary(&[]);
        assert_eq!(
            (r.segments.total, r.ratio, r.wall_ms, r.last_stage),
            (0, None, None, None)
        );
        assert!(r.line().starts_with("0 segments: 0 ok, 0 failed, 0 skipped"));
        let r = summary(&[planned(1), planned(2)]);
        assert_eq!((r.segments.ok, r.segments.skipped, r.last_stage), (2, 0, Some("plan")));
    }

    #[test]
    fn mismatch_selects_exit_code_4() {
        let mut s = full(1);
        s.fail(
            "verify",
            &anyhow::Error::new(crate::exit::Mismatch("digest".into())),
            false,
        );
        let r = summary(&[s, full(2)]);
        assert_eq!((r.status, r.exit_code), ("mismatch", crate::exit::MISMATCH));
        assert_eq!((r.segments.failed, r.segments.mismatched), (1, 1));
        assert!(r.failures[0].mismatch && r.wanted(false));
    }

    #[test]
    fn input_error_is_reported() {
        let mut sum = Summary::default();
        sum.add(&full(1));
        let r = sum.report("run.ndjson", Some("manifest line 2: not valid JSON".into()));
        assert_eq!((r.status, r.exit_code), ("error", crate::exit::ERROR));
        assert!(r.wanted(false));
        let slack = r.slack_payload().to_string();
        assert!(slack.contains("manifest line 2"), "{slack}");
    }

    #[test]
    fn retry_commands_run_the_failed_stage_to_the_last() {
        let at_fetch = failed(planned(3), "fetch", "HTTP 503");
        let at_upload = failed(
            verified(
                archived(fetched(4, 1, 1, "2026-11-01T00:00:01Z", 1), 1, "2026-11-01T00:00:02Z"),
                "local",
                "2026-11-01T00:00:03Z",
            ),
            "upload",
            "SlowDown",
        );
        let at_remote_verify = failed(
            uploaded(full_until_upload(5), "s3://other/p", "2026-11-01T00:00:04Z"),
            "verify",
            "BLAKE3 differs",
        );
        let r = summary(&[full(1), at_fetch.clone(), at_upload.clone(), at_remote_verify.clone()]);
        let cmd = |i: usize| r.failures[i].retry.clone();
        let sel = |s: &Segment| format!("jq -c 'select(.id == \"{}\") | del(.error)' run.ndjson", s.id);
        assert_eq!(
            cmd(0),
            format!(
                "{} | warp-offload fetch | warp-offload compress | warp-offload verify | warp-offload upload --dest s3://b/p | warp-offload verify | warp-offload purge",
                sel(&at_fetch)
            )
        );
        assert_eq!(
            cmd(1),
            format!(
                "{} | warp-offload upload --dest s3://b/p | warp-offload verify | warp-offload purge",
                sel(&at_upload)
            )
        );
        assert_eq!(
            cmd(2),
            format!("{} | warp-offload verify | warp-offload purge", sel(&at_remote_verify))
        );

        // A run that only fetched retries only the fetch; an unknown destination is left out.
        let r = summary(&[
            failed(planned(3), "fetch", "x"),
            fetched(4, 1, 1, "2026-11-01T00:00:01Z", 1),
        ]);
        assert!(
            r.failures[0].retry.ends_with("run.ndjson | warp-offload fetch"),
            "{}",
            r.failures[0].retry
        );
        let r = summary(&[failed(planned(3), "upload", "x")]);
        assert!(
            r.failures[0].retry.ends_with("| warp-offload upload"),
            "{}",
            r.failures[0].retry
        );
        // An unknown stage name: start after the last section reached.
        let r = summary(&[failed(fetched(3, 1, 1, "2026-11-01T00:00:01Z", 1), "all", "x")]);
        assert!(
            r.failures[0].retry.ends_with("| warp-offload compress"),
            "{}",
            r.failures[0].retry
        );
    }

    fn full_until_upload(day: u32) -> Segment {
        let s = fetched(day, 1, 1, "2026-11-01T00:00:01Z", 1);
        verified(archived(s, 1, "2026-11-01T00:00:02Z"), "local", "2026-11-01T00:00:03Z")
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("run.ndjson"), "run.ndjson");
        assert_eq!(
            shell_quote("/var/lib/warp offload/run.ndjson"),
            "'/var/lib/warp offload/run.ndjson'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
    }

    #[test]
    fn slack_payload_shape_and_limits() {
        let mut segs = vec![full(1)];
        for day in 2..20 {
            segs.push(failed(
                planned(day),
                "fetch",
                &format!("<{}> & {}", day, "x".repeat(400)),
            ));
        }
        let r = summary(&segs);
        assert_eq!((r.segments.failed, r.failures.len(), r.failures_omitted), (18, 18, 0));
        let p = r.slack_payload();
        let blocks = p["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "warp-offload: 18 of 19 segments failed");
        assert_eq!(blocks[1]["type"], "section");
        assert!(
            blocks[1]["fields"][0]["text"]
                .as_str()
                .unwrap()
                .contains("1 ok, 18 failed")
        );
        let failures: Vec<&Value> = blocks.iter().filter(|b| b["type"] == "section").skip(1).collect();
        assert_eq!(failures.len(), SLACK_MAX_FAILURES);
        let first = failures[0]["text"]["text"].as_str().unwrap();
        assert!(first.contains("&lt;2&gt; &amp; x") && !first.contains('<'), "{first}");
        assert!(first.len() < 3000, "Slack's section limit");
        assert!(first.contains("warp-offload fetch"));
        let last = blocks.last().unwrap();
        assert_eq!(last["type"], "context");
        assert!(
            last["elements"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("and 8 more failed segments")
        );
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .starts_with("warp-offload: 18 of 19 segments failed. 19 segments")
        );
        assert!(blocks.len() <= 50);
    }

    #[test]
    fn failures_beyond_the_listed_ones_are_counted() {
        let segs: Vec<Segment> = (0..MAX_FAILURES_LISTED + 5)
            .map(|i| {
                let mut s = planned(1);
                s.selector = format!("cls{i}{{}}");
                let source = crate::manifest::Source::new(&s.warp10_url, s.time_unit).unwrap();
                s.id = crate::manifest::SegmentId::derive(&source, &s.selector, s.start, s.end);
                failed(s, "fetch", "down")
            })
            .collect();
        let r = summary(&segs);
        assert_eq!(r.segments.failed, MAX_FAILURES_LISTED + 5);
        assert_eq!((r.failures.len(), r.failures_omitted), (MAX_FAILURES_LISTED, 5));
        let more = r.slack_payload()["blocks"].as_array().unwrap().last().unwrap()["elements"][0]["text"].clone();
        assert_eq!(
            more,
            format!(
                "and {} more failed segments: jq -c 'select(.error)' run.ndjson",
                MAX_FAILURES_LISTED + 5 - SLACK_MAX_FAILURES
            )
        );
    }

    #[test]
    fn truncation_is_char_safe() {
        assert_eq!(truncate("éééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate(&"x".repeat(200), 150).chars().count(), 150);
    }

    #[test]
    fn webhook_url_rules_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let url = |s: &str| {
            let p = dir.path().join("url");
            std::fs::write(&p, s).unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            Secret::from_file(&p, "webhook URL").unwrap()
        };
        let ok = Webhook::new(Kind::Slack, url("https://hooks.slack.com/services/T/B/canary")).unwrap();
        assert_eq!(ok.describe(), "Slack webhook (https://hooks.slack.com)");
        Webhook::new(Kind::Json, url("http://127.0.0.1:9/canary")).unwrap();
        for u in [
            "http://hooks.example/canary",
            "ftp://hooks.example/canary",
            "not a url canary",
            "/relative/canary",
        ] {
            let err = format!("{:#}", Webhook::new(Kind::Json, url(u)).err().unwrap());
            assert!(!err.contains("canary"), "{err}");
        }
    }
}
