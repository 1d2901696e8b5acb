//! `notify`: records pass through unchanged, the exit code comes from the records, payloads reach
//! a local webhook receiver, a dead or slow webhook costs only a warning and a bounded wait, and
//! the webhook URL never shows up in the output.

use crate::support;

use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::TestDir;

/// Appears in every webhook URL path: it must never be printed.
const CANARY: &str = "CANARY-7f3e9b";

/// A local webhook receiver: records every request (path, JSON body) and answers with `status`
/// and `body` after `delay`.
struct Receiver {
    server: Arc<tiny_http::Server>,
    port: u16,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    fn start(status: u16, body: &'static str, delay: Duration) -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind receiver"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (srv, log) = (Arc::clone(&server), Arc::clone(&got));
        std::thread::spawn(move || {
            for mut req in srv.incoming_requests() {
                let mut text = String::new();
                req.as_reader().read_to_string(&mut text).unwrap();
                let value = serde_json::from_str(&text).expect("webhook body is JSON");
                log.lock().unwrap().push((req.url().to_string(), value));
                std::thread::sleep(delay);
                let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(status));
            }
        });
        Receiver { server, port, got }
    }

    fn ok() -> Receiver {
        Receiver::start(200, "ok", Duration::ZERO)
    }

    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}/{CANARY}", self.port)
    }

    fn got(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// `warp-offload` with no webhook inherited from the developer's environment.
fn notify(t: &TestDir) -> Command {
    let mut c = support::cmd(t.dir.path());
    c.env_remove("SLACK_WEBHOOK_URL").env_remove("WARP_OFFLOAD_WEBHOOK_URL");
    c
}

/// Valid records from `plan`: one per day from 2026-10-01, pointing at a Warp 10 on `warp10`.
fn plan(t: &TestDir, days: u32, warp10: &str) -> Vec<Value> {
    let end = format!("2026-10-{:02}T00:00:00Z", 1 + days);
    let o = support::cmd(t.dir.path())
        .args(["plan", "--warp10-url", warp10, "--selector", "os.cpu{}"])
        .args(["--start", "2026-10-01T00:00:00Z", "--end", &end, "--segment", "1d"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", support::stderr(&o));
    support::records(&o)
}

/// Adds the sections of a segment that went through fetch and compress.
fn archived(mut rec: Value, points: u64, bytes_in: u64, bytes_out: u64) -> Value {
    let id = rec["id"].as_str().unwrap().to_string();
    rec["fetch"] = json!({
        "points": points, "series": 2, "bytes": bytes_in,
        "digest": format!("x3s1:{}", "0".repeat(32)), "spool": format!("spool/{id}.gts"),
        "at": "2026-11-01T00:00:10Z", "duration_ms": 2500,
    });
    rec["archive"] = json!({
        "codec": "gts.zst", "path": format!("archive/{id}.gts.zst"), "size": bytes_out, "blake3": "ab".repeat(32),
        "bytes_per_point": bytes_out as f64 / points as f64, "at": "2026-11-01T00:00:12Z",
    });
    rec
}

fn failed(mut rec: Value, stage: &str, message: &str, mismatch: bool) -> Value {
    rec["error"] = json!({"stage": stage, "message": message, "retryable": true, "mismatch": mismatch});
    rec
}

fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// Three archived segments, the second failed at upload.
fn one_failed(t: &TestDir) -> Vec<Value> {
    let mut recs: Vec<Value> = plan(t, 3, "http://127.0.0.1:8080")
        .into_iter()
        .map(|r| archived(r, 1000, 7000, 1700))
        .collect();
    recs[1] = failed(recs[1].clone(), "upload", "PUT s3://b/k answered 503 SlowDown", false);
    recs
}

fn all_ok(t: &TestDir) -> Vec<Value> {
    plan(t, 2, "http://127.0.0.1:8080")
        .into_iter()
        .map(|r| archived(r, 1000, 7000, 1700))
        .collect()
}

fn run(c: &mut Command, records: &[Value]) -> Output {
    support::run(c, &ndjson(records))
}

/// stdout carries exactly the input records (as JSON values: key order may differ).
fn assert_passed_through(o: &Output, records: &[Value]) {
    assert_eq!(
        support::records(o),
        records,
        "records changed; stderr:\n{}",
        support::stderr(o)
    );
}

fn assert_no_canary(o: &Output) {
    let (out, err) = (support::stdout(o), support::stderr(o));
    assert!(
        !out.contains(CANARY) && !err.contains(CANARY),
        "webhook URL leaked:\n{out}\n{err}"
    );
}

fn url_file(t: &TestDir, name: &str, url: &str) -> PathBuf {
    t.secret_file(name, url)
}

#[test]
fn posts_to_slack_only_on_failure_by_default() {
    let t = TestDir::new();
    let rx = Receiver::ok();
    let hook = url_file(&t, "slack", &rx.url("slack"));

    let ok = all_ok(&t);
    let o = run(notify(&t).arg("notify").arg("--slack-webhook-file").arg(&hook), &ok);
    assert_eq!(o.status.code(), Some(0), "{}", support::stderr(&o));
    assert_passed_through(&o, &ok);
    assert!(rx.got().is_empty(), "posted although nothing failed");

    let recs = one_failed(&t);
    let o = run(notify(&t).arg("notify").arg("--slack-webhook-file").arg(&hook), &recs);
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
    assert_no_canary(&o);
    let got = rx.got();
    assert_eq!(got.len(), 1);
    let (path, p) = &got[0];
    assert_eq!(path, &format!("/slack/{CANARY}"));
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .starts_with("warp-offload: 1 of 3 segments failed"),
        "{p}"
    );
    let blocks = p["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[1]["type"], "section");
    let counts = blocks[1]["fields"][0]["text"].as_str().unwrap();
    assert_eq!(counts, "*Segments*\n2 ok, 1 failed, 0 skipped");
    let failure = blocks[2]["text"]["text"].as_str().unwrap();
    let id = recs[1]["id"].as_str().unwrap();
    assert!(
        failure.contains(id) && failure.contains("failed at *upload*"),
        "{failure}"
    );
    assert!(failure.contains("| warp-offload upload"), "{failure}");
    assert!(!p.to_string().contains(CANARY));
    let err = support::stderr(&o);
    assert!(
        err.contains("3 segments: 2 ok, 1 failed, 0 skipped; 3000 points"),
        "{err}"
    );
    assert!(
        err.contains("posted the summary to the Slack webhook (http://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn on_always_posts_the_json_summary_and_slack() {
    let t = TestDir::new();
    let rx = Receiver::ok();
    let slack = url_file(&t, "slack", &rx.url("slack"));
    let generic = url_file(&t, "generic", &rx.url("generic"));
    let mut recs = all_ok(&t);
    // A planned-only record among archived ones was skipped by some stage.
    recs.push(plan(&t, 3, "http://127.0.0.1:8080").pop().unwrap());
    let o = run(
        notify(&t)
            .args(["notify", "--on", "always", "--slack-webhook-file"])
            .arg(&slack)
            .arg("--webhook-file")
            .arg(&generic),
        &recs,
    );
    assert_eq!(o.status.code(), Some(0), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
    let got = rx.got();
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, [format!("/slack/{CANARY}"), format!("/generic/{CANARY}")]);
    assert_eq!(
        got[0].1["blocks"][0]["text"]["text"],
        "warp-offload: 2 segments ok up to compress, 1 skipped"
    );
    let s = &got[1].1;
    assert_eq!(s["status"], "ok");
    assert_eq!(s["exit_code"], 0);
    assert_eq!(
        s["segments"],
        json!({"total": 3, "ok": 2, "failed": 0, "mismatched": 0, "skipped": 1})
    );
    assert_eq!(s["last_stage"], "compress");
    assert_eq!(
        (s["points"].as_u64(), s["bytes_in"].as_u64(), s["bytes_out"].as_u64()),
        (Some(2000), Some(14_000), Some(3400))
    );
    assert!((s["ratio"].as_f64().unwrap() - 7000.0 / 1700.0).abs() < 1e-9);
    assert_eq!(s["durations_ms"], json!({"fetch": 5000}));
    assert_eq!(s["started"], "2026-11-01T00:00:07.5Z");
    assert_eq!(s["finished"], "2026-11-01T00:00:12Z");
    assert_eq!(s["wall_ms"], 4500);
    assert_eq!(
        s["range"],
        json!({"start": "2026-10-01T00:00:00Z", "end": "2026-10-04T00:00:00Z"})
    );
    assert_eq!(s["failures"], json!([]));
}

#[test]
fn exit_code_reflects_mismatch() {
    let t = TestDir::new();
    let mut recs = all_ok(&t);
    recs[0] = failed(recs[0].clone(), "verify", "integrity mismatch: digest differs", true);
    let o = run(notify(&t).args(["notify", "--dry-run"]), &recs);
    assert_eq!(o.status.code(), Some(4), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
}

/// Runs notify against a webhook that fails, at `-vv`, and checks what must hold whatever the
/// failure: records unchanged, exit code from the records, a warning, no URL in the output.
fn check_failing_webhook(url: &str, timeout: &str, want_warning: &str, max: Duration) {
    let t = TestDir::new();
    let hook = url_file(&t, "slack", url);
    let recs = one_failed(&t);
    let started = Instant::now();
    let o = run(
        notify(&t)
            .args(["-vv", "notify", "--timeout", timeout, "--slack-webhook-file"])
            .arg(&hook),
        &recs,
    );
    let elapsed = started.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
    assert_no_canary(&o);
    let err = support::stderr(&o);
    assert!(
        err.contains("could not post the summary to the Slack webhook (http") && err.contains(want_warning),
        "{err}"
    );
    assert!(elapsed < max, "took {elapsed:?}");
}

#[test]
fn dead_webhook_is_a_warning() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    check_failing_webhook(
        &format!("http://127.0.0.1:{port}/slack/{CANARY}"),
        "10",
        "connection refused",
        Duration::from_secs(6),
    );
}

#[test]
fn slow_webhook_is_abandoned_after_the_timeout() {
    let rx = Receiver::start(200, "ok", Duration::from_secs(5));
    // Two attempts of 1 s and a 1 s pause: well under 10 s even on a loaded machine.
    check_failing_webhook(&rx.url("slack"), "1", "timed out", Duration::from_secs(8));
    assert!(!rx.got().is_empty());
}

#[test]
fn server_errors_are_retried_once_client_errors_not() {
    let rx = Receiver::start(500, "", Duration::ZERO);
    check_failing_webhook(&rx.url("slack"), "10", "answered HTTP 500", Duration::from_secs(8));
    assert_eq!(rx.got().len(), 2);

    let rx = Receiver::start(404, "no_service", Duration::ZERO);
    check_failing_webhook(
        &rx.url("slack"),
        "10",
        "answered HTTP 404 no_service",
        Duration::from_secs(8),
    );
    assert_eq!(rx.got().len(), 1);
}

#[test]
fn bad_or_insecure_urls_are_refused_without_quoting_them() {
    let t = TestDir::new();
    let recs = one_failed(&t);
    for (url, want) in [
        (format!("http://hooks.example.net/{CANARY}"), "refusing plain http://"),
        (format!("ftp://hooks.example.net/{CANARY}"), "must start with https://"),
        (format!("no url {CANARY}"), "not a valid URL"),
    ] {
        // Refused before any record is read, like any stage's bad configuration.
        let o = support::run(notify(&t).args(["-vv", "notify"]).env("SLACK_WEBHOOK_URL", &url), "");
        assert_eq!(o.status.code(), Some(1), "{url}");
        let err = support::stderr(&o);
        assert!(err.contains(want) && err.contains("Slack webhook"), "{err}");
        assert_no_canary(&o);
    }
    // --allow-insecure-http lets a non-loopback http URL through the check; --dry-run posts nothing.
    let o = run(
        notify(&t)
            .args(["notify", "--dry-run", "--allow-insecure-http"])
            .env("WARP_OFFLOAD_WEBHOOK_URL", format!("http://hooks.example.net/{CANARY}")),
        &recs,
    );
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    assert!(support::stderr(&o).contains("would post to JSON webhook (http://hooks.example.net)"));
    assert_no_canary(&o);
}

/// An https webhook whose certificate no trusted CA signed: the post fails before any byte of the
/// payload travels. Returns the port of a TLS server that counts the application bytes it gets.
fn untrusted_tls_server(received: Arc<Mutex<usize>>) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/notify");
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(data.join("self-signed-test-only.crt"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(data.join("self-signed-test-only.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, sock.unwrap());
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = tls.read(&mut buf) {
                *received.lock().unwrap() += n;
            }
        }
    });
    port
}

#[test]
fn https_certificates_are_verified() {
    let received = Arc::new(Mutex::new(0));
    let port = untrusted_tls_server(Arc::clone(&received));
    check_failing_webhook(
        &format!("https://127.0.0.1:{port}/slack/{CANARY}"),
        "10",
        "TLS error: invalid peer certificate: UnknownIssuer",
        Duration::from_secs(8),
    );
    assert_eq!(
        *received.lock().unwrap(),
        0,
        "payload bytes reached an unverified server"
    );
}

#[test]
fn dry_run_prints_payloads_and_posts_nothing() {
    let t = TestDir::new();
    let rx = Receiver::ok();
    let recs = one_failed(&t);
    let o = run(
        notify(&t)
            .args(["notify", "--dry-run", "--log-format", "json"])
            .env("SLACK_WEBHOOK_URL", rx.url("slack")),
        &recs,
    );
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
    assert_no_canary(&o);
    assert!(rx.got().is_empty());
    let lines: Vec<Value> = support::stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON log line"))
        .collect();
    let shown: Vec<&Value> = lines.iter().filter(|l| l.get("payload").is_some()).collect();
    assert_eq!(shown.len(), 1, "{lines:?}");
    assert_eq!(
        shown[0]["msg"],
        format!("dry run: would post to Slack webhook (http://127.0.0.1:{})", rx.port)
    );
    assert_eq!(shown[0]["payload"]["blocks"][0]["type"], "header");

    // Without a webhook, both renderings are shown.
    let o = run(notify(&t).args(["notify", "--dry-run"]), &recs);
    let err = support::stderr(&o);
    assert!(
        err.contains("would post to a Slack webhook") && err.contains("would post to a JSON webhook"),
        "{err}"
    );
}

#[test]
fn summary_line_unless_quiet_and_warning_without_webhook() {
    let t = TestDir::new();
    let recs = all_ok(&t);
    let o = run(notify(&t).arg("notify"), &recs);
    let err = support::stderr(&o);
    assert!(
        err.contains("2 segments: 2 ok, 0 failed, 0 skipped; 2000 points; 13.67 KiB in, 3.32 KiB out (ratio 4.1)"),
        "{err}"
    );
    assert!(err.contains("no webhook configured"), "{err}");
    let o = run(notify(&t).args(["-q", "notify"]), &recs);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(support::stderr(&o), "");
    assert_passed_through(&o, &recs);
}

/// Records as the stages write them come out byte for byte.
#[test]
fn stage_output_passes_through_byte_for_byte() {
    let t = TestDir::new();
    let o = support::cmd(t.dir.path())
        .args([
            "plan",
            "--warp10-url",
            "http://127.0.0.1:8080",
            "--selector",
            "os.cpu{}",
        ])
        .args(["--start", "2026-10-01T00:00:00Z", "--end", "2026-10-08T00:00:00Z"])
        .output()
        .unwrap();
    let planned = support::stdout(&o);
    assert_eq!(planned.lines().count(), 7);
    let o = support::run(notify(&t).args(["-q", "notify"]), &planned);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(support::stdout(&o), planned);
}

#[test]
fn unreadable_input_is_notified_and_exits_1() {
    let t = TestDir::new();
    let rx = Receiver::ok();
    let recs = all_ok(&t);
    let input = format!("{}{{\"v\":1,\"id\":\"broken\"\n", ndjson(&recs));
    let o = support::run(
        notify(&t)
            .args(["notify", "--webhook-file"])
            .arg(url_file(&t, "hook", &rx.url("generic"))),
        &input,
    );
    assert_eq!(o.status.code(), Some(1), "{}", support::stderr(&o));
    assert_passed_through(&o, &recs);
    let got = rx.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["status"], "error");
    assert!(
        got[0].1["input_error"].as_str().unwrap().contains("manifest line 3"),
        "{}",
        got[0].1
    );
}

/// Records that carry no command line (an older version wrote them) get the bare stages: valid
/// shell, `jq` selects exactly the failed record, without its error, and feeds the stages in
/// order. The stages are a stub that logs its arguments and passes the records on; then the real
/// `fetch` takes the record.
#[test]
fn retry_command_selects_exactly_the_failed_record() {
    let jq = Command::new("jq").arg("--version").output();
    assert!(jq.is_ok_and(|o| o.status.success()), "this test needs jq on PATH");
    let t = TestDir::new();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut recs: Vec<Value> = plan(&t, 4, &format!("http://127.0.0.1:{dead}"));
    // 0.5 bytes per point: jq would print a whole float like 1.0 as 1.
    recs[3] = archived(recs[3].clone(), 4, 10, 2);
    recs[3]["upload"] = json!({"dest": "s3://archive/warp 10", "key": "k", "manifest_key": "m",
        "size": 1, "blake3": "ab", "at": "2026-11-01T00:00:20Z"});
    recs[3]["verify"] = json!({"scope": "remote", "points": 1, "series": 1,
        "digest": format!("x3s1:{}", "0".repeat(32)), "at": "2026-11-01T00:00:21Z"});
    recs[1] = failed(recs[1].clone(), "fetch", "the original error", false);
    recs[2] = failed(archived(recs[2].clone(), 4, 10, 2), "upload", "503", false);
    let dir = t.path("saved runs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("run 1.ndjson"), ndjson(&recs)).unwrap();

    // A relative --manifest-hint names a file of notify's working directory.
    let o = run(
        notify(&t)
            .current_dir(&dir)
            .args(["notify", "--dry-run", "--manifest-hint", "run 1.ndjson"]),
        &recs,
    );
    let payload = dry_run_payload(&support::stderr(&o), "JSON");
    let retry = |i: usize| payload["failures"][i]["retry"].as_str().unwrap().to_string();

    let stub_dir = t.path("stub");
    std::fs::create_dir(&stub_dir).unwrap();
    let stub = stub_dir.join("warp-offload");
    // Logs after reading all its input, so that the log shows the order records flow through.
    let script = "#!/bin/sh\ninput=$(cat)\necho \"$*\" >> \"$STAGE_LOG\"\nprintf '%s\\n' \"$input\"\n";
    std::fs::write(&stub, script).unwrap();
    make_executable(&stub);
    let path = format!("{}:{}", stub_dir.display(), std::env::var("PATH").unwrap());
    for (i, rec, stages) in [
        (
            0,
            &recs[1],
            vec![
                "fetch",
                "compress",
                "verify",
                "upload --dest s3://archive/warp 10",
                "verify",
            ],
        ),
        (1, &recs[2], vec!["upload --dest s3://archive/warp 10", "verify"]),
    ] {
        let log = t.path(&format!("stages-{i}"));
        let o = Command::new("sh")
            .arg("-c")
            .arg(retry(i))
            .current_dir(&dir)
            .env("PATH", &path)
            .env("STAGE_LOG", &log)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}: {}", retry(i), support::stderr(&o));
        let mut want = rec.clone();
        want.as_object_mut().unwrap().remove("error");
        assert_eq!(support::records(&o), [want], "{}", retry(i));
        let ran = std::fs::read_to_string(&log).unwrap();
        assert_eq!(ran.lines().collect::<Vec<_>>(), stages, "{}", retry(i));
    }

    // With the real binary: fetch accepts the selected record and works on it (and fails to
    // reach the dead Warp 10, which records a fresh error).
    let fetch_only = retry(0).split(" | warp-offload compress").next().unwrap().to_string();
    let o = Command::new("sh")
        .arg("-c")
        .arg(&fetch_only)
        .current_dir(&dir)
        .env("PATH", support::path_with_bin(&t))
        .env("WARP10_READ_TOKEN", "t")
        .env("WARP10_URL", format!("http://127.0.0.1:{dead}"))
        .env("WARP_OFFLOAD_WORK_DIR", t.path("work"))
        .output()
        .unwrap();
    let out = support::records(&o);
    assert_eq!(out.len(), 1, "{fetch_only}: {}", support::stderr(&o));
    assert_eq!(out[0]["id"], recs[1]["id"]);
    assert_eq!(out[0]["error"]["stage"], "fetch");
    let message = out[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("127.0.0.1:{dead}")), "{message}");
}

/// The payload a `--dry-run` printed for the webhook kind `kind` (text log format).
fn dry_run_payload(stderr: &str, kind: &str) -> Value {
    let line = stderr
        .lines()
        .find(|l| l.contains(&format!("would post to a {kind} webhook")))
        .unwrap_or_else(|| panic!("no {kind} payload in:\n{stderr}"));
    serde_json::from_str(line.split_once(" payload=").unwrap().1).unwrap()
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A failing run as a user's shell runs it: from a directory whose name has a space, with token
/// and key files relative to it, Warp 10's URL and the work directory from the environment.
struct Scene {
    t: TestDir,
    fake: support::FakeWarp10,
    dir: PathBuf,
    dest: PathBuf,
}

/// The file the failing runs write their records to.
const RECORDS: &str = "records 'x' 2024.ndjson";

impl Scene {
    fn new() -> Scene {
        let t = TestDir::new();
        let dir = t.path("run dir");
        std::fs::create_dir(&dir).unwrap();
        for (name, value) in [
            ("read.token", support::READ_TOKEN),
            ("write.token", support::WRITE_TOKEN),
            ("archive.key", support::KEY_HEX),
        ] {
            let file = t.secret_file(name, value);
            std::fs::rename(file, dir.join(name)).unwrap();
        }
        let fake = support::small_fake(2);
        // The first fetch request fails: with one attempt per request and one segment at a
        // time, the first of the two segments fails at fetch.
        fake.set_faults(r#"{"fail_next":{"fetch":1}}"#);
        let dest = t.path("dest");
        Scene { t, fake, dir, dest }
    }

    /// Runs `script` with `sh -c` in the run directory, with only PATH (the binary first) and
    /// `env` in its environment.
    fn sh(&self, script: &str, env: &[(&str, &str)]) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", support::path_with_bin(&self.t))
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// The environment of the failing run.
    fn env(&self) -> Vec<(&str, String)> {
        vec![
            ("WARP10_URL", self.fake.url.clone()),
            ("WARP_OFFLOAD_WORK_DIR", self.t.path("work dir").display().to_string()),
        ]
    }

    /// The records the failing run saved: two, the first failed at fetch.
    fn saved(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.join(RECORDS)).unwrap();
        let recs: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(recs.len(), 2, "{text}");
        assert_eq!(recs[0]["error"]["stage"], "fetch", "{text}");
        assert!(recs[1].get("error").is_none(), "{text}");
        recs
    }

    /// Runs `retry` as printed from the test's directory (not the run's), in an environment
    /// without WARP10_URL or the work directory, the fault removed; the segment must complete.
    fn run_retry(&self, retry: &str, id: &Value) {
        self.fake.set_faults("{}");
        let o = Command::new("sh")
            .arg("-c")
            .arg(retry)
            .current_dir(self.t.dir.path())
            .env_clear()
            .env("PATH", support::path_with_bin(&self.t))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{retry}\n{}", support::stderr(&o));
        let out = support::records(&o);
        assert_eq!(out.len(), 1, "{retry}\n{}", support::stderr(&o));
        assert_eq!(&out[0]["id"], id);
        assert!(out[0].get("error").is_none(), "{}", out[0]);
        assert_eq!(out[0]["purge"]["state"], "purged", "{}", out[0]);
        let archive = &out[0]["upload"]["key"];
        assert!(self.dest.join(archive.as_str().unwrap()).is_file(), "{archive}");
    }
}

fn quote(s: &str) -> String {
    shlex::try_quote(s).unwrap().into_owned()
}

/// The retry command of a pipeline repeats every stage's flags, in its directory, with the
/// options it took from the environment written out, reading the record from the file notify's
/// stdout went to; taken from notify's stderr and run by `sh -c`, it completes the segment.
#[test]
fn the_retry_of_a_failed_pipeline_runs_as_printed() {
    let s = Scene::new();
    let dest = quote(s.dest.to_str().unwrap());
    let key = "--key-file archive.key";
    let script = format!(
        "warp-offload plan --selector '~.*{{}}' --start 2024-01-15T00:00:00Z --end 2024-01-15T12:00:00Z \
           --segment 6h --min-age 1h \
         | warp-offload fetch --read-token-file read.token --jobs 1 --retries 1 \
         | warp-offload compress {key} | warp-offload verify {key} | warp-offload upload --dest {dest} \
         | warp-offload verify {key} \
         | warp-offload purge --dest {dest} {key} --read-token-file read.token --write-token-file write.token \
           --settle-timeout 5 --lock-settle-ms 50 \
         | warp-offload notify > {}",
        quote(RECORDS)
    );
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = s.sh(&script, &env);
    let err = support::stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let recs = s.saved();
    let id = recs[0]["id"].as_str().unwrap();
    let prefix = format!("warp-offload notify {id}: retry: ");
    let retry = err
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no retry line in:\n{err}"));
    assert!(
        retry.starts_with(&format!("cd '{}' && jq -c ", s.dir.display())),
        "{retry}"
    );
    let file_word = quote(s.dir.join(RECORDS).to_str().unwrap());
    assert!(retry.contains(&file_word), "{retry}");

    // Records that do not come through a file: the command reads $RECORDS, says so when unset.
    let text = std::fs::read_to_string(s.dir.join(RECORDS)).unwrap();
    let o = support::run(notify(&s.t).arg("notify"), &text);
    let piped = support::stderr(&o);
    assert!(
        piped.contains("stdout is not a file and --manifest-hint is not given"),
        "{piped}"
    );
    let records_word = "\"${RECORDS:?set RECORDS to the file the records of the failed run were saved to}\"";
    assert!(
        piped.contains(&format!("{prefix}{}", retry.replace(&file_word, records_word))),
        "{piped}"
    );
    let o = s.sh(&retry.replace(&file_word, records_word), &[]);
    assert!(
        support::stderr(&o).contains("RECORDS: set RECORDS to the file"),
        "{}",
        support::stderr(&o)
    );

    s.run_retry(retry, &recs[0]["id"]);
}

/// `all`'s retry is the same `all` for the failed segment alone (its own range replacing the
/// run's, which may be relative), its flags and environment options kept; taken from the JSON
/// log and run.
#[test]
fn the_retry_of_a_failed_all_runs_as_printed() {
    let s = Scene::new();
    let script = format!(
        "warp-offload --log-format json all --selector '~.*{{}}' --start 2024-01-15T00:00:00Z --end 2024-01-15T12:00:00Z \
           --segment-length 6h --dest {} --read-token-file read.token --write-token-file write.token \
           --key-file archive.key --purge --settle-timeout 5 --lock-settle-ms 50 --jobs 1 --retries 1 \
           --work-dir 'all work' --notify > {}",
        quote(s.dest.to_str().unwrap()),
        quote(RECORDS)
    );
    let o = s.sh(&script, &[("WARP10_URL", &s.fake.url)]);
    let err = support::stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let recs = s.saved();
    let failed = &recs[0];
    let logged: Vec<Value> = err.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let retry = logged
        .iter()
        .find(|l| l["segment"] == failed["id"] && l.get("retry").is_some())
        .and_then(|l| l["retry"].as_str())
        .unwrap_or_else(|| panic!("no retry field in:\n{err}"));
    assert!(
        retry.contains(&format!(
            "--start {} --end {} --segment {}",
            failed["start"].as_str().unwrap(),
            failed["end"].as_str().unwrap(),
            failed["id"].as_str().unwrap()
        )) && !retry.contains("--end 2024-01-15T12:00:00Z"),
        "{retry}"
    );
    s.run_retry(retry, &failed["id"]);
}
