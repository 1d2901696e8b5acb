//! `notify`: passes the records through unchanged, summarises them on stderr and posts the
//! summary to Slack and/or a JSON webhook. A webhook that is down or slow costs a warning and a
//! bounded wait, never the records or the exit code.

use crate::cli::{GlobalOpts, NotifyArgs, NotifyOn};
use crate::exit::Tally;
use crate::manifest;
use crate::notify::Summary;
use anyhow::Result;
use std::io::BufRead;

pub fn run(_g: &GlobalOpts, a: NotifyArgs) -> Result<Tally> {
    let delivery = a.webhooks.delivery(
        a.on == NotifyOn::Always,
        a.dry_run,
        std::time::Duration::from_secs(a.timeout),
    )?;
    let run = pass_through(crate::stage::stdin());
    let report = run
        .summary
        .report(&a.manifest_hint, run.input_error.as_ref().map(|e| format!("{e:#}")));
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
