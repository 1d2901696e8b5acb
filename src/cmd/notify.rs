//! `notify`: passes the records through unchanged, summarises them on stderr and posts the
//! summary to Slack and/or a JSON webhook. A webhook that is down or slow costs a warning and a
//! bounded wait, never the records or the exit code.

use crate::cli::{GlobalOpts, NotifyOn, WebhookOpts};
use crate::exit::Tally;
use crate::manifest;
use crate::notify::Summary;
use anyhow::Result;
use clap::Args;
use std::io::BufRead;

/// Post a run summary to Slack and/or a JSON webhook; records pass through unchanged
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch | ... | warp-offload purge \\
      | warp-offload notify --slack-webhook-file /etc/warp-offload/slack.url > run.ndjson
  # see what would be posted, without posting
  warp-offload notify --dry-run --notify-on always < run.ndjson > /dev/null

Segments: failed = the record carries an error (mismatch: an integrity mismatch); skipped = no error
but the record stopped before the furthest stage another successful record reached; ok = the rest.
Bytes in are the Warp 10 text fetched, bytes out the archive sizes. The wall time runs from the
earliest to the latest time recorded in the records.

Each failed segment comes with a shell command that runs it again as the failed run did: in the
same directory, the stages from the failed one to the last with their flags, reading the record
from the file the records were saved to (--manifest-hint, else the file notify's stdout is
redirected to, else $RECORDS); for `all`, the same `all` for that segment alone. Secrets taken
from the environment (WARP10_READ_TOKEN, AWS_ACCESS_KEY_ID, ...) are never in it: set them as for
the failed run.

Use `set -o pipefail` in scripts: notify's exit code reflects the records it read (0, 3 or 4; 1 if
they could not all be read), never a webhook failure, which is only a warning.")]
pub struct NotifyArgs {
    #[command(flatten)]
    pub webhooks: WebhookOpts,
    /// When to post
    #[arg(long, alias = "on", value_enum, default_value_t = NotifyOn::Failure)]
    pub notify_on: NotifyOn,
    /// The file this run's records are saved to, read by the retry commands [default: the file
    /// stdout is redirected to]
    #[arg(long, value_name = "FILE")]
    pub manifest_hint: Option<String>,
    /// Seconds allowed per webhook request (a failed request is retried once)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Print the payloads on stderr instead of posting them
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

pub fn run(_g: &GlobalOpts, a: NotifyArgs) -> Result<Tally> {
    let delivery = a.webhooks.delivery(
        a.notify_on == NotifyOn::Always,
        a.dry_run,
        std::time::Duration::from_secs(a.timeout),
    )?;
    let run = pass_through(crate::stage::stdin());
    if run.input_error.is_none() && run.summary.tally().total() == 0 {
        crate::stage::warn_no_records("notify");
    }
    let records = crate::notify::records_file(a.manifest_hint.as_deref());
    let report = run
        .summary
        .report(records.as_deref(), run.input_error.as_ref().map(|e| format!("{e:#}")));
    if records.is_none()
        && report
            .failures
            .iter()
            .any(|f| f.retry.contains(crate::notify::RECORDS_VARIABLE))
    {
        crate::log::warn(
            "stdout is not a file and --manifest-hint is not given: the retry commands read the records \
             from the file named by $RECORDS",
        );
    }
    delivery.deliver(&report);
    if let Some(e) = run.input_error.or(run.write_error) {
        return Err(e);
    }
    Ok(run.summary.tally())
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
