//! `all`: the whole chain in one process against fake-warp10 and a directory destination —
//! purge leaves the range empty and the archives restore it exactly; a run killed at any stage
//! boundary converges when re-run; concurrent runs process each segment once.

use crate::support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;
use support::{FakeWarp10, READ_TOKEN, TestDir, WRITE_TOKEN, cmd, records, run, stderr};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");
const SELECTOR: &str = "~.*{}";
const START: &str = "2024-01-15T00:00:00Z";
const END: &str = "2024-01-17T00:00:00Z";
/// [START, END) in µs, inclusive end.
const RANGE: (i64, i64) = (1_705_276_800_000_000, 1_705_449_599_999_999);

/// A fake Warp 10 with the edge cases plus a little generated data, over three days.
fn loaded_fake() -> FakeWarp10 {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let generated = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "2",
        "--days",
        "2",
        "--interval",
        "300s",
        "--seed",
        "3",
        "--start",
        START,
    ]);
    // Copy the generated points into `fake` through the text of a fetch.
    let body = ureq::get(&format!("{}/api/v0/fetch", generated.url))
        .header("X-Warp10-Token", READ_TOKEN)
        .query("selector", "~os.*{}")
        .query("start", RANGE.0.to_string())
        .query("end", RANGE.1.to_string())
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    fake.update(&body);
    fake
}

struct Run<'a> {
    t: &'a TestDir,
    work: &'a str,
    url: &'a str,
    extra: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(t: &'a TestDir, work: &'a str, url: &'a str, extra: &[&str]) -> Run<'a> {
        Run {
            t,
            work,
            url,
            extra: extra.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn all(&self, more: &[&str], failpoint: Option<&str>) -> Output {
        let read = self.t.secret_file("read.token", READ_TOKEN);
        let write = self.t.secret_file("write.token", WRITE_TOKEN);
        let mut c = cmd(&self.t.path(self.work));
        c.args([
            "all",
            "--warp10-url",
            self.url,
            "--selector",
            SELECTOR,
            "--start",
            START,
            "--end",
            END,
        ])
        .args(["--segment-length", "1d", "--min-age", "1h", "--dest"])
        .arg(self.t.path("dest"))
        .arg("--read-token-file")
        .arg(read)
        .arg("--write-token-file")
        .arg(write)
        .args(["--purge", "--settle-timeout", "5", "--retries", "2"])
        .args(&self.extra)
        .args(more);
        if !self.extra.iter().any(|a| a == "--lock-settle-ms") {
            c.args(["--lock-settle-ms", "50"]);
        }
        if let Some(fp) = failpoint {
            c.env("WARP_OFFLOAD_FAILPOINT", fp);
        }
        run(&mut c, "")
    }
}

/// The ids of the test range's segments on `url` (the source is part of a segment id).
fn planned_ids(url: &str) -> Vec<String> {
    let t = TestDir::new();
    support::plan(&t, url, SELECTOR, (START, END, "1d"))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Per segment start: (points, digest) of a fresh fetch of `url` (segment ids differ from one
/// Warp 10 to another).
fn fetched(url: &str) -> BTreeMap<String, (u64, String)> {
    let t = TestDir::new();
    let fetched = support::fetch(&t, &support::plan(&t, url, SELECTOR, (START, END, "1d")));
    fetched
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|r| {
            let f = &r["fetch"];
            (
                r["start"].as_str().unwrap().to_string(),
                (f["points"].as_u64().unwrap(), f["digest"].as_str().unwrap().into()),
            )
        })
        .collect()
}

/// Restores every archived segment of `t/dest` into an empty fake and returns what it holds.
fn restored(t: &TestDir, ids: &[String], extra: &[String]) -> BTreeMap<String, (u64, String)> {
    let target = FakeWarp10::start(&[]);
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let mut c = cmd(&t.path("restore-work"));
    c.args(["restore", "--from"])
        .arg(t.path("dest"))
        .args(["--to-warp10", &target.url, "--read-token-file"])
        .arg(read)
        .arg("--write-token-file")
        .arg(write)
        .args(
            extra
                .iter()
                .filter(|a| a.starts_with("--key-file") || a.contains("key")),
        );
    for id in ids {
        c.args(["--segment", id]);
    }
    let o = run(&mut c, "");
    assert!(o.status.success(), "restore: {}", stderr(&o));
    fetched(&target.url)
}

fn purged(o: &Output) -> usize {
    records(o)
        .iter()
        .filter(|r| r["purge"]["state"] == "purged" && r.get("error").is_none())
        .count()
}

fn upload_lines(o: &Output) -> usize {
    stderr(o)
        .lines()
        .filter(|l| l.contains(" upload ") && l.contains(": uploaded to"))
        .count()
}

fn fetch_lines(o: &Output) -> usize {
    stderr(o)
        .lines()
        .filter(|l| l.contains(" fetch ") && l.contains(": fetched"))
        .count()
}

/// The round trip of the issue: edge-case and generated data → `all --purge` → the range is empty
/// → `restore` into an empty Warp 10 → a fetch gives the original digests; for both codecs, with
/// and without encryption.
#[test]
fn purges_the_range_and_the_archives_restore_it_exactly() {
    let key = TestDir::new();
    let key_file = key.secret_file("key", &"ab".repeat(32));
    let key = key_file.display().to_string();
    for extra in [
        vec![],
        vec!["--key-file".to_string(), key.clone()],
        vec!["--codec".to_string(), "gts.zst".into()],
        vec![
            "--codec".to_string(),
            "gts.zst".into(),
            "--key-file".into(),
            key.clone(),
        ],
    ] {
        let fake = loaded_fake();
        let before = fetched(&fake.url);
        let outside = (
            fake.count(SELECTOR, 0, RANGE.0 - 1),
            fake.count(SELECTOR, RANGE.1 + 1, i64::MAX),
        );
        let t = TestDir::new();
        let flags: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = Run::new(&t, "work", &fake.url, &flags);
        let o = r.all(&[], None);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        assert_eq!(purged(&o), 2);
        assert!(
            stderr(&o).contains("2 segments: 2 ok"),
            "summary on stderr: {}",
            stderr(&o)
        );
        assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0, "the range is empty");
        let after = (
            fake.count(SELECTOR, 0, RANGE.0 - 1),
            fake.count(SELECTOR, RANGE.1 + 1, i64::MAX),
        );
        assert_eq!(after, outside, "nothing outside the range was touched");

        let again = r.all(&[], None);
        assert!(again.status.success());
        assert_eq!(fetch_lines(&again), 0, "a re-run redoes nothing");
        assert_eq!(purged(&again), 2);

        let ids = planned_ids(&fake.url);
        assert_eq!(
            restored(&t, &ids, &extra),
            before,
            "{extra:?}: restore gives back every point"
        );
    }
}

#[test]
fn a_run_killed_at_any_stage_converges_when_run_again() {
    for fp in [
        "fetch-mid-stream",
        "all-after-fetch",
        "upload-after-data",
        "all-after-upload",
        "all-after-verify",
        "purge-before-delete",
        "purge-after-delete",
        "all-after-purge",
    ] {
        let fake = loaded_fake();
        let before = fetched(&fake.url);
        let t = TestDir::new();
        let r = Run::new(&t, "work", &fake.url, &[]);
        let killed = r.all(&["--jobs", "1"], Some(fp));
        assert!(!killed.status.success(), "{fp}: the failpoint aborts the run");
        let o = r.all(&[], None);
        assert!(o.status.success(), "{fp}: {}", stderr(&o));
        assert_eq!(purged(&o), 2, "{fp}");
        assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0, "{fp}");
        let ids = planned_ids(&fake.url);
        assert_eq!(
            restored(&t, &ids, &[]),
            before,
            "{fp}: every point is in a verified archive"
        );
    }
}

#[test]
fn a_delete_cut_mid_response_is_completed_by_the_next_run() {
    let fake = loaded_fake();
    let before = fetched(&fake.url);
    let t = TestDir::new();
    let r = Run::new(&t, "work", &fake.url, &[]);
    fake.set_faults(r#"{"delete_abort_after": 1}"#);
    let o = r.all(&[], None);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let recs = records(&o);
    assert!(recs.iter().all(|r| r["purge"]["state"] == "purge-unknown"), "{recs:?}");
    fake.set_faults("{}");
    let o = r.all(&[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(purged(&o), 2);
    assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0);
    let ids = planned_ids(&fake.url);
    assert_eq!(restored(&t, &ids, &[]), before);
}

#[test]
fn concurrent_runs_process_each_segment_once() {
    let fake = loaded_fake();
    let before = fetched(&fake.url);
    let t = TestDir::new();
    let a = Run::new(&t, "work-a", &fake.url, &["--lock-settle-ms", "300"]);
    let b = Run::new(&t, "work-b", &fake.url, &["--lock-settle-ms", "300"]);
    let (oa, ob) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.all(&[], None));
        let hb = s.spawn(|| b.all(&[], None));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    // Both runs may read a segment while their locks settle; only one archives and purges it.
    assert_eq!(
        upload_lines(&oa) + upload_lines(&ob),
        2,
        "each segment uploaded once:\n{}\n{}",
        stderr(&oa),
        stderr(&ob)
    );
    let deleted = |o: &Output| {
        records(o)
            .iter()
            .filter(|r| r["purge"]["points"].as_u64().unwrap_or(0) > 0)
            .count()
    };
    assert_eq!(deleted(&oa) + deleted(&ob), 2, "each segment deleted from Warp 10 once");
    // A run that met a locked segment reports it; running it again finds the work done.
    for (o, run) in [(&oa, &a), (&ob, &b)] {
        if !o.status.success() {
            assert!(stderr(o).contains("locked by"), "{}", stderr(o));
            let again = run.all(&[], None);
            assert!(again.status.success(), "{}", stderr(&again));
            assert_eq!(
                fetch_lines(&again) + upload_lines(&again),
                0,
                "the other run's committed work is adopted, not redone"
            );
        }
    }
    assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0);
    let ids = planned_ids(&fake.url);
    assert_eq!(restored(&t, &ids, &[]), before);
}

#[test]
fn segment_ids_select_what_runs() {
    let fake = loaded_fake();
    let first = planned_ids(&fake.url)[0].clone();
    let t = TestDir::new();
    let r = Run::new(&t, "work", &fake.url, &[]);
    let o = r.all(&["--segment", &first], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let recs: Vec<Value> = records(&o);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["id"], first.as_str());
    let o = r.all(&["--segment", "20200101T000000Z-1d-000000000000"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not one of the segments"));
}

/// The "wall N seconds" of the summary `all` logs (indicatif's `HumanDuration`: whole seconds).
fn reported_wall_s(o: &Output) -> f64 {
    let err = stderr(o);
    let at = err.find("wall ").unwrap_or_else(|| panic!("no wall time in: {err}")) + 5;
    let word: String = err[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
    assert!(
        err[at + word.len()..].starts_with(" second"),
        "wall time under a minute expected: {err}"
    );
    word.parse().unwrap()
}

/// With the first run slowed down by 400 ms per request, a resumed run that has nothing left
/// to do reports its own (short) wall time, not the span of the saved records.
#[test]
fn a_resumed_run_reports_its_own_wall_time() {
    let t = TestDir::new();
    let fake = loaded_fake();
    let runner = Run::new(&t, "work", &fake.url, &[]);
    fake.set_faults(r#"{"latency_ms": 400}"#);
    let first = runner.all(&[], None);
    fake.set_faults("{}");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let first_wall = reported_wall_s(&first);
    assert!(first_wall >= 2.0, "the slow run took {first_wall} s");

    let started = std::time::Instant::now();
    let again = runner.all(&[], None);
    let took = started.elapsed().as_secs_f64();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let wall = reported_wall_s(&again);
    assert!(
        took < first_wall,
        "the resumed run took {took} s, no faster than the first"
    );
    // Reported in whole seconds (at least 2 unless 0): allow the rounding.
    assert!(
        wall <= (took + 0.5).max(2.0),
        "reported wall {wall} s for a run of {took} s"
    );
}

/// A segment's lock is claimed while it waits for a worker, so that the lock's settle time
/// passes meanwhile: with one worker and two segments, a run waits out about one settle time,
/// not two in a row.
#[test]
fn queued_segments_claim_their_locks_while_they_wait() {
    let elapsed = |settle_ms: &str| {
        // The run purges what it archived: each run gets its own Warp 10.
        let fake = loaded_fake();
        let t = TestDir::new();
        let run = Run::new(&t, "work", &fake.url, &["--jobs", "1", "--lock-settle-ms", settle_ms]);
        let started = std::time::Instant::now();
        let o = run.all(&[], None);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(upload_lines(&o), 2, "{}", stderr(&o));
        started.elapsed().as_secs_f64()
    };
    let work = elapsed("1");
    let settle = 2.0;
    let with_settle = elapsed("2000");
    assert!(
        with_settle - work < 1.5 * settle,
        "{with_settle:.2} s with a {settle} s settle time, {work:.2} s without: the waits did not overlap"
    );
}

/// `--jobs` bounds the segments that fetch (and load Warp 10) at once, though as many more may
/// be uploading or read back meanwhile: with `--jobs 1` and a Warp 10 slow to answer, no two
/// fetch requests overlap.
#[test]
fn at_most_jobs_segments_fetch_at_once() {
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "1",
        "--series-per-host",
        "2",
        "--start",
        START,
        "--faults",
        r#"{"latency_ms":300}"#,
    ]);
    let t = TestDir::new();
    let read = t.secret_file("read.token", READ_TOKEN);
    let mut c = cmd(&t.path("work"));
    c.args([
        "-v",
        "--log-format",
        "json",
        "all",
        "--warp10-url",
        &fake.url,
        "--selector",
        "~os.*{}",
    ])
    .args([
        "--start",
        START,
        "--end",
        "2024-01-16T00:00:00Z",
        "--segment-length",
        "6h",
        "--jobs",
        "1",
    ])
    .args(["--lock-settle-ms", "1", "--dest"])
    .arg(t.path("dest"))
    .arg("--read-token-file")
    .arg(read);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(records(&o).len(), 4);
    let mut fetches: Vec<(f64, f64)> = stderr(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("GET ") && m.contains("/api/v0/fetch"))
        })
        .map(|e| {
            let end = e["ts"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond() as f64;
            (end - e["ms"].as_f64().unwrap(), end)
        })
        .collect();
    fetches.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(fetches.len(), 4, "{}", stderr(&o));
    for pair in fetches.windows(2) {
        // (A millisecond of rounding between the duration and the time stamps.)
        assert!(pair[1].0 >= pair[0].1 - 2.0, "fetches overlap: {fetches:?}");
    }
}
