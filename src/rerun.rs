//! How a failed segment is run again, as `notify` (and `all --notify`) prints it.
//!
//! The command line of this process is captured once at start (`init`): its arguments without
//! argv[0], the options clap took from environment variables written out as flags, and the
//! working directory. None of it is secret: main refuses secrets in argv, and the options with
//! an environment variable are a Warp 10 URL (refused when it carries credentials, a query or a
//! fragment) and paths. Secrets read from the environment (tokens, AWS credentials) stay there.
//!
//! A stage that fails a segment records its command line in the segment's error
//! (`error.rerun`), under its position in the pipeline; each later stage that passes the failed
//! record on adds its own (the only change a stage makes to a failed record), so the record knows
//! the rest of its pipeline with every flag. `all` and
//! `restore`, which plan their own segments, record theirs alone: the retry is the same command
//! for that one segment. Records are untrusted input: what they carry here is only ever printed,
//! each word shell-quoted, never run by us.

use crate::manifest::{Segment, StageName, VerifyScope};
use clap::parser::ValueSource;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Positions in the pipeline, in order. `verify` runs twice: on the local archive before
/// upload, on the object read back after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Plan,
    Fetch,
    Compress,
    VerifyLocal,
    Upload,
    VerifyRemote,
    Purge,
}

pub const STEPS: [Step; 7] = [
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
    pub fn reached(seg: &Segment) -> Step {
        if seg.purge.is_some() {
            Step::Purge
        } else if seg.verify.as_ref().is_some_and(|v| v.scope == VerifyScope::Remote) {
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
    pub fn retry_from(seg: &Segment) -> Step {
        let named = seg.error.as_ref().and_then(|e| Step::of(e.stage, seg.upload.is_some()));
        named.unwrap_or_else(|| STEPS[(Step::reached(seg) as usize + 1).min(STEPS.len() - 1)])
    }

    /// The position of `stage`; a verify is the remote one once the segment is uploaded or its
    /// pipeline has an upload before this point. None for what is not a stage of the pipeline.
    fn of(stage: StageName, after_upload: bool) -> Option<Step> {
        Some(match stage {
            StageName::Fetch => Step::Fetch,
            StageName::Compress => Step::Compress,
            StageName::Verify if after_upload => Step::VerifyRemote,
            StageName::Verify => Step::VerifyLocal,
            StageName::Upload => Step::Upload,
            StageName::Purge => Step::Purge,
            StageName::Restore | StageName::Lock | StageName::Resume => return None,
        })
    }

    /// The subcommand that runs this step.
    pub fn command(self) -> &'static str {
        match self {
            Step::Plan => "plan",
            Step::Fetch => "fetch",
            Step::Compress => "compress",
            Step::VerifyLocal | Step::VerifyRemote => "verify",
            Step::Upload => "upload",
            Step::Purge => "purge",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::VerifyLocal => "verify-local",
            Step::VerifyRemote => "verify-remote",
            other => other.command(),
        }
    }
}

/// A command line of warp-offload, replayable from `cwd`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// The subcommand.
    pub command: String,
    /// Every argument after argv[0], then the options taken from the environment.
    pub args: Vec<String>,
    pub cwd: String,
}

/// What runs a failed segment again (`error.rerun` in records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rerun {
    /// `all` or `restore`: the same command, for this segment only.
    Segment(Invocation),
    /// The stages of the pipeline from the one that failed, by position.
    Pipeline(BTreeMap<Step, Invocation>),
}

/// Options of `all` and `restore` that choose segments, replaced by the failed one's.
const ALL_SELECTION: &[&str] = &["--segment", "--start", "--end"];
const RESTORE_SELECTION: &[&str] = &["--segment", "--selector", "--start", "--end"];

static CURRENT: OnceLock<Option<Invocation>> = OnceLock::new();

/// Captures this process's command line; `command` is the built command `matches` came from.
/// Nothing is captured when an argument or the working directory is not UTF-8 (the retry
/// commands then name the stages without their flags).
pub fn init(command: &clap::Command, matches: &clap::ArgMatches) {
    let _ = CURRENT.set(capture(command, matches));
}

fn capture(command: &clap::Command, matches: &clap::ArgMatches) -> Option<Invocation> {
    let (name, sub) = matches.subcommand()?;
    let mut args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().ok())
        .collect::<Option<_>>()?;
    for arg in command.find_subcommand(name)?.get_arguments() {
        let id = arg.get_id().as_str();
        if arg.get_env().is_none() || sub.value_source(id) != Some(ValueSource::EnvVariable) {
            continue;
        }
        let (Some(long), Some(mut values)) = (arg.get_long(), sub.get_raw(id)) else {
            continue;
        };
        args.push(format!("--{long}"));
        args.push(values.next()?.to_str()?.to_string());
    }
    let cwd = std::env::current_dir().ok()?.into_os_string().into_string().ok()?;
    Some(Invocation {
        command: name.to_string(),
        args,
        cwd,
    })
}

fn current() -> Option<&'static Invocation> {
    CURRENT.get()?.as_ref()
}

/// Records, in the error `stage` has just recorded in `seg`, what runs it again.
pub fn on_failure(seg: &mut Segment, stage: StageName) {
    if let Some(inv) = current() {
        failed_in(seg, stage, inv);
    }
}

/// `stage` passes the failed `seg` on: it joins the segment's retry pipeline.
pub fn on_pass(seg: &mut Segment, stage: StageName) {
    if let Some(inv) = current() {
        passed_through(seg, stage, inv);
    }
}

fn failed_in(seg: &mut Segment, stage: StageName, inv: &Invocation) {
    let rerun = if matches!(inv.command.as_str(), "all" | "restore") {
        Some(Rerun::Segment(inv.clone()))
    } else {
        Step::of(stage, seg.upload.is_some()).map(|at| Rerun::Pipeline(BTreeMap::from([(at, inv.clone())])))
    };
    if let Some(e) = seg.error.as_mut() {
        e.rerun = rerun;
    }
}

/// A stage after the one that failed takes its position in the pipeline unless the record
/// already has one there: the run that failed the segment defines its retry, a later run the
/// record goes through (fed again from a saved file) only adds the stages it did not have. A
/// stage before the one that failed is not part of the retry.
fn passed_through(seg: &mut Segment, stage: StageName, inv: &Invocation) {
    let uploaded = seg.upload.is_some();
    let Some(Rerun::Pipeline(stages)) = seg.error.as_mut().and_then(|e| e.rerun.as_mut()) else {
        return;
    };
    let after_upload = uploaded || stages.keys().any(|s| *s >= Step::Upload);
    let (Some(at), Some(first)) = (Step::of(stage, after_upload), stages.keys().next()) else {
        return;
    };
    if at > *first {
        stages.entry(at).or_insert_with(|| inv.clone());
    }
}

/// The segment a retry is for.
pub struct Target<'a> {
    pub id: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Rerun {
    /// A shell command that runs `target` again; `records` is the shell word naming the file the
    /// failed run's records were saved to (a pipeline's retry reads the record from it).
    pub fn shell(&self, target: &Target, records: &str) -> String {
        match self {
            Rerun::Segment(inv) => {
                let (strip, add) = if inv.command == "restore" {
                    (RESTORE_SELECTION, vec![("--segment", target.id.to_string())])
                } else {
                    (
                        ALL_SELECTION,
                        vec![
                            ("--start", target.start.to_string()),
                            ("--end", target.end.to_string()),
                            ("--segment", target.id.to_string()),
                        ],
                    )
                };
                let mut args = without_options(&inv.args, strip);
                for (flag, value) in add {
                    args.extend([flag.to_string(), value]);
                }
                format!("cd {} && {}", shell_quote(&inv.cwd), warp_offload(&args))
            }
            Rerun::Pipeline(stages) => {
                let Some(cwd) = stages.values().next().map(|inv| inv.cwd.as_str()) else {
                    return String::new();
                };
                let mut cmd = format!("cd {} && {}", shell_quote(cwd), select_record(target.id, records));
                for inv in stages.values() {
                    let stage = warp_offload(&inv.args);
                    if inv.cwd == cwd {
                        cmd.push_str(&format!(" | {stage}"));
                    } else {
                        cmd.push_str(&format!(" | (cd {} && {stage})", shell_quote(&inv.cwd)));
                    }
                }
                cmd
            }
        }
    }
}

/// `args` without the options named in `flags` (as `--flag value` or `--flag=value`). clap
/// never takes a value starting with `--` for these, so the word after one is its value.
fn without_options(args: &[String], flags: &[&str]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut words = args.iter();
    while let Some(w) = words.next() {
        if flags.contains(&w.as_str()) {
            words.next();
        } else if !flags.iter().any(|f| w.starts_with(&format!("{f}="))) {
            kept.push(w.clone());
        }
    }
    kept
}

fn warp_offload(args: &[String]) -> String {
    let mut s = "warp-offload".to_string();
    for a in args {
        s.push(' ');
        s.push_str(&shell_quote(a));
    }
    s
}

/// `jq` picks the segment's record out of the saved ones and drops its error.
pub fn select_record(id: &str, records: &str) -> String {
    let id_literal = serde_json::to_string(id).expect("a string serialises");
    let filter = format!("select(.id == {id_literal}) | del(.error)");
    format!("jq -c {} {records}", shell_quote(&filter))
}

/// Quotes `s` for a POSIX shell (shlex); a string holding a NUL byte, which no shell word can
/// hold, is named instead.
pub fn shell_quote(s: &str) -> String {
    shlex::try_quote(s).map_or_else(|_| "'<argument with a NUL byte>'".to_string(), |q| q.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(command: &str, args: &[&str], cwd: &str) -> Invocation {
        Invocation {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: cwd.into(),
        }
    }

    fn target() -> Target<'static> {
        Target {
            id: "20261001T000000Z-1d-0123456789ab",
            start: "2026-10-01T00:00:00Z".parse().unwrap(),
            end: "2026-10-02T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn all_is_rerun_for_the_segment_alone() {
        let all = inv(
            "all",
            &[
                "--progress=never",
                "all",
                "--start",
                "now-60d",
                "--segment-length",
                "1d",
                "--end=now-30d",
                "--segment",
                "other",
                "--segment=more",
                "--dest",
                "/srv/it's here",
                "--read-token-file",
                "read.token",
            ],
            "/var/lib/warp offload",
        );
        assert_eq!(
            Rerun::Segment(all).shell(&target(), "unused"),
            "cd '/var/lib/warp offload' && warp-offload '--progress=never' all --segment-length 1d --dest \"/srv/it's here\" \
             --read-token-file read.token --start 2026-10-01T00:00:00Z --end 2026-10-02T00:00:00Z \
             --segment 20261001T000000Z-1d-0123456789ab"
        );
        let restore = inv(
            "restore",
            &["restore", "--selector", "a{}", "--start", "x", "--end", "y"],
            "/",
        );
        assert_eq!(
            Rerun::Segment(restore).shell(&target(), "unused"),
            "cd / && warp-offload restore --segment 20261001T000000Z-1d-0123456789ab"
        );
    }

    #[test]
    fn a_pipeline_is_rerun_from_the_saved_records() {
        let stages = BTreeMap::from([
            (Step::Upload, inv("upload", &["upload", "--dest", "s3://b/p"], "/w")),
            (Step::VerifyRemote, inv("verify", &["verify"], "/w")),
            (
                Step::Purge,
                inv("purge", &["purge", "--write-token-file", "w t"], "/elsewhere"),
            ),
        ]);
        assert_eq!(
            Rerun::Pipeline(stages).shell(&target(), "'/w/run 1.ndjson'"),
            "cd /w && jq -c 'select(.id == \"20261001T000000Z-1d-0123456789ab\") | del(.error)' '/w/run 1.ndjson' \
             | warp-offload upload --dest s3://b/p | warp-offload verify \
             | (cd /elsewhere && warp-offload purge --write-token-file 'w t')"
        );
    }

    #[test]
    fn records_round_trip_with_positions_as_keys() {
        let rerun = Rerun::Pipeline(BTreeMap::from([
            (Step::VerifyLocal, inv("verify", &["verify"], "/")),
            (Step::Purge, inv("purge", &["purge"], "/")),
        ]));
        let text = serde_json::to_string(&rerun).unwrap();
        assert!(
            text.starts_with(r#"{"pipeline":{"verify-local":{"command":"verify""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Rerun>(&text).unwrap(), rerun);
    }

    fn planned() -> Segment {
        let source = crate::id::Source::new("http://127.0.0.1:8080", crate::id::TimeUnit::Us).unwrap();
        let t = target();
        Segment::new(&source, "os.cpu{}", t.start, t.end)
    }

    fn positions(seg: &Segment) -> Vec<(Step, String)> {
        match &seg.error.as_ref().unwrap().rerun {
            Some(Rerun::Pipeline(stages)) => stages.iter().map(|(s, i)| (*s, i.args.join(" "))).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Runs `seg`, failed or not, through the pipeline `stages` (each `(stage, run)`), as the
    /// single-stage commands do: a failed record passes, the stage named `fails` fails it.
    fn pipeline(mut seg: Segment, stages: &[StageName], run: &str, fails: Option<StageName>) -> Segment {
        for (i, stage) in stages.iter().enumerate() {
            let me = inv(stage.name(), &[stage.name(), run, &i.to_string()], "/w");
            if seg.error.is_some() {
                passed_through(&mut seg, *stage, &me);
            } else if Some(*stage) == fails {
                seg.fail(*stage, &anyhow::anyhow!("boom"), true);
                failed_in(&mut seg, *stage, &me);
            }
        }
        seg
    }

    const FULL: [StageName; 6] = [
        StageName::Fetch,
        StageName::Compress,
        StageName::Verify,
        StageName::Upload,
        StageName::Verify,
        StageName::Purge,
    ];

    #[test]
    fn the_stages_after_a_failure_make_its_pipeline() {
        let seg = pipeline(planned(), &FULL, "a", Some(StageName::Fetch));
        assert_eq!(
            positions(&seg),
            [
                (Step::Fetch, "fetch a 0".to_string()),
                (Step::Compress, "compress a 1".into()),
                (Step::VerifyLocal, "verify a 2".into()),
                (Step::Upload, "upload a 3".into()),
                (Step::VerifyRemote, "verify a 4".into()),
                (Step::Purge, "purge a 5".into()),
            ]
        );
        // Fed again to another pipeline: the failed run's stages stay, the new one only adds
        // what they lacked.
        let seg = pipeline(
            planned(),
            &[StageName::Upload, StageName::Verify],
            "a",
            Some(StageName::Upload),
        );
        let later = [StageName::Fetch, StageName::Upload, StageName::Verify, StageName::Purge];
        assert_eq!(
            positions(&pipeline(seg, &later, "b", None)),
            [
                (Step::Upload, "upload a 0".to_string()),
                (Step::VerifyRemote, "verify a 1".into()),
                (Step::Purge, "purge b 3".into()),
            ]
        );
        // all records its own command line, whatever stage failed inside it.
        let mut seg = planned();
        seg.fail(StageName::Upload, &anyhow::anyhow!("boom"), true);
        failed_in(&mut seg, StageName::Upload, &inv("all", &["all"], "/"));
        passed_through(&mut seg, StageName::Purge, &inv("purge", &["purge"], "/"));
        assert_eq!(
            seg.error.unwrap().rerun,
            Some(Rerun::Segment(inv("all", &["all"], "/")))
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("run.ndjson"), "run.ndjson");
        for s in [
            "/var/lib/warp offload/run.ndjson",
            "it's",
            "",
            "$(rm -rf ~)",
            "a\"b`c\\d",
        ] {
            assert_eq!(shlex::split(&shell_quote(s)), Some(vec![s.to_string()]), "{s:?}");
        }
    }
}
