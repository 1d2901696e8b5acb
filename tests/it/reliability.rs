//! Reliability scenarios on the Warp 10 side and network hygiene (reference/reliability.md §3.3):
//! slow and failing servers, redirects, plain http off loopback, clock skew. The S3 side is in
//! tests/s3faults.rs, hostile input in tests/hostile.rs, secrets in tests/secrets.rs.

use crate::support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{FakeWarp10, READ_TOKEN, TestDir, WRITE_TOKEN, cmd, records, run, small_fake, stderr, stdout};

fn plan(t: &TestDir, url: &str, extra: &[&str]) -> Output {
    run(
        cmd(t.dir.path())
            .args(["plan", "--warp10-url", url, "--selector", "~os\\..*{}"])
            .args(["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-16T00:00:00Z"])
            .args(extra),
        "",
    )
}

fn planned(t: &TestDir, url: &str) -> String {
    let o = plan(t, url, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

fn fetch(t: &TestDir, manifest: &str, extra: &[&str]) -> Output {
    let token = t.secret_file("read.token", READ_TOKEN);
    run(
        cmd(t.dir.path())
            .arg("fetch")
            .arg("--read-token-file")
            .arg(token)
            .args(extra),
        manifest,
    )
}

fn set_faults(fake: &FakeWarp10, json: &str) {
    let resp = ureq::post(&format!("{}/admin/faults", fake.url))
        .send(json)
        .expect("set faults");
    assert_eq!(resp.status(), 200);
}

fn faults(fake: &FakeWarp10) -> Value {
    let body = ureq::get(&format!("{}/admin/faults", fake.url))
        .call()
        .expect("get faults")
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn error_message(r: &Value) -> String {
    r["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_server_slower_than_timeout_fails_the_segment_in_bounded_time() {
    let fake = small_fake(2);
    let t = TestDir::new();
    let manifest = planned(&t, &fake.url);
    for fault in [r#"{"latency_ms": 4000}"#, r#"{"chunk_latency_ms": 4000}"#] {
        set_faults(&fake, fault);
        let t = TestDir::new();
        let started = Instant::now();
        let o = fetch(&t, &manifest, &["--timeout", "1", "--retries", "2"]);
        let took = started.elapsed();
        assert_eq!(o.status.code(), Some(3), "{fault}: {}", stderr(&o));
        let r = &records(&o)[0];
        let msg = error_message(r);
        assert!(
            msg.to_lowercase().contains("timeout") || msg.contains("timed out"),
            "{fault}: {msg}"
        );
        assert_eq!(r["error"]["retryable"], true, "{fault}");
        assert!(r.get("fetch").is_none());
        // Two attempts of about 1 s each plus one backoff, not the server's 4 s each.
        assert!(took < Duration::from_secs(7), "{fault}: took {took:?}");
        assert!(!t.path("spool").exists() || std::fs::read_dir(t.path("spool")).unwrap().count() == 0);
    }
    set_faults(&fake, "{}");
}

/// Headers at once, then one byte every 300 ms: every read makes progress, so only the rate
/// check stops it (reference: issue 10 §5, a server kept `all --timeout 5` going past 90 s).
#[test]
fn a_trickling_fetch_or_find_fails_within_bounded_time_naming_the_request() {
    let fake = small_fake(2);
    let t = TestDir::new();
    let manifest = planned(&t, &fake.url);
    set_faults(&fake, r#"{"trickle_ms": {"fetch": 300, "find": 300}}"#);

    let started = Instant::now();
    let o = fetch(&TestDir::new(), &manifest, &["--timeout", "2", "--retries", "1"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = &records(&o)[0];
    let msg = error_message(r);
    assert!(
        msg.contains("/api/v0/fetch on http://127.0.0.1")
            && msg.contains("too slow")
            && msg.contains("--min-rate 1024"),
        "{msg}"
    );
    assert_eq!(r["error"]["retryable"], true);
    assert!(took < Duration::from_secs(6), "a 2 s limit took {took:?}");

    let started = Instant::now();
    let token = t.secret_file("read.token", READ_TOKEN);
    let token = token.to_str().unwrap();
    let o = plan(
        &t,
        &fake.url,
        &[
            "--split-by",
            "series",
            "--read-token-file",
            token,
            "--timeout",
            "2",
            "--retries",
            "1",
        ],
    );
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("/api/v0/find on http://127.0.0.1") && err.contains("too slow"),
        "{err}"
    );
    assert!(took < Duration::from_secs(6), "a 2 s limit took {took:?}");
    set_faults(&fake, "{}");
}

/// A body that takes several times `--timeout` in all but arrives steadily is not cut: there
/// is no flat deadline on streamed bodies.
#[test]
fn a_slow_but_steady_fetch_succeeds() {
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "4",
        "--series-per-host",
        "10",
        "--interval",
        "300s",
        "--start",
        "2024-01-15T00:00:00Z",
    ]);
    let t = TestDir::new();
    let manifest = planned(&t, &fake.url);
    set_faults(&fake, r#"{"chunk_latency_ms": 600}"#);
    let started = Instant::now();
    let o = fetch(&t, &manifest, &["--timeout", "1", "--retries", "1"]);
    let took = started.elapsed();
    set_faults(&fake, "{}");
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert!(r["fetch"]["bytes"].as_u64().unwrap() > 4 * 65536, "{r}");
    assert!(
        took > Duration::from_secs(2),
        "the body took {took:?}, not several --timeout"
    );
}

#[test]
fn server_errors_are_retried_exactly_retries_times_then_fail_retryable() {
    let fake = small_fake(2);
    let t = TestDir::new();
    let manifest = planned(&t, &fake.url);
    set_faults(&fake, r#"{"fail_next": {"fetch": 5}}"#);
    let started = Instant::now();
    let o = fetch(&t, &manifest, &["--retries", "3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert!(error_message(r).contains("500"), "{r}");
    assert_eq!(r["error"]["retryable"], true);
    assert_eq!(faults(&fake)["fail_next"]["fetch"], 2, "exactly 3 attempts");
    assert!(started.elapsed() < Duration::from_secs(5), "backoff stays short");

    // The storm ends within the budget: the segment goes through.
    let o = fetch(&TestDir::new(), &manifest, &["--retries", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(records(&o)[0]["fetch"]["points"].as_u64().unwrap() > 0);
}

/// A listener that counts its connections and answers nothing.
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&seen);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (url, seen)
}

/// A server that answers every request with a 302 to `target`.
fn redirecting_server(target: &str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let target = target.to_string();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 302 Found\r\nLocation: {target}/api/v0/fetch\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    url
}

#[test]
fn redirects_are_not_followed_and_the_token_stays_home() {
    let (target, reached) = counting_listener();
    let redirecting = redirecting_server(&target);
    let t = TestDir::new();
    let manifest = planned(&t, &redirecting);
    let o = fetch(&t, &manifest, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = error_message(&records(&o)[0]);
    assert!(msg.contains("302") && msg.contains("not followed"), "{msg}");

    let token = t.secret_file("read.token", READ_TOKEN);
    let o = plan(
        &t,
        &redirecting,
        &["--split-by", "series", "--read-token-file", token.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not followed"), "{}", stderr(&o));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(reached.load(Ordering::SeqCst), 0, "the redirect target was contacted");
}

/// TEST-NET-1 (RFC 5737): never routed. Every refusal below happens before any connection, and
/// the tests check it by their speed too (a connection attempt would wait for a timeout).
const OFF_LOOPBACK: &str = "http://192.0.2.1:8080";

#[test]
fn plain_http_off_loopback_is_refused_for_warp10_s3_and_webhooks() {
    let t = TestDir::new();
    let started = Instant::now();

    let o = plan(&t, OFF_LOOPBACK, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refusing plain http://"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());

    // The Warp 10 of a run comes from its command line (or environment), checked before any
    // record is read.
    let local = planned(&t, "http://127.0.0.1:9");
    let o = fetch(&t, &local, &["--warp10-url", OFF_LOOPBACK]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refusing plain http://"), "{}", stderr(&o));

    let o = run(
        cmd(t.dir.path())
            .args([
                "ls",
                "--dest",
                "s3://bucket/prefix",
                "--s3-endpoint",
                "http://192.0.2.1:9000",
            ])
            .env("AWS_ACCESS_KEY_ID", "k")
            .env("AWS_SECRET_ACCESS_KEY", "s"),
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refusing plain http:// S3 endpoint"),
        "{}",
        stderr(&o)
    );

    let hook = t.secret_file("hook.url", "http://192.0.2.1/hooks/secret-path");
    let o = run(
        cmd(t.dir.path())
            .args(["notify", "--on", "always", "--webhook-file"])
            .arg(&hook)
            .env_remove("SLACK_WEBHOOK_URL"),
        &local,
    );
    let err = stderr(&o);
    assert!(err.contains("refusing plain http://"), "{err}");
    assert!(!err.contains("secret-path"), "the webhook URL is a secret: {err}");

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no connection was attempted"
    );
}

#[test]
fn plan_stops_when_the_clocks_disagree() {
    let fake = small_fake(2);
    let t = TestDir::new();
    for (skew, words) in [(86_400, "1d behind"), (-86_400, "1d ahead of")] {
        set_faults(&fake, &format!(r#"{{"clock_skew_s": {skew}}}"#));
        let o = plan(&t, &fake.url, &[]);
        assert_eq!(o.status.code(), Some(1), "{skew}");
        let err = stderr(&o);
        assert!(err.contains(words) && err.contains("--max-clock-skew 5m"), "{err}");
        assert!(stdout(&o).is_empty(), "no segment planned");
    }
    set_faults(&fake, r#"{"clock_skew_s": 120}"#);
    assert!(plan(&t, &fake.url, &[]).status.success(), "2 minutes are tolerated");
    let o = plan(&t, &fake.url, &["--max-clock-skew", "1m"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("2m behind"), "{}", stderr(&o));

    // The check also runs after --split-by's finds (same client, same place).
    set_faults(&fake, r#"{"clock_skew_s": 3600}"#);
    let token = t.secret_file("read.token", READ_TOKEN);
    let o = plan(
        &t,
        &fake.url,
        &["--split-by", "series", "--read-token-file", token.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("1h behind"), "{}", stderr(&o));
}

#[test]
fn purge_stops_on_clock_skew_before_touching_warp10() {
    let fake = small_fake(2);
    let t = TestDir::new();
    let manifest = planned(&t, &fake.url);
    let count = || -> Value {
        let url = format!("{}/admin/count?selector=~os%5C..*%7B%7D", fake.url);
        serde_json::from_str(&ureq::get(&url).call().unwrap().body_mut().read_to_string().unwrap()).unwrap()
    };
    let before = count();
    assert!(before["points"].as_u64().unwrap() > 0);
    set_faults(&fake, r#"{"clock_skew_s": -7200}"#);
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let o = run(
        cmd(t.dir.path())
            .args(["purge", "--lock-settle-ms", "1", "--dest"])
            .arg(t.path("dest"))
            .arg("--read-token-file")
            .arg(&read)
            .arg("--write-token-file")
            .arg(&write),
        &manifest,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert!(error_message(r).contains("2h ahead of"), "{r}");
    assert_eq!(r["error"]["stage"], "purge");
    assert_eq!(r["error"]["retryable"], false);
    assert_eq!(count(), before, "nothing deleted");
}
