//! S3 faults (docs/RELIABILITY.md#scenarios 13–17, 19, 20): `upload`, `verify` and `ls` talk to
//! SeaweedFS through the fault proxy of tests/support/s3proxy.rs; the outcome is checked in the
//! records, the proxy's request log and the bucket itself (behind the proxy's back).

use crate::support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::s3proxy::{Fault, INTERNAL_ERROR, REQUEST_TIME_TOO_SKEWED, Rule, S3Env, S3Proxy, SLOW_DOWN};
use support::{FakeWarp10, READ_TOKEN, TestDir, records, run, stderr, stdout};

/// A fresh prefix of the test bucket, reached through a proxy.
struct Bucket {
    s3: S3Env,
    proxy: S3Proxy,
    prefix: String,
    t: TestDir,
}

impl Bucket {
    fn new() -> Bucket {
        let s3 = S3Env::from_env();
        let proxy = S3Proxy::start(&s3.endpoint);
        let t = TestDir::new();
        let prefix = t.unique_prefix("faults");
        Bucket { s3, proxy, prefix, t }
    }

    fn work(&self) -> PathBuf {
        self.t.path("work")
    }

    fn dest(&self) -> String {
        format!("s3://{}/{}", self.s3.bucket, self.prefix)
    }

    /// `warp-offload SUB` through the proxy, with few, quick retries.
    fn cmd(&self, sub: &str) -> Command {
        self.cmd_with_budget(sub, 3, 10)
    }

    /// `warp-offload SUB` through the proxy, with these `--s3-retries` and `--s3-timeout`.
    fn cmd_with_budget(&self, sub: &str, retries: u32, timeout_s: u64) -> Command {
        let mut c = support::cmd(&self.work());
        c.arg(sub)
            .args([
                "--s3-endpoint",
                &self.proxy.endpoint(),
                "--s3-retries",
                &retries.to_string(),
                "--s3-timeout",
                &timeout_s.to_string(),
            ])
            .env("AWS_ACCESS_KEY_ID", &self.s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.s3.secret_key);
        c
    }

    /// `warp-offload GLOBAL... SUB` through the proxy, without retries; for `all`, over the
    /// `6h` segments of `[2024-01-15, end)` of `fake`'s `~os\..*{}` series.
    fn chain(&self, global: &[&str], sub: &str, fake: &FakeWarp10, end: &str) -> Command {
        let mut c = support::cmd(&self.work());
        c.args(global)
            .args([sub, "--s3-endpoint", &self.proxy.endpoint(), "--s3-retries", "0"])
            .env("AWS_ACCESS_KEY_ID", &self.s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.s3.secret_key);
        if sub == "all" {
            c.args([
                "--warp10-url",
                &fake.url,
                "--selector",
                "~os\\..*{}",
                "--dest",
                &self.dest(),
            ])
            .args([
                "--start",
                "2024-01-15T00:00:00Z",
                "--end",
                end,
                "--segment-length",
                "6h",
            ])
            .arg("--read-token-file")
            .arg(self.t.secret_file("read.token", READ_TOKEN));
        }
        c
    }

    fn upload(&self, input: &str, extra: &[&str]) -> Output {
        run(self.cmd("upload").args(["--dest", &self.dest()]).args(extra), input)
    }

    /// The committed segments (`ls`, faults off).
    fn listed(&self, all: bool) -> Vec<Value> {
        let saved = self.proxy.take_log();
        self.proxy.set(vec![]);
        let mut c = self.cmd("ls");
        c.args(["--dest", &self.dest()]);
        if all {
            c.arg("--all");
        }
        let o = run(&mut c, "");
        assert!(o.status.success(), "ls: {}", stderr(&o));
        drop(saved);
        records(&o)
    }

    /// Multipart uploads in progress under the prefix, asked of the store directly.
    fn pending_multipart(&self) -> usize {
        let region = s3::Region::Custom {
            region: "us-east-1".into(),
            endpoint: self.s3.endpoint.clone(),
        };
        let creds = s3::creds::Credentials::new(Some(&self.s3.access_key), Some(&self.s3.secret_key), None, None, None)
            .unwrap();
        let b = s3::bucket::Bucket::new(&self.s3.bucket, region, creds)
            .unwrap()
            .with_path_style();
        let query = [("uploads", ""), ("prefix", self.prefix.as_str())].map(|(k, v)| (k.to_string(), v.to_string()));
        let url = b.presign_get("/", 60, Some(query.into_iter().collect())).unwrap();
        let body = ureq::get(&url).call().unwrap().body_mut().read_to_string().unwrap();
        body.matches("<Upload>").count()
    }

    /// (method, query, status) of each request the proxy saw.
    fn seen(&self) -> Vec<(String, String, Option<u16>)> {
        self.proxy
            .log()
            .into_iter()
            .map(|e| (e.method, e.query, e.status))
            .collect()
    }
}

/// Deterministic incompressible bytes.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    let mut out = vec![0; len];
    h.finalize_xof().fill(&mut out);
    out
}

/// An archive file of `size` random bytes in the work dir and a record for it (upload does not
/// look inside archives): enough to drive single PUTs and multipart uploads.
fn archived(work: &Path, size: usize) -> String {
    let id = "20261001T000000Z-1d-faults";
    let rel = format!("archive/{id}.wo");
    let data = bytes(size, size as u64);
    std::fs::create_dir_all(work.join("archive")).unwrap();
    std::fs::write(work.join(&rel), &data).unwrap();
    let r = json!({
        "v": 1, "id": id, "selector": "test{}", "start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z",
        "warp10_url": "http://127.0.0.1:1", "time_unit": "us",
        "fetch": {"points": 1000, "series": 3, "bytes": 50_000, "digest": format!("x3s1:{:032x}", 7),
                  "spool": format!("spool/{id}.gts"), "at": "2026-11-27T00:00:00Z", "duration_ms": 1},
        "archive": {"codec": "wo1", "path": rel, "size": data.len(), "blake3": blake3::hash(&data).to_hex().to_string(),
                    "bytes_per_point": 1.5, "at": "2026-11-27T00:00:00Z"}
    });
    format!("{r}\n")
}

fn failed_record(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(3), "{}", stderr(o));
    let r = records(o).remove(0);
    assert!(r.get("upload").is_none(), "no upload section on a failure: {r}");
    r
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn slow_down_is_retried_then_committed() {
    let b = Bucket::new();
    let input = archived(&b.work(), 1000);
    b.proxy
        .set(vec![Rule::new(Fault::Respond(503, SLOW_DOWN)).method("PUT").times(2)]);
    let o = b.upload(&input, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let puts: Vec<_> = b
        .seen()
        .into_iter()
        .filter(|(m, _, _)| m == "PUT")
        .map(|(_, _, s)| s)
        .collect();
    assert_eq!(&puts[..3], [Some(503), Some(503), Some(200)], "{puts:?}");
    assert_eq!(b.listed(false).len(), 1);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn slow_down_forever_gives_up_within_the_budget_and_commits_nothing() {
    let b = Bucket::new();
    let input = archived(&b.work(), 1000);
    b.proxy
        .set(vec![Rule::new(Fault::Respond(503, SLOW_DOWN)).method("PUT")]);
    let started = std::time::Instant::now();
    let r = failed_record(&b.upload(&input, &[]));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains("SlowDown"), "{msg}");
    assert_eq!(r["error"]["retryable"], true);
    let puts = b.seen().iter().filter(|(m, _, _)| m == "PUT").count();
    assert_eq!(puts, 3, "--s3-retries 3 attempts, then no manifest object is tried");
    assert!(b.listed(true).is_empty(), "no object at all");
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn request_time_too_skewed_is_not_retried_and_commits_nothing() {
    let b = Bucket::new();
    let input = archived(&b.work(), 1000);
    b.proxy.set(vec![
        Rule::new(Fault::Respond(403, REQUEST_TIME_TOO_SKEWED)).method("PUT"),
    ]);
    let r = failed_record(&b.upload(&input, &[]));
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains("RequestTimeTooSkewed"), "{msg}");
    assert_eq!(r["error"]["retryable"], false);
    assert_eq!(b.seen().iter().filter(|(m, _, _)| m == "PUT").count(), 1, "not retried");
    assert!(b.listed(true).is_empty());
}

const PART: &[&str] = &["--part-size", "5MiB"];
const BIG: usize = 11 << 20;

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_part_reset_once_is_retried_and_the_upload_completes() {
    let b = Bucket::new();
    let input = archived(&b.work(), BIG);
    b.proxy.set(vec![
        Rule::new(Fault::ResetAfter(1 << 20))
            .method("PUT")
            .query("partNumber=2")
            .times(1),
    ]);
    let o = b.upload(&input, PART);
    assert!(o.status.success(), "{}", stderr(&o));
    let part2: Vec<_> = b
        .seen()
        .into_iter()
        .filter(|(m, q, _)| m == "PUT" && q.contains("partNumber=2"))
        .map(|(_, _, s)| s)
        .collect();
    assert_eq!(part2, [None, Some(200)], "reset, then retried");
    assert_eq!(b.listed(false)[0]["bytes"], BIG);
    assert_eq!(b.pending_multipart(), 0);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_part_reset_every_time_aborts_the_upload_without_orphans() {
    let b = Bucket::new();
    let input = archived(&b.work(), BIG);
    b.proxy.set(vec![
        Rule::new(Fault::ResetAfter(1 << 20))
            .method("PUT")
            .query("partNumber=2"),
    ]);
    let r = failed_record(&b.upload(&input, PART));
    assert_eq!(r["error"]["retryable"], true);
    assert!(
        b.seen()
            .iter()
            .any(|(m, q, s)| m == "DELETE" && q.contains("uploadId=") && *s == Some(204)),
        "AbortMultipartUpload sent: {:?}",
        b.seen()
    );
    assert_eq!(b.pending_multipart(), 0, "no orphan multipart upload");
    assert!(b.listed(true).is_empty());
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_complete_answered_200_with_an_error_body_is_not_a_commit() {
    let b = Bucket::new();
    let input = archived(&b.work(), BIG);
    // Answered by the proxy, never forwarded: the store never completes the upload.
    b.proxy.set(vec![
        Rule::new(Fault::Respond(200, INTERNAL_ERROR))
            .method("POST")
            .query("uploadId="),
    ]);
    let r = failed_record(&b.upload(&input, PART));
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("complete multipart upload") && msg.contains("InternalError"),
        "{msg}"
    );
    assert_eq!(b.pending_multipart(), 0);
    assert!(b.listed(true).is_empty());

    // Once only: the retried completion goes through.
    b.proxy.set(vec![
        Rule::new(Fault::Respond(200, INTERNAL_ERROR))
            .method("POST")
            .query("uploadId=")
            .times(1),
    ]);
    let o = b.upload(&input, PART);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(b.listed(false).len(), 1);
    assert_eq!(b.pending_multipart(), 0);
}

/// Real archives (fake Warp 10 → plan → fetch → compress), uploaded without faults.
fn uploaded(b: &Bucket) -> String {
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "1",
        "--series-per-host",
        "3",
        "--interval",
        "60s",
        "--start",
        "2024-01-15T00:00:00Z",
    ]);
    let work = b.work();
    let token = b.t.secret_file("read.token", READ_TOKEN);
    let token = token.to_str().unwrap();
    let plan = [
        "--warp10-url",
        &fake.url,
        "--selector",
        "~os\\..*{}",
        "--start",
        "2024-01-15T00:00:00Z",
        "--end",
        "2024-01-16T00:00:00Z",
    ];
    let mut input = String::new();
    for (sub, args) in [
        ("plan", &plan[..]),
        ("fetch", &["--read-token-file", token][..]),
        ("compress", &[][..]),
    ] {
        let o = run(support::cmd(&work).arg(sub).args(args), &input);
        assert!(o.status.success(), "{sub}: {}", stderr(&o));
        input = stdout(&o);
    }
    let o = b.upload(&input, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_read_back_with_a_flipped_bit_or_short_fails_verify_with_exit_4() {
    let b = Bucket::new();
    let input = uploaded(&b);
    let key = records_key(&input);
    for fault in [Fault::FlipBit(100), Fault::Shorten(100)] {
        b.proxy.set(vec![Rule::new(fault).method("GET").path(&key)]);
        let o = run(&mut b.cmd("verify"), &input);
        assert_eq!(o.status.code(), Some(4), "{fault:?}: {}", stderr(&o));
        let r = &records(&o)[0];
        assert_eq!(r["error"]["mismatch"], true, "{fault:?}: {r}");
        assert!(r.get("verify").is_none());
    }
    b.proxy.set(vec![]);
    let o = run(&mut b.cmd("verify"), &input);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `all` reads the object it uploaded back by hash alone when it decoded those very bytes
/// before uploading them; a bit flipped or a byte missing in that read-back is still a
/// mismatch (exit 4). A separate `verify` of the same records decodes the object again.
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn all_reads_its_own_upload_back_by_hash_and_still_catches_a_flipped_bit() {
    let b = Bucket::new();
    let fake = FakeWarp10::start(&["--generate", "infra", "--hosts", "1", "--series-per-host", "3"]);
    let end = "2024-01-16T00:00:00Z";
    let all = |id: &str| {
        let mut c = b.chain(&["-vv"], "all", &fake, end);
        c.args(["--segment", id]);
        c
    };
    let not_again = "not decoding again the bytes this process checked";
    let range = ("2024-01-15T00:00:00Z", end, "6h");
    let ids: Vec<String> = support::plan(&b.t, &fake.url, "~os\\..*{}", range)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for (id, fault) in ids.iter().zip([Fault::FlipBit(100), Fault::Shorten(100)]) {
        b.proxy.set(vec![Rule::new(fault).method("GET").path(".w10a")]);
        let o = run(&mut all(id), "");
        assert_eq!(o.status.code(), Some(4), "{fault:?}: {}", stderr(&o));
        let r = &records(&o)[0];
        assert_eq!(
            (r["error"]["stage"].as_str(), &r["error"]["mismatch"]),
            (Some("verify"), &json!(true)),
            "{r}"
        );
        assert!(stderr(&o).contains(not_again), "{}", stderr(&o));
    }
    b.proxy.set(vec![]);
    let o = run(&mut all(&ids[2]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(not_again), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["verify"]["scope"], "remote");
    let again = run(&mut b.chain(&["-vv"], "verify", &fake, end), &stdout(&o));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains(not_again), "{}", stderr(&again));
    assert_eq!(
        records(&again)[0]["verify"]["points"],
        records(&o)[0]["fetch"]["points"]
    );
}

/// `all --jobs 1`: while a segment waits on a slow upload, the next segment is fetched (the
/// slot for fetching and encoding is free), and both end committed and verified.
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn all_fetches_the_next_segment_while_one_uploads() {
    let b = Bucket::new();
    let fake = FakeWarp10::start(&["--generate", "infra", "--hosts", "1", "--series-per-host", "3"]);
    let mut c = b.chain(&["-v"], "all", &fake, "2024-01-15T12:00:00Z");
    c.args(["--jobs", "1", "--lock-settle-ms", "1"]);
    let first = "20240115T000000Z-6h-";
    // The first segment's archive and manifest object.
    let slow = Rule::new(Fault::Delay(std::time::Duration::from_secs(2)));
    b.proxy.set(vec![slow.method("PUT").path(&format!("segments/{first}"))]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let at = |what: &dyn Fn(&str) -> bool| err.lines().position(what).unwrap_or_else(|| panic!("{err}"));
    let second_fetched = at(&|l| l.contains("20240115T060000Z-6h-") && l.contains(": fetched"));
    let first_uploaded = at(&|l| l.contains(first) && l.contains(": uploaded to"));
    assert!(second_fetched < first_uploaded, "{err}");
    let recs = records(&o);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["verify"]["scope"] == "remote"), "{recs:?}");
}

/// A lock claimed while its segment waited in the queue, and older than a third of
/// `--lock-ttl` when the segment starts, is released and taken again (not trusted as fresh); the
/// run completes.
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_lock_claimed_long_before_its_segment_starts_is_taken_again() {
    let b = Bucket::new();
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "1",
        "--faults",
        r#"{"latency_ms":700}"#,
    ]);
    let mut c = b.chain(&[], "all", &fake, "2024-01-16T00:00:00Z");
    c.args(["--jobs", "1", "--lock-ttl", "3s", "--lock-settle-ms", "1"]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        records(&o).iter().all(|r| r["verify"]["scope"] == "remote"),
        "{}",
        stdout(&o)
    );
    // The last segment is claimed when queued, at the start, and starts after two fetches of
    // 700 ms each: its claim is then older than 1 s.
    let last = b
        .proxy
        .log()
        .into_iter()
        .filter(|e| e.path.contains("locks/20240115T180000Z-6h-"))
        .map(|e| e.method)
        .collect::<Vec<_>>();
    let released = last
        .iter()
        .position(|m| m == "DELETE")
        .unwrap_or_else(|| panic!("{last:?}"));
    assert!(last[..released].contains(&"PUT".to_string()), "claimed first: {last:?}");
    assert!(last[released..].contains(&"PUT".to_string()), "taken again: {last:?}");
}

/// A store that sends the headers of a GET, then one byte every 300 ms: the read-back fails
/// within about --s3-timeout per attempt, naming the object and the limit.
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_trickling_read_back_fails_within_s3_timeout() {
    let b = Bucket::new();
    let input = uploaded(&b);
    let key = records_key(&input);
    b.proxy.set(vec![
        Rule::new(Fault::Trickle(std::time::Duration::from_millis(300)))
            .method("GET")
            .path(&key),
    ]);
    let started = std::time::Instant::now();
    let o = run(&mut b.cmd_with_budget("verify", 1, 2), &input);
    let took = started.elapsed();
    b.proxy.set(vec![]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = &records(&o)[0];
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&key) && msg.contains("within --s3-timeout"), "{msg}");
    assert!(took < std::time::Duration::from_secs(6), "a 2 s limit took {took:?}");
}

/// The data object's key of the (single) uploaded record.
fn records_key(ndjson: &str) -> String {
    let r: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    r["upload"]["key"].as_str().unwrap().to_string()
}
