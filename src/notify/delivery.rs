//! Delivery of a run report to webhooks (Slack and/or a JSON webhook), and to stderr: when `--on`
//! asks for it, with a bounded wait, a down webhook costing a warning, never the records or the
//! exit code. Webhook URLs are secrets (see the module comment of `notify`).

use super::Report;
use crate::log::{Level, event, info};
use crate::secret::Secret;
use anyhow::{Result, bail};
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Pause before the single retry of a failed post.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Where and when a run summary is posted (also used by `all --notify`).
pub struct Delivery {
    hooks: Vec<Webhook>,
    always: bool,
    dry_run: bool,
    timeout: Duration,
}

impl Delivery {
    /// From the webhook files (or their variables), `--on always`, `--dry-run`, `--timeout`.
    pub fn new(
        (slack_file, webhook_file): (Option<&Path>, Option<&Path>),
        always: bool,
        dry_run: bool,
        timeout: Duration,
    ) -> Result<Delivery> {
        let slack = Secret::load(slack_file, "SLACK_WEBHOOK_URL", "Slack webhook URL")?;
        let json = Secret::load(webhook_file, "WARP_OFFLOAD_WEBHOOK_URL", "JSON webhook URL")?;
        let hooks = [(Kind::Slack, slack), (Kind::Json, json)]
            .into_iter()
            .filter_map(|(kind, url)| url.map(|u| Webhook::new(kind, u)))
            .collect::<Result<Vec<_>>>()?;
        if hooks.is_empty() && !dry_run {
            event(
                Level::Warn,
                "notify",
                None,
                "no webhook configured (--slack-webhook-file or SLACK_WEBHOOK_URL, --webhook-file or \
                 WARP_OFFLOAD_WEBHOOK_URL): the summary goes to stderr only",
                &[],
            );
        }
        Ok(Delivery {
            hooks,
            always,
            dry_run,
            timeout,
        })
    }

    /// Logs the report and posts it when wanted; a webhook failure is only a warning.
    pub fn deliver(&self, report: &Report) {
        log_report(report);
        if !report.wanted(self.always) {
            crate::log::debug("notify", None, "nothing to post: no segment failed (--on failure)");
        } else if self.dry_run {
            dry_run(&self.hooks, report);
        } else {
            post_all(&self.hooks, report, self.timeout);
        }
    }
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

fn log_report(r: &Report) {
    info("notify", None, &r.line(), &[]);
    for f in &r.failures {
        let failed = format!("failed at {}: {}", f.stage, f.message);
        // The command must paste as is: raw on its own text line, a JSON string in a JSON line.
        if crate::log::is_json() {
            info("notify", Some(&f.id), &failed, &[("retry", f.retry.clone().into())]);
        } else {
            info("notify", Some(&f.id), &failed, &[]);
            info("notify", Some(&f.id), &format!("retry: {}", f.retry), &[]);
        }
    }
    if r.failures_omitted > 0 {
        info(
            "notify",
            None,
            &format!("and {} more failed segments", r.failures_omitted),
            &[],
        );
    }
}

/// Shows the payloads the configured webhooks would get, or both kinds when none is configured.
fn dry_run(hooks: &[Webhook], r: &Report) {
    let targets: Vec<(Kind, String)> = if hooks.is_empty() {
        [Kind::Slack, Kind::Json]
            .into_iter()
            .map(|k| (k, format!("a {}", k.label())))
            .collect()
    } else {
        hooks.iter().map(|h| (h.kind, h.describe())).collect()
    };
    for (kind, name) in targets {
        info(
            "notify",
            None,
            &format!("dry run: would post to {name}"),
            &[("payload", kind.payload(r))],
        );
    }
}

fn post_all(hooks: &[Webhook], r: &Report, timeout: Duration) {
    let agent = agent(timeout);
    for hook in hooks {
        let body = serde_json::to_vec(&hook.kind.payload(r)).expect("a JSON value serialises");
        match hook.post(&agent, &body) {
            Ok(()) => info(
                "notify",
                None,
                &format!("posted the summary to the {}", hook.describe()),
                &[],
            ),
            Err(e) => event(
                Level::Warn,
                "notify",
                None,
                &format!(
                    "could not post the summary to the {}: {} (the records and the exit code are unaffected)",
                    hook.describe(),
                    e.msg
                ),
                &[],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
