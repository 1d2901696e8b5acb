//! `notify`: passes the records through unchanged, summarises them on stderr and posts the
//! summary to Slack and/or a JSON webhook. A webhook that is down or slow costs a warning and a
//! bounded wait, never the records or the exit code.

use crate::cli::{GlobalOpts, NotifyArgs, NotifyOn};
use crate::exit::Tally;
use crate::log::{Level, event, info};
use crate::manifest;
use crate::notify::{Kind, Report, Summary, Webhook};
use crate::secret::Secret;
use anyhow::Result;
use std::io::BufRead;
use std::time::Duration;

pub fn run(_g: &GlobalOpts, a: NotifyArgs) -> Result<Tally> {
    let delivery = Delivery::new(&a)?;
    let run = pass_through(crate::cmd::stdin());
    let report = run
        .summary
        .report(&a.manifest_hint, run.input_error.as_ref().map(|e| format!("{e:#}")));
    delivery.deliver(&report);
    if let Some(e) = run.input_error.or(run.write_error) {
        return Err(e);
    }
    Ok(run.summary.tally())
}

/// Where and when a run summary is posted (also used by `all --notify`).
pub struct Delivery {
    hooks: Vec<Webhook>,
    always: bool,
    dry_run: bool,
    timeout: Duration,
}

impl Delivery {
    pub fn new(a: &NotifyArgs) -> Result<Delivery> {
        let slack = Secret::load(
            a.slack_webhook_file.as_deref(),
            "SLACK_WEBHOOK_URL",
            "Slack webhook URL",
        )?;
        let json = Secret::load(
            a.webhook_file.as_deref(),
            "WARP_OFFLOAD_WEBHOOK_URL",
            "JSON webhook URL",
        )?;
        let hooks = [(Kind::Slack, slack), (Kind::Json, json)]
            .into_iter()
            .filter_map(|(kind, url)| url.map(|u| Webhook::new(kind, u)))
            .collect::<Result<Vec<_>>>()?;
        if hooks.is_empty() && !a.dry_run {
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
            always: a.on == NotifyOn::Always,
            dry_run: a.dry_run,
            timeout: Duration::from_secs(a.timeout),
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

struct PassThrough {
    summary: Summary,
    input_error: Option<anyhow::Error>,
    write_error: Option<anyhow::Error>,
}

/// Copies every record to stdout as it arrives and summarises it. A record that cannot be read
/// ends the input (and is reported); stdout failing does not stop the summary.
fn pass_through(input: impl BufRead) -> PassThrough {
    let mut run = PassThrough {
        summary: Summary::default(),
        input_error: None,
        write_error: None,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for seg in manifest::Reader::new(input) {
        let seg = match seg {
            Ok(seg) => seg,
            Err(e) => {
                run.input_error = Some(e);
                break;
            }
        };
        run.summary.add(&seg);
        if run.write_error.is_none()
            && let Err(e) = manifest::write_record(&mut out, &seg)
        {
            run.write_error = Some(e);
        }
    }
    run
}

fn log_report(r: &Report) {
    info("notify", None, &r.line(), &[]);
    for f in &r.failures {
        info(
            "notify",
            Some(&f.id),
            &format!("failed at {}: {}", f.stage, f.message),
            &[("retry", f.retry.clone().into())],
        );
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
    let agent = crate::notify::agent(timeout);
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
