//! The run summary `notify` builds from segment records. Its Slack rendering is in `slack`, its
//! delivery to webhooks (and the JSON rendering, the report itself) in `delivery`.
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

mod delivery;
mod slack;

pub use delivery::Delivery;

/// Error messages are cut to this many characters in summaries; the records keep the full text.
const MAX_MESSAGE_CHARS: usize = 300;
/// Failed segments listed one by one in the JSON summary and on stderr.
const MAX_FAILURES_LISTED: usize = 100;
/// Failed segments given their own Slack block (Slack allows 50 blocks per message).
const SLACK_MAX_FAILURES: usize = 10;

use crate::exit::Tally;
use crate::manifest::Segment;
use crate::rerun::{Rerun, STEPS, Step, Target, shell_quote};
use indicatif::{HumanBytes, HumanDuration};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

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
    start: Timestamp,
    end: Timestamp,
    stage: String,
    message: String,
    retryable: bool,
    mismatch: bool,
    /// What the failed run recorded to run the segment again.
    rerun: Option<Rerun>,
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
                        start: seg.start,
                        end: seg.end,
                        stage: e.stage.name().to_string(),
                        message: truncate(&e.message, MAX_MESSAGE_CHARS),
                        retryable: e.retryable,
                        mismatch: e.mismatch,
                        rerun: e.rerun.clone(),
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

    /// The run summary. `records` is the file this run's records are saved to, read by the
    /// retry commands; `input_error` reports records that could not be read.
    pub fn report(&self, records: Option<&str>, input_error: Option<String>) -> Report {
        let word = records_word(records);
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
                retry: match &f.rerun {
                    Some(rerun) => rerun.shell(
                        &Target {
                            id: &f.id,
                            start: f.start,
                            end: f.end,
                        },
                        &word,
                    ),
                    None => bare_retry_command(
                        &f.id,
                        f.from,
                        run_end,
                        f.dest.as_deref().or(self.dest.as_deref()),
                        &word,
                    ),
                },
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
            manifest_hint: records.map(str::to_string),
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
    /// The file the records were saved to (`--manifest-hint`, else where stdout went), null
    /// when unknown.
    pub manifest_hint: Option<String>,
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
    /// A shell command that runs this segment again: from the failed stage to the run's last,
    /// or the same `all` for this segment.
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
        let mut s = format!("{} in, {} out", HumanBytes(self.bytes_in), HumanBytes(self.bytes_out));
        if let Some(r) = self.ratio {
            s.push_str(&format!(" (ratio {r:.1})"));
        }
        s
    }

    fn time_text(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .wall_ms
            .map(|ms| format!("wall {}", HumanDuration(Duration::from_millis(ms))))
            .into_iter()
            .collect();
        parts.extend(
            self.durations_ms
                .iter()
                .map(|(k, ms)| format!("{k} {}", HumanDuration(Duration::from_millis(*ms)))),
        );
        (!parts.is_empty()).then(|| parts.join(", "))
    }
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

/// The file this run's records are saved to: `hint` (made absolute) when given, else the file
/// stdout is redirected to, else unknown.
pub fn records_file(hint: Option<&str>) -> Option<String> {
    let path = match hint {
        Some(h) => std::path::absolute(h).ok(),
        None => stdout_file(),
    };
    path?.into_os_string().into_string().ok()
}

/// How the retry commands name the records file when it is unknown: `$RECORDS`, which fails
/// saying what to set while unset.
pub const RECORDS_VARIABLE: &str =
    "\"${RECORDS:?set RECORDS to the file the records of the failed run were saved to}\"";

/// The records file as a shell word.
fn records_word(file: Option<&str>) -> String {
    file.map_or_else(|| RECORDS_VARIABLE.to_string(), shell_quote)
}

/// The regular file stdout writes to (`> run.ndjson`), by its path in /proc (Linux): the path
/// must still name that same file.
fn stdout_file() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let fd = std::path::Path::new("/proc/self/fd/1");
    let open = std::fs::metadata(fd).ok()?;
    let path = std::fs::read_link(fd).ok()?;
    let named = std::fs::metadata(&path).ok()?;
    (open.is_file() && (open.dev(), open.ino()) == (named.dev(), named.ino())).then_some(path)
}

/// For records that carry no command line (written by an older version): `jq` picks the
/// segment out of the saved records and drops its error, then the stages from `from` to `to`
/// run on it, without their flags. Upload gets `--dest` when the records name it.
fn bare_retry_command(id: &str, from: Step, to: Step, dest: Option<&str>, records: &str) -> String {
    let mut cmd = crate::rerun::select_record(id, records);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::id::TimeUnit;
    use crate::manifest::{ArchiveInfo, FetchInfo, PurgeInfo, StageName, UploadInfo, VerifyInfo, VerifyScope};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn planned(day: u32) -> Segment {
        let start = at(&format!("2026-10-{day:02}T00:00:00Z"));
        let end = at(&format!("2026-10-{:02}T00:00:00Z", day + 1));
        Segment::new(
            &crate::id::Source::new("http://127.0.0.1:8080", TimeUnit::Us).unwrap(),
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
            checked_here: false,
            at: at(done),
        });
        s
    }

    fn verified(mut s: Segment, scope: VerifyScope, done: &str) -> Segment {
        s.verify = Some(VerifyInfo {
            scope,
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
            state: crate::manifest::PurgeState::Purged,
            series: vec![],
            points: 0,
            not_archived: Vec::new(),
            at: at(done),
        });
        s
    }

    fn failed(mut s: Segment, stage: &str, msg: &str) -> Segment {
        let stage = serde_json::from_value(serde_json::json!(stage)).unwrap();
        s.fail(stage, &anyhow::anyhow!(msg.to_string()), true);
        s
    }

    fn summary(segs: &[Segment]) -> Report {
        let mut sum = Summary::default();
        for s in segs {
            sum.add(s);
        }
        sum.report(Some("run.ndjson"), None)
    }

    fn full(day: u32) -> Segment {
        let s = fetched(day, 1000, 7000, "2026-11-01T00:00:10Z", 4000);
        let s = archived(s, 1700, "2026-11-01T00:00:20Z");
        let s = verified(s, VerifyScope::Local, "2026-11-01T00:00:21Z");
        let s = uploaded(s, "s3://b/p", "2026-11-01T00:00:30Z");
        let s = verified(s, VerifyScope::Remote, "2026-11-01T00:00:31Z");
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
            StageName::Verify,
            &anyhow::Error::new(crate::error::Mismatch("digest".into())),
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
        let r = sum.report(Some("run.ndjson"), Some("manifest line 2: not valid JSON".into()));
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
                VerifyScope::Local,
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
        // Not a stage (all's lock): start after the last section reached.
        let r = summary(&[failed(fetched(3, 1, 1, "2026-11-01T00:00:01Z", 1), "lock", "x")]);
        assert!(
            r.failures[0].retry.ends_with("| warp-offload compress"),
            "{}",
            r.failures[0].retry
        );
    }

    fn full_until_upload(day: u32) -> Segment {
        let s = fetched(day, 1, 1, "2026-11-01T00:00:01Z", 1);
        verified(
            archived(s, 1, "2026-11-01T00:00:02Z"),
            VerifyScope::Local,
            "2026-11-01T00:00:03Z",
        )
    }

    #[test]
    fn recorded_command_lines_make_the_retry() {
        let inv = |command: &str, args: &[&str]| crate::rerun::Invocation {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: "/w".into(),
        };
        let mut at_upload = failed(full_until_upload(3), "upload", "SlowDown");
        at_upload.error.as_mut().unwrap().rerun = Some(Rerun::Pipeline(BTreeMap::from([
            (Step::Upload, inv("upload", &["upload", "--dest", "/srv/a b"])),
            (Step::VerifyRemote, inv("verify", &["verify"])),
        ])));
        let mut in_all = failed(planned(4), "lock", "held");
        in_all.error.as_mut().unwrap().rerun = Some(Rerun::Segment(inv("all", &["all", "--dest", "d"])));
        let mut sum = Summary::default();
        sum.add(&at_upload);
        sum.add(&in_all);
        let r = sum.report(None, None);
        assert_eq!(
            r.failures[0].retry,
            format!(
                "cd /w && jq -c 'select(.id == \"{}\") | del(.error)' \"${{RECORDS:?set RECORDS to the file the records \
                 of the failed run were saved to}}\" | warp-offload upload --dest '/srv/a b' | warp-offload verify",
                at_upload.id
            )
        );
        assert_eq!(
            r.failures[1].retry,
            format!(
                "cd /w && warp-offload all --dest d --start 2026-10-04T00:00:00Z --end 2026-10-05T00:00:00Z --segment {}",
                in_all.id
            )
        );
        assert_eq!(r.manifest_hint, None);
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
                let source = crate::id::Source::new(&s.warp10_url, s.time_unit).unwrap();
                s.id = crate::id::SegmentId::derive(&source, &s.selector, s.start, s.end);
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
}
