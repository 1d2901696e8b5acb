//! The Slack rendering of a run report: `text` for notifications, `blocks` for the display,
//! failures listed up to a limit, everything escaped for mrkdwn.

use super::{Report, SLACK_MAX_FAILURES, records_word, truncate};
use serde_json::{Value, json};

impl Report {
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
            let list = format!("jq -c 'select(.error)' {}", records_word(self.manifest_hint.as_deref()));
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
