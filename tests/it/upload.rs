//! `upload` and `ls` against both destinations, SeaweedFS (started by scripts/test.sh through
//! scripts/seaweedfs.sh) and a local directory, with the same test bodies.

use crate::support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use support::{Dest, FakeWarp10, READ_TOKEN, TestDir};

/// Deterministic incompressible bytes.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    let mut xof = h.finalize_xof();
    out.resize(len, 0);
    xof.fill(&mut out);
    out
}

/// Writes an archive file of `size` bytes into the work dir and returns a record for it with
/// fetch and archive sections (the store does not look inside archives).
fn archived_segment(work: &Path, n: u32, size: usize) -> Value {
    let start = format!("2026-10-{:02}T00:00:00Z", n + 1);
    let end = format!("2026-10-{:02}T00:00:00Z", n + 2);
    let id = format!("20261{n:03}T000000Z-1d-test{n}");
    let rel = format!("archive/{id}.wo");
    let data = bytes(size, u64::from(n));
    std::fs::create_dir_all(work.join("archive")).unwrap();
    std::fs::write(work.join(&rel), &data).unwrap();
    json!({
        "v": 1, "id": id, "selector": format!("test.{n}{{}}"), "start": start, "end": end,
        "warp10_url": "http://127.0.0.1:1", "time_unit": "us",
        "fetch": {"points": 1000 + n, "series": 3, "bytes": 50_000, "digest": format!("x3s1:{:032x}", n),
                  "spool": format!("spool/{id}.gts"), "at": "2026-11-27T00:00:00Z", "duration_ms": 1},
        "archive": {"codec": "wo1", "path": rel, "size": data.len(), "blake3": blake3::hash(&data).to_hex().to_string(),
                    "bytes_per_point": 1.5, "at": "2026-11-27T00:00:00Z"}
    })
}

fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status,
        support::stderr(o)
    );
}

fn ls(dest: &Dest, work: &Path, all: bool) -> Vec<Value> {
    let mut c = dest.cmd(work, "ls");
    if all {
        c.arg("--all");
    }
    let o = support::run(&mut c, "");
    ok(&o);
    support::records(&o)
}

fn round_trip(dest: Dest, t: &TestDir) {
    let work = t.path("work");
    let input = vec![
        archived_segment(&work, 1, 100_000),
        archived_segment(&work, 2, 2_500_000),
    ];
    let o = support::run(dest.cmd(&work, "upload").args(["--jobs", "2"]), &ndjson(&input));
    ok(&o);
    let mut out = support::records(&o);
    out.sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    assert_eq!(out.len(), 2);
    for (rec, inp) in out.iter().zip(&input) {
        let up = &rec["upload"];
        assert_eq!(up["blake3"], inp["archive"]["blake3"]);
        assert_eq!(up["size"], inp["archive"]["size"]);
        let id = inp["id"].as_str().unwrap();
        assert_eq!(up["key"], format!("segments/{id}/{id}.wo"));
        assert_eq!(up["manifest_key"], format!("segments/{id}/manifest.json"));
        assert!(
            up["dest"]
                .as_str()
                .unwrap()
                .ends_with(dest.url().trim_start_matches('/')),
            "{up}"
        );
    }

    // The commit marker is the segment record with its upload section, and no secret.
    let id = input[0]["id"].as_str().unwrap();
    let marker: Value = serde_json::from_slice(&dest.read(&format!("segments/{id}/manifest.json"))).unwrap();
    assert_eq!(marker["upload"]["blake3"], input[0]["archive"]["blake3"]);
    assert_eq!(marker["fetch"], input[0]["fetch"]);
    if let Dest::S3 { access, secret, .. } = &dest {
        let seen = format!("{marker}{}{}", support::stdout(&o), support::stderr(&o));
        assert!(
            !seen.contains(secret.as_str()) && !seen.contains(access.as_str()),
            "{seen}"
        );
    }

    let listed = ls(&dest, &work, false);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["id"], input[0]["id"]);
    assert_eq!(listed[0]["state"], "complete");
    assert_eq!(listed[0]["points"], 1001);
    assert_eq!(listed[1]["bytes"], 2_500_000);
    assert_eq!(listed[1]["codec"], "wo1");
    assert_eq!(listed[1]["encrypted"], false);
    assert_eq!(listed[1]["selector"], "test.2{}");

    // Records that already carry an upload pass through; records without one find the same
    // objects and only rewrite the commit marker.
    let again = support::run(&mut dest.cmd(&work, "upload"), &support::stdout(&o));
    ok(&again);
    assert_eq!(support::records(&again).len(), 2);
    let again = support::run(&mut dest.cmd(&work, "upload"), &ndjson(&input));
    ok(&again);
    assert_eq!(ls(&dest, &work, true).len(), 2);

    // Different content under the same key is refused without --force.
    let mut changed = archived_segment(&work, 1, 100_001);
    changed["id"] = input[0]["id"].clone();
    let o = support::run(&mut dest.cmd(&work, "upload"), &ndjson(&[changed.clone()]));
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    let err = support::records(&o)[0]["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains("already exists with other content") && err.contains("--force"),
        "{err}"
    );
    let o = support::run(dest.cmd(&work, "upload").arg("--force"), &ndjson(&[changed]));
    ok(&o);
    assert_eq!(ls(&dest, &work, false)[0]["bytes"], 100_001);
}

#[test]
fn round_trip_through_a_directory() {
    let t = TestDir::new();
    round_trip(Dest::dir(&t), &t);
}

#[test]
fn records_uploaded_elsewhere_move_to_the_new_destination() {
    let t = TestDir::new();
    let work = t.path("work");
    let input = [archived_segment(&work, 1, 1000)];
    let first = Dest::Dir(t.path("first").display().to_string());
    let o = support::run(&mut first.cmd(&work, "upload"), &ndjson(&input));
    ok(&o);
    let second = Dest::Dir(t.path("second").display().to_string());
    let o = support::run(&mut second.cmd(&work, "upload"), &support::stdout(&o));
    ok(&o);
    let dest = support::records(&o)[0]["upload"]["dest"].as_str().unwrap().to_string();
    assert!(dest.ends_with("/second"), "{dest}");
    assert_eq!(ls(&first, &work, false).len(), 1);
    assert_eq!(ls(&second, &work, false).len(), 1);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn round_trip_through_s3() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    round_trip(dest, &t);
}

fn dry_run_writes_nothing(dest: Dest, t: &TestDir) {
    let work = t.path("work");
    let input = [archived_segment(&work, 1, 1000)];
    let o = support::run(dest.cmd(&work, "upload").arg("--dry-run"), &ndjson(&input));
    ok(&o);
    assert!(support::stderr(&o).contains("would upload"), "{}", support::stderr(&o));
    assert_eq!(support::records(&o), input);
    assert!(ls(&dest, &work, true).is_empty());
}

#[test]
fn dry_run_writes_nothing_to_a_directory() {
    let t = TestDir::new();
    dry_run_writes_nothing(Dest::dir(&t), &t);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn dry_run_writes_nothing_to_s3() {
    let t = TestDir::new();
    dry_run_writes_nothing(Dest::s3(&t, "upload"), &t);
}

/// The process dies at `failpoint`; the re-run completes with one copy and a commit marker.
fn killed_upload_recovers(dest: Dest, t: &TestDir, size: usize, failpoint: &str) {
    let work = t.path("work");
    let input = [archived_segment(&work, 1, size)];
    let o = support::run(
        dest.cmd(&work, "upload")
            .args(["--part-size", "5MiB"])
            .env("WARP_OFFLOAD_FAILPOINT", failpoint),
        &ndjson(&input),
    );
    assert!(!o.status.success(), "the failpoint did not fire");
    assert!(
        support::stdout(&o).is_empty(),
        "a record was written for an unfinished upload"
    );
    assert!(
        ls(&dest, &work, false).is_empty(),
        "committed without a manifest object"
    );

    let o = support::run(dest.cmd(&work, "upload").args(["--part-size", "5MiB"]), &ndjson(&input));
    ok(&o);
    let all = ls(&dest, &work, true);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["state"], "complete");
    assert_eq!(all[0]["bytes"], size);
    assert_eq!(dest.pending_multipart(), 0, "multipart uploads left behind");
    if let Dest::Dir(p) = &dest {
        let id = input[0]["id"].as_str().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(Path::new(p).join("segments").join(id))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(".tmp-"))
            .collect();
        names.sort();
        let mut want = [
            ".manifest.json.meta.json".to_string(),
            format!(".{id}.wo.meta.json"),
            "manifest.json".into(),
            format!("{id}.wo"),
        ];
        want.sort();
        assert_eq!(names, want);
    }
}

#[test]
fn upload_killed_after_the_data_object_recovers_in_a_directory() {
    let t = TestDir::new();
    killed_upload_recovers(Dest::dir(&t), &t, 300_000, "upload-after-data");
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn upload_killed_after_the_data_object_recovers_in_s3() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    killed_upload_recovers(dest, &t, 300_000, "upload-after-data");
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn upload_killed_in_the_middle_of_a_multipart_upload_recovers_without_orphans() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    killed_upload_recovers(dest, &t, 12 << 20, "upload-after-part");
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_60_mb_archive_goes_through_multipart() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    let work = t.path("work");
    let size = 60_000_000;
    let input = [archived_segment(&work, 1, size)];
    let started = std::time::Instant::now();
    let o = support::run(
        dest.cmd(&work, "upload").args(["--part-size", "16MiB"]),
        &ndjson(&input),
    );
    ok(&o);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "upload of 60 MB: {secs:.2} s, {:.0} MB/s (incl. hashing and process start)",
        60.0 / secs
    );
    let up = &support::records(&o)[0]["upload"];
    // A multipart ETag is md5-of-md5s with the part count: 60 MB in 16 MiB parts is 4 parts.
    assert!(up["etag"].as_str().unwrap().ends_with("-4"), "{up}");
    assert_eq!(ls(&dest, &work, false)[0]["bytes"], size);
    assert_eq!(dest.pending_multipart(), 0);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn wrong_credentials_name_endpoint_and_bucket_and_commit_nothing() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    let work = t.path("work");
    let input = [archived_segment(&work, 1, 1000)];
    let o = support::run(
        dest.cmd(&work, "upload")
            .env("AWS_SECRET_ACCESS_KEY", "canary-wrong-secret"),
        &ndjson(&input),
    );
    assert_eq!(o.status.code(), Some(3), "{}", support::stderr(&o));
    let rec = &support::records(&o)[0];
    let msg = rec["error"]["message"].as_str().unwrap();
    let Dest::S3 { endpoint, bucket, .. } = &dest else {
        unreachable!()
    };
    assert!(
        msg.contains(&format!("s3://{bucket}/")) && msg.contains(endpoint.as_str()),
        "{msg}"
    );
    // The first request is a HEAD, whose 403 has no body to quote: the status still says it.
    assert!(
        msg.contains("access denied or signature does not match (HTTP 403")
            && msg.contains("check the credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"),
        "{msg}"
    );
    assert_eq!(rec["error"]["retryable"], false);
    let all = format!("{}{}", support::stdout(&o), support::stderr(&o));
    assert!(!all.contains("canary"), "secret leaked: {all}");
    assert!(rec.get("upload").is_none());
    assert!(ls(&dest, &work, true).is_empty());
}

#[test]
fn bad_destinations_are_refused_clearly() {
    let t = TestDir::new();
    let work = t.path("work");
    for (dest, want) in [
        ("ftp://x/y", "use s3://bucket/prefix"),
        ("file://host/dir", "file:///absolute/path"),
        ("s3://Bad_Bucket/p", "invalid bucket name"),
        ("s3://bucket/../x", "invalid prefix"),
    ] {
        let o = support::run(support::cmd(&work).args(["ls", "--dest", dest]), "");
        assert_eq!(o.status.code(), Some(2), "{dest}");
        assert!(support::stderr(&o).contains(want), "{dest}: {}", support::stderr(&o));
    }
    let o = support::run(
        support::cmd(&work)
            .args(["ls", "--dest", "s3://bucket/p", "--s3-endpoint", "http://example.com"])
            .env("AWS_ACCESS_KEY_ID", "k")
            .env("AWS_SECRET_ACCESS_KEY", "s"),
        "",
    );
    assert!(
        support::stderr(&o).contains("refusing plain http://"),
        "{}",
        support::stderr(&o)
    );
    let o = support::run(
        support::cmd(&work)
            .args(["ls", "--dest", "s3://bucket/p", "--s3-endpoint", "http://127.0.0.1:1"])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY"),
        "",
    );
    assert!(
        support::stderr(&o).contains("S3 credentials missing"),
        "{}",
        support::stderr(&o)
    );
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn https_endpoints_are_verified_and_ca_cert_adds_a_private_ca() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    let work = t.path("work");
    let https = std::env::var("WARP_OFFLOAD_TEST_S3_HTTPS_ENDPOINT").expect("scripts/seaweedfs.sh env");
    let ca = std::env::var("WARP_OFFLOAD_TEST_S3_CA").expect("scripts/seaweedfs.sh env");
    let Dest::S3 {
        url,
        bucket,
        prefix,
        access,
        secret,
        ..
    } = dest
    else {
        unreachable!()
    };
    let dest = Dest::S3 {
        url,
        endpoint: https.clone(),
        bucket,
        prefix,
        access,
        secret,
    };
    let o = support::run(&mut dest.cmd(&work, "ls"), "");
    assert_eq!(o.status.code(), Some(1));
    let err = support::stderr(&o);
    assert!(err.contains("UnknownIssuer") || err.contains("certificate"), "{err}");
    assert!(err.contains(&https), "{err}");

    let input = [archived_segment(&work, 1, 1000)];
    let o = support::run(dest.cmd(&work, "upload").args(["--ca-cert", &ca]), &ndjson(&input));
    ok(&o);
    let o = support::run(dest.cmd(&work, "ls").args(["--ca-cert", &ca]), "");
    ok(&o);
    assert_eq!(support::records(&o).len(), 1);
}

/// Real archives: plan → fetch → compress against fake-warp10, 4 segments of 6 h.
fn compressed(t: &TestDir, work: &Path, extra: &[&str]) -> String {
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "2",
        "--days",
        "1",
        "--interval",
        "300s",
        "--seed",
        "5",
        "--start",
        "2024-01-15T00:00:00Z",
    ]);
    let o = support::run(
        support::cmd(work).args([
            "plan",
            "--warp10-url",
            &fake.url,
            "--selector",
            "~os\\..*{}",
            "--start",
            "2024-01-15T00:00:00Z",
            "--end",
            "2024-01-16T00:00:00Z",
            "--segment",
            "6h",
        ]),
        "",
    );
    ok(&o);
    let token = t.secret_file("read.token", READ_TOKEN);
    let o = support::run(
        support::cmd(work).arg("fetch").arg("--read-token-file").arg(token),
        &support::stdout(&o),
    );
    ok(&o);
    let o = support::run(support::cmd(work).arg("compress").args(extra), &support::stdout(&o));
    ok(&o);
    support::stdout(&o)
}

/// upload → verify (remote) → ls; then an object replaced in the store fails verify with exit 4.
fn remote_verify(dest: Dest, t: &TestDir, key: &[&str]) {
    let work = t.path("work");
    let archived = compressed(t, &work, key);
    let o = support::run(&mut dest.cmd(&work, "upload"), &archived);
    ok(&o);
    let o = support::run(dest.cmd_no_dest(&work, "verify").args(key), &support::stdout(&o));
    ok(&o);
    let verified = support::records(&o);
    assert_eq!(verified.len(), 4);
    for r in &verified {
        assert_eq!(r["verify"]["scope"], "remote", "{r}");
        assert_eq!(r["verify"]["points"], r["fetch"]["points"]);
        assert_eq!(r["verify"]["digest"], r["fetch"]["digest"]);
        assert!(r["fetch"]["points"].as_u64().unwrap() > 0);
    }
    let listed = ls(&dest, &work, false);
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0]["encrypted"], !key.is_empty());

    // Already verified: verify reads everything back again all the same.
    let again = support::run(dest.cmd_no_dest(&work, "verify").args(key), &support::stdout(&o));
    ok(&again);
    for (now, before) in support::records(&again).iter().zip(&verified) {
        assert_eq!(now["verify"]["scope"], "remote", "{now}");
        assert_ne!(now["verify"]["at"], before["verify"]["at"], "not read again: {now}");
    }
    // So an object tampered with after its verify fails the verified record with exit 4.
    let victim = verified[0].clone();
    let object = victim["upload"]["key"].as_str().unwrap().to_string();
    let mut bytes = dest.read(&object);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    dest.overwrite(&object, &bytes);
    let o = support::run(
        dest.cmd_no_dest(&work, "verify").args(key),
        &ndjson(std::slice::from_ref(&victim)),
    );
    assert_eq!(o.status.code(), Some(4), "{}", support::stderr(&o));
    let err = &support::records(&o)[0]["error"];
    assert_eq!(err["mismatch"], true, "{err}");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("BLAKE3"), "{err}");
    assert!(
        msg.contains(victim["id"].as_str().unwrap()) && msg.contains(&object),
        "{err}"
    );
}

#[test]
fn upload_verify_ls_through_a_directory() {
    let t = TestDir::new();
    remote_verify(Dest::dir(&t), &t, &[]);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn upload_verify_ls_through_s3() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    remote_verify(dest, &t, &[]);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn encrypted_archives_verify_remotely_with_the_key() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "upload");
    let key = t.secret_file("archive.key", &"ab".repeat(32));
    remote_verify(dest, &t, &["--key-file", key.to_str().unwrap()]);
}

#[test]
fn ls_reports_a_committed_segment_whose_archive_is_gone() {
    let t = TestDir::new();
    let work = t.path("work");
    let dest = Dest::dir(&t);
    let input = [archived_segment(&work, 1, 1000)];
    let o = support::run(&mut dest.cmd(&work, "upload"), &ndjson(&input));
    ok(&o);
    let key = support::records(&o)[0]["upload"]["key"].as_str().unwrap().to_string();
    std::fs::remove_file(t.path("dest").join(key)).unwrap();
    let listed = ls(&dest, &work, false);
    assert_eq!(listed[0]["state"], "missing-data", "{listed:?}");
}
