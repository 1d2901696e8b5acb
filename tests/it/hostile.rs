//! Hostile input (reference/reliability.md §3.3, rows 5, 28–30, 32–33): manifests, archives and
//! Warp 10 output crafted to break the tool. Every case must end in a clear error naming what
//! and where, the right exit code, no panic, no file outside the work directory, bounded memory.

use crate::support;

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Output, Stdio};
use std::time::Duration;
use support::{FakeWarp10, READ_TOKEN, TestDir, WRITE_TOKEN, cmd, records, run, small_fake, stderr, stdout};

/// plan (one day) → fetch → compress in `t`'s work directory; returns the compressed record.
fn compressed(t: &TestDir, fake: &FakeWarp10) -> Value {
    let token = t.secret_file("read.token", READ_TOKEN);
    let work = t.path("work");
    let plan = run(
        cmd(&work)
            .args(["plan", "--warp10-url", &fake.url, "--selector", "~os\\..*{}"])
            .args(["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-16T00:00:00Z"]),
        "",
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    let fetch = run(
        cmd(&work).arg("fetch").arg("--read-token-file").arg(token),
        &stdout(&plan),
    );
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let o = run(cmd(&work).arg("compress"), &stdout(&fetch));
    assert!(o.status.success(), "{}", stderr(&o));
    records(&o).remove(0)
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn no_panic(o: &Output, what: &str) {
    assert_ne!(o.status.code(), Some(101), "{what}: panicked: {}", stderr(o));
    assert!(!stderr(o).contains("panicked"), "{what}: {}", stderr(o));
}

#[test]
fn hostile_manifests_are_refused_naming_the_line() {
    let t = TestDir::new();
    let work = t.path("work");
    let good = json!({
        "v": 1, "id": "20240115T000000Z-1d-aaaaaaaaaaaa", "selector": "a{}", "start": "2024-01-15T00:00:00Z",
        "end": "2024-01-16T00:00:00Z", "warp10_url": "http://127.0.0.1:9", "time_unit": "us"
    });
    let with = |field: &str, v: Value| {
        let mut r = good.clone();
        r[field] = v;
        r.to_string()
    };
    let cases: Vec<(String, String)> = vec![
        ("truncated".into(), r#"{"v":1,"id":"x","selector":"a{}""#.into()),
        ("unknown version".into(), with("v", json!(2))),
        ("duplicate id".into(), good.to_string()),
        ("unknown field".into(), with("evil", json!(true))),
        ("reversed range".into(), with("end", json!("2024-01-14T00:00:00Z"))),
        ("huge number".into(), with("v", json!(1e30))),
        (
            "huge count".into(),
            good.to_string()
                .replace(r#""v":1"#, r#""v":1,"fetch":{"points":18446744073709551616}"#),
        ),
        ("not json".into(), "\u{1}\u{2}garbage".into()),
        ("id ../x".into(), with("id", json!("../x"))),
        ("id a/b".into(), with("id", json!("a/b"))),
        ("id %2e%2e".into(), with("id", json!("%2e%2e"))),
        ("id ..".into(), with("id", json!(".."))),
        ("id with NUL".into(), with("id", json!("a\u{0}b"))),
        ("id of 10 KB".into(), with("id", json!("a".repeat(10_000)))),
        ("absolute archive path".into(), {
            let mut r = good.clone();
            r["id"] = json!("other");
            r["archive"] = json!({"codec": "wo1", "path": "/etc/passwd", "size": 1, "blake3": "00", "bytes_per_point": 1.0,
                                  "at": "2026-11-27T00:00:00Z"});
            r.to_string()
        }),
    ];
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let dest = t.path("dest");
    for (what, line) in &cases {
        let input = format!("{good}\n{line}\n");
        let stages: [(&str, Vec<&std::ffi::OsStr>); 6] = [
            (
                "fetch",
                vec![
                    "--retries".as_ref(),
                    "1".as_ref(),
                    "--read-token-file".as_ref(),
                    read.as_os_str(),
                ],
            ),
            ("compress", vec![]),
            ("verify", vec![]),
            ("upload", vec!["--dest".as_ref(), dest.as_os_str()]),
            (
                "purge",
                vec![
                    "--dest".as_ref(),
                    dest.as_os_str(),
                    "--read-token-file".as_ref(),
                    read.as_os_str(),
                    "--write-token-file".as_ref(),
                    write.as_os_str(),
                    "--lock-settle-ms".as_ref(),
                    "1".as_ref(),
                ],
            ),
            ("notify", vec!["--dry-run".as_ref()]),
        ];
        for (stage, args) in stages {
            let o = run(cmd(&work).arg(stage).args(args), &input);
            no_panic(&o, what);
            if what == "absolute archive path" {
                // A well-formed record whose archive path points outside: the segment fails.
                continue;
            }
            assert_eq!(o.status.code(), Some(1), "{what} / {stage}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("manifest line 2"),
                "{what} / {stage}: {}",
                stderr(&o)
            );
        }
    }
    for name in ["x", "b", "..", "%2e%2e"] {
        assert!(
            !t.path(name).exists() || name == "..",
            "{name} written outside the work dir"
        );
    }
    // The destination holds at most the good segment's (released) lock directory.
    let outside: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !["work", "dest", "read.token", "write.token"].contains(&n.as_str()))
        .collect();
    assert!(outside.is_empty(), "files outside the work dir: {outside:?}");
    let in_dest: Vec<_> = walk(&dest);
    assert!(
        in_dest
            .iter()
            .all(|p| p.to_string_lossy().contains(good["id"].as_str().unwrap())),
        "{in_dest:?}"
    );
}

#[test]
fn an_archive_path_outside_the_work_dir_fails_the_segment() {
    let fake = small_fake(3);
    let t = TestDir::new();
    let mut r = compressed(&t, &fake);
    for path in ["/etc/passwd", "../outside.w10a", "archive/../../outside.w10a"] {
        r["archive"]["path"] = json!(path);
        let o = run(cmd(&t.path("work")).arg("verify"), &format!("{r}\n"));
        no_panic(&o, path);
        assert!(matches!(o.status.code(), Some(1 | 3)), "{path}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(path) || stdout(&o).contains(path),
            "{path}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn tampered_verified_sections_fail_verify_with_exit_4() {
    let fake = small_fake(3);
    let t = TestDir::new();
    let r = compressed(&t, &fake);
    let tamper = |section: &str, field: &str, v: Value| {
        let mut r = r.clone();
        r[section][field] = v;
        r
    };
    let points = r["fetch"]["points"].as_u64().unwrap();
    let cases = [
        (
            "fetch.digest",
            tamper("fetch", "digest", json!(format!("x3s1:{:032x}", 1))),
        ),
        ("fetch.points", tamper("fetch", "points", json!(points + 1))),
        ("fetch.series", tamper("fetch", "series", json!(1))),
        ("archive.size", tamper("archive", "size", json!(7))),
        ("archive.blake3", tamper("archive", "blake3", json!("00".repeat(32)))),
        ("start", {
            let mut r = tamper("fetch", "points", json!(points));
            r["start"] = json!("2024-01-15T12:00:00Z");
            r
        }),
    ];
    for (what, rec) in cases {
        let o = run(cmd(&t.path("work")).arg("verify"), &format!("{rec}\n"));
        no_panic(&o, what);
        assert_eq!(o.status.code(), Some(4), "{what}: {}", stderr(&o));
        assert_eq!(records(&o)[0]["error"]["mismatch"], true, "{what}");
    }
    let o = run(cmd(&t.path("work")).arg("verify"), &format!("{r}\n"));
    assert!(o.status.success(), "untampered: {}", stderr(&o));
}

#[test]
fn damaged_archives_give_clear_errors_never_panics() {
    let fake = small_fake(3);
    let t = TestDir::new();
    let r = compressed(&t, &fake);
    let work = t.path("work");
    let path = work.join(r["archive"]["path"].as_str().unwrap());
    let original = std::fs::read(&path).unwrap();
    let len = original.len();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [0, 1, 4, 8, 16, 40, len / 2, len - 1] {
        variants.push((format!("truncated to {cut}"), original[..cut].to_vec()));
    }
    for at in [0, 3, 4, 5, 6, 8, 12, 20, 33, len / 2, len - 1] {
        let mut b = original.clone();
        b[at] ^= 0x10;
        variants.push((format!("bit flipped at {at}"), b));
    }
    let mut forged = original.clone();
    forged[4..8].copy_from_slice(&[0xff; 4]);
    variants.push(("forged header".into(), forged));
    let mut garbage = original.clone();
    garbage.extend_from_slice(b"trailing garbage");
    variants.push(("trailing garbage".into(), garbage));
    let id = r["id"].as_str().unwrap();
    for (what, bytes) in variants {
        std::fs::write(&path, &bytes).unwrap();
        // As stored (hash mismatch) and with the record updated to match (the decoder must
        // catch it alone).
        let mut matching = r.clone();
        matching["archive"]["size"] = json!(bytes.len());
        matching["archive"]["blake3"] = json!(blake3::hash(&bytes).to_hex().to_string());
        for rec in [&r, &matching] {
            let o = run(cmd(&work).arg("verify"), &format!("{rec}\n"));
            no_panic(&o, &what);
            assert!(matches!(o.status.code(), Some(3 | 4)), "{what}: {}", stderr(&o));
            assert!(
                records(&o)[0]["error"]["message"].as_str().unwrap().contains(id),
                "{what}"
            );
        }
        let o = run(cmd(&work).arg("cat").arg(&path).args(["--segment-id", id]), "");
        no_panic(&o, &what);
        assert_eq!(o.status.code(), Some(1), "{what}: cat {}", stderr(&o));
        assert!(stderr(&o).len() > 20, "{what}: a message: {}", stderr(&o));
    }
}

/// Runs fetch on `manifest` and returns its output and peak resident memory (VmHWM, kB).
fn fetch_with_peak_rss(t: &TestDir, manifest: &str) -> (Output, u64) {
    let token = t.secret_file("read.token", READ_TOKEN);
    let first: Value = serde_json::from_str(manifest.lines().next().unwrap()).unwrap();
    let mut child = cmd(&t.path("work"))
        .args(["fetch", "--warp10-url", first["warp10_url"].as_str().unwrap()])
        .arg("--read-token-file")
        .arg(token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(manifest.as_bytes()).unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn hostile_fetch_output_fails_the_segment_with_bounded_memory() {
    let fake = small_fake(3);
    let t = TestDir::new();
    let plan = run(
        cmd(&t.path("work"))
            .args(["plan", "--warp10-url", &fake.url, "--selector", "~os\\..*{}"])
            .args(["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-16T00:00:00Z"]),
        "",
    );
    let manifest = stdout(&plan);
    let huge = format!("1705300000000000// huge{{}} '{}'\n", "x".repeat(10 << 20));
    let cases = [
        ("10 MB line", huge.as_str(), "longer than"),
        ("NUL byte", "1705300000000000// nul{} 'a\u{0}b'\n", "line "),
        (
            "invalid UTF-8 (escaped)",
            "1705300000000000// bad{} '%FF%FE'\n",
            "line ",
        ),
        ("invalid UTF-8 in a label", "1705300000000000// bad{k=%C3} 1\n", "line "),
        ("bad percent-escape", "1705300000000000// bad{} '%Z1'\n", "line "),
        ("NUL in a class", "1705300000000000// n\u{0}ul{} 1\n", "line "),
    ];
    for (what, append, cause) in cases {
        let resp = ureq::post(&format!("{}/admin/faults", fake.url))
            .send(json!({ "fetch_append": append }).to_string())
            .unwrap();
        assert_eq!(resp.status(), 200);
        let (o, peak_kb) = fetch_with_peak_rss(&t, &manifest);
        no_panic(&o, what);
        assert_eq!(o.status.code(), Some(3), "{what}: {}", stderr(&o));
        let r = &records(&o)[0];
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains(cause), "{what}: {msg}");
        assert!(r.get("fetch").is_none());
        eprintln!("{what}: peak RSS {peak_kb} kB");
        assert!(peak_kb < 64 * 1024, "{what}: peak RSS {peak_kb} kB");
    }
}
