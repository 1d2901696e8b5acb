//! What a run says while it runs and how it ends: the levels of -q/-v/-vv, status lines when
//! stderr is not a terminal, structured JSON logs, error and retry messages, and Ctrl-C
//! (records of finished segments written, locks released, exit 130, a re-run completes).

use crate::support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use support::{FakeWarp10, READ_TOKEN, TestDir, WRITE_TOKEN, cmd, records, run, small_fake, stderr};

/// `all` of `fake`'s 2024-01-15 in 6 h segments (four of them) into `t/dest`.
fn all(t: &TestDir, fake: &FakeWarp10, global: &[&str]) -> Command {
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let mut c = cmd(&t.path("work"));
    c.args(global)
        .args(["all", "--warp10-url", &fake.url, "--selector", "~.*{}"])
        .args(["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-16T00:00:00Z"])
        .args(["--segment-length", "6h", "--min-age", "1h", "--jobs", "1"])
        .args(["--lock-settle-ms", "20", "--dest"])
        .arg(t.path("dest"))
        .arg("--read-token-file")
        .arg(read)
        .arg("--write-token-file")
        .arg(write);
    c
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn each_verbosity_level_adds_its_own_lines() {
    let fake = small_fake(2);
    let run_at = |flag: &[&str]| {
        let t = TestDir::new();
        let o = run(&mut all(&t, &fake, flag), "");
        assert!(o.status.success(), "{flag:?}: {}", stderr(&o));
        stderr(&o)
    };
    let quiet = run_at(&["-q"]);
    assert_eq!(quiet, "", "-q prints errors only");

    let default = run_at(&[]);
    assert!(default.contains(": fetched points="), "{default}");
    assert!(!default.contains(" GET "), "requests only from -v: {default}");

    let v = run_at(&["-v"]);
    let requests = lines_with(&v, "warp-offload warp10 ");
    assert_eq!(requests.len(), 4, "one fetch request per segment: {v}");
    for l in &requests {
        assert!(l.contains(": GET http://127.0.0.1:"), "method and URL: {l}");
        assert!(l.contains("/api/v0/fetch?selector="), "{l}");
        assert!(l.contains(" -> 200 bytes="), "status and bytes: {l}");
        assert!(l.contains(" ms="), "time: {l}");
        assert!(!l.contains(READ_TOKEN), "{l}");
    }
    assert!(!v.contains(": starting"), "debug lines only from -vv: {v}");

    let vv = run_at(&["-vv"]);
    assert_eq!(lines_with(&vv, "fetch: starting").len(), 4, "{vv}");
    assert!(vv.contains("taking the segment lock"), "{vv}");
    assert!(!vv.contains(READ_TOKEN) && !vv.contains(WRITE_TOKEN), "{vv}");
}

#[test]
fn progress_always_prints_status_lines_when_stderr_is_not_a_terminal() {
    let fake = small_fake(2);
    fake.set_faults(r#"{"latency_ms": 600}"#);
    let t = TestDir::new();
    let mut c = all(&t, &fake, &["--progress", "always", "--stats-interval", "1s"]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let status = lines_with(&err, "warp-offload all: status: ");
    // Four segments at 600 ms each: a line every second, and the last one at the end.
    assert!(status.len() >= 3, "{err}");
    // With --jobs 1, one segment fetches while the one before it uploads: up to 2 in flight.
    assert!(
        ["1 in flight; ", "2 in flight; "]
            .iter()
            .any(|n| status[0].contains(&format!("/4 segments done, {n}"))),
        "{}",
        status[0]
    );
    assert!(
        status.iter().all(|l| l.contains(" points, ") && l.contains("/s), ")),
        "{err}"
    );
    let last = status.last().unwrap();
    assert!(last.contains("4/4 segments done, 0 in flight; 576 points"), "{last}");

    // `auto` stays silent where there is no terminal.
    let t = TestDir::new();
    let mut c = all(&t, &fake, &["--progress", "auto", "--stats-interval", "1s"]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("status:"), "{}", stderr(&o));
}

#[test]
fn json_logs_carry_every_number_as_a_field() {
    let fake = small_fake(2);
    fake.set_faults(r#"{"latency_ms": 300, "fail_next": {"fetch": 1}}"#);
    let t = TestDir::new();
    let mut c = all(
        &t,
        &fake,
        &[
            "--log-format",
            "json",
            "-v",
            "--progress",
            "always",
            "--stats-interval",
            "1s",
        ],
    );
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let points: u64 = records(&o).iter().map(|r| r["fetch"]["points"].as_u64().unwrap()).sum();

    let summary = lines
        .iter()
        .find(|l| l["stage"] == "all" && l["segments_total"].is_u64() && l["segments_ok"].is_u64())
        .expect("a summary line with fields");
    assert_eq!(summary["segments_ok"], 4);
    assert_eq!(summary["segments_failed"], 0);
    assert_eq!(summary["points"], points);
    assert!(summary["bytes_in"].as_u64().unwrap() > 0 && summary["bytes_out"].as_u64().unwrap() > 0);
    assert!(summary["duration_ms"].as_u64().unwrap() >= 1200, "{summary}");

    let last_status = lines
        .iter()
        .rfind(|l| l["msg"].as_str().is_some_and(|m| m.starts_with("status: ")))
        .expect("status lines");
    assert_eq!(last_status["segments_done"], 4);
    assert_eq!(last_status["segments_total"], 4);
    assert_eq!(last_status["points"], points);

    let request = lines.iter().find(|l| l["level"] == "detail").expect("-v request lines");
    assert!(
        request["bytes"].as_u64().unwrap() > 0 && request["ms"].is_u64(),
        "{request}"
    );
    assert!(request["segment"].is_string(), "{request}");

    let retry = lines.iter().find(|l| l["level"] == "warn").expect("the retry warning");
    assert_eq!(retry["stage"], "fetch");
    assert!(
        retry["segment"].as_str().unwrap().starts_with("20240115T000000Z-6h-"),
        "{retry}"
    );
    assert!(
        retry["msg"]
            .as_str()
            .unwrap()
            .contains("/api/v0/fetch on http://127.0.0.1:"),
        "{retry}"
    );
    assert_eq!(
        (retry["attempt"].as_u64(), retry["attempts"].as_u64()),
        (Some(1), Some(4))
    );
    assert!(retry["wait_ms"].is_u64());
}

#[test]
fn errors_and_retries_say_what_and_where() {
    let t = TestDir::new();
    let o = run(cmd(&t.path("work")).arg("compress"), "not a record\n");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("warp-offload: error: "), "{err}");
    assert!(!err.contains("main"), "{err}");

    let fake = small_fake(1);
    fake.set_faults(r#"{"fail_next": {"fetch": 1}}"#);
    let o = run(&mut all(&t, &fake, &[]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let retry = lines_with(&err, "attempt 1/4 failed");
    assert_eq!(retry.len(), 1, "{err}");
    assert!(
        retry[0].starts_with("warp-offload fetch warn 20240115T000000Z-6h-"),
        "the segment: {}",
        retry[0]
    );
    assert!(
        retry[0].contains("/api/v0/fetch on http://127.0.0.1:"),
        "the request: {}",
        retry[0]
    );
}

/// Starts `c` with piped stdout and stderr; returns the child once its first record is out.
fn spawn_until_first_record(
    c: &mut Command,
) -> (std::process::Child, Vec<String>, BufReader<std::process::ChildStdout>) {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.ends_with('\n'), "a first record: {first:?}");
    (child, vec![first], out)
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn finish(
    mut child: std::process::Child,
    mut lines: Vec<String>,
    mut out: BufReader<std::process::ChildStdout>,
) -> (i32, Vec<String>, String) {
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    lines.extend(rest.lines().map(|l| format!("{l}\n")));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let code = child
        .wait()
        .unwrap()
        .code()
        .expect("an exit code, not a death by signal");
    (code, lines, err)
}

fn locks_in(dest: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dest.join("locks"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn ctrl_c_writes_the_finished_records_releases_the_locks_and_says_how_to_resume() {
    let fake = small_fake(2);
    fake.set_faults(r#"{"latency_ms": 700}"#);
    let t = TestDir::new();
    let (child, first, out) = spawn_until_first_record(&mut all(&t, &fake, &[]));
    // The second segment is in its fetch: it finishes it, and stops before its upload.
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(&child, "-INT");
    let (code, lines, err) = finish(child, first, out);
    assert_eq!(code, 130, "{err}");
    assert!(err.contains("interrupted: starting no new segment"), "{err}");
    assert!(
        err.contains("warp-offload: error: interrupted: all stopped with 1 segment(s) done (their records are on stdout), 1 stopped between two stages, 2 not started; no lock of ours is left. To resume, run the same command again: each segment resumes from the work directory where it stopped"),
        "{err}"
    );
    assert!(
        err.contains(": stopped before upload (interrupted); lock released"),
        "{err}"
    );
    assert_eq!(lines.len(), 1, "the finished segment's record only: {lines:?}");
    let rec: Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(rec["verify"].is_object() && rec["error"].is_null(), "{rec}");
    assert_eq!(
        locks_in(&t.path("dest")),
        Vec::<std::path::PathBuf>::new(),
        "locks released"
    );

    fake.set_faults("{}");
    let o = run(&mut all(&t, &fake, &[]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("lock"), "{}", stderr(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 4);
    assert!(recs.iter().all(|r| r["verify"].is_object() && r["error"].is_null()));
    assert!(stderr(&o).contains("4 segments: 4 ok, 0 failed"), "{}", stderr(&o));
}

#[test]
fn a_second_signal_stops_at_once_and_says_what_was_in_flight() {
    let fake = small_fake(2);
    fake.set_faults(r#"{"latency_ms": 1500}"#);
    let t = TestDir::new();
    let (child, first, out) = spawn_until_first_record(&mut all(&t, &fake, &[]));
    std::thread::sleep(std::time::Duration::from_millis(500));
    signal(&child, "-TERM");
    std::thread::sleep(std::time::Duration::from_millis(200));
    signal(&child, "-INT");
    let (code, lines, err) = finish(child, first, out);
    assert_eq!(code, 130, "{err}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        err.contains("warp-offload: error: interrupted at once, during: fetch of 20240115T060000Z-6h-"),
        "{err}"
    );
    assert!(err.contains("the next run on this host takes them over"), "{err}");
    // The lock left by the dead process is taken over by the re-run.
    let o = run(&mut all(&t, &fake, &[]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(records(&o).len(), 4);
}

#[test]
fn ctrl_c_outside_a_run_over_segments_ends_the_process_with_130() {
    let t = TestDir::new();
    let port = t.path("port");
    let mut child = cmd(&t.path("work"))
        .args(["fake-warp10", "--listen", "127.0.0.1:0", "--port-file"])
        .arg(&port)
        .env("WARP10_READ_TOKEN", READ_TOKEN)
        .env("WARP10_WRITE_TOKEN", WRITE_TOKEN)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !port.exists() {
        assert!(started.elapsed().as_secs() < 20, "fake-warp10 did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    signal(&child, "-INT");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{err}");
    assert!(err.ends_with("warp-offload: error: interrupted\n"), "{err}");
}

#[test]
fn ctrl_c_in_a_stage_lets_the_segment_in_flight_finish_and_writes_its_record() {
    let fake = small_fake(2);
    let t = TestDir::new();
    let plan = support::plan(
        &t,
        &fake.url,
        "~.*{}",
        ("2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z", "6h"),
    );
    fake.set_faults(r#"{"latency_ms": 700}"#);
    let mut c = cmd(&t.path("work"));
    c.args(["fetch", "--jobs", "1", "--read-token-file"])
        .arg(t.secret_file("read.token", READ_TOKEN))
        .env("WARP10_URL", &fake.url);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), plan.as_bytes()).unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // The second segment is in its fetch: it finishes it, and its record is written.
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(&child, "-INT");
    let (code, lines, err) = finish(child, vec![first], out);
    assert_eq!(code, 130, "{err}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    for l in &lines {
        let r: Value = serde_json::from_str(l).unwrap();
        assert!(
            r["fetch"]["points"].as_u64().unwrap() > 0 && r["error"].is_null(),
            "{r}"
        );
    }
    assert!(
        err.contains("warp-offload: error: interrupted: fetch stopped with 2 segment(s) done (their records are on stdout), the rest not started; no lock of ours is left. To resume, run the same command again on the same input"),
        "{err}"
    );
}
