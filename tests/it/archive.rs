//! plan → fetch (fake-warp10) → compress → verify → cat: lossless round trips in both codecs,
//! with and without encryption, idempotency, and tampering caught with exit code 4.

use crate::support;

use serde_json::Value;
use std::process::Output;
use support::{FakeWarp10, READ_TOKEN, TestDir, cmd, records, run, stderr, stdout};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");

/// Fetched records (one per day) of the edge-case data: every value type, specials, geo and
/// elevation on some points, Unicode and reserved characters in names.
fn fetched(t: &TestDir) -> String {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let mut c = cmd(t.dir.path());
    c.args(["plan", "--warp10-url", &fake.url, "--selector", "~.*{}"])
        .args([
            "--start",
            "2024-01-14T00:00:00Z",
            "--end",
            "2024-01-18T00:00:00Z",
            "--segment",
            "1d",
        ]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "plan: {}", stderr(&o));
    let token = t.secret_file("read.token", READ_TOKEN);
    let mut c = cmd(t.dir.path());
    c.args(["fetch", "--read-token-file"]).arg(token);
    let o = run(&mut c, &stdout(&o));
    assert!(o.status.success(), "fetch: {}", stderr(&o));
    let out = stdout(&o);
    assert!(
        records(&o).iter().any(|r| r["fetch"]["points"].as_u64() > Some(20)),
        "{out}"
    );
    out
}

fn stage(t: &TestDir, args: &[&str], input: &str) -> Output {
    run(cmd(t.dir.path()).args(args), input)
}

fn cat(t: &TestDir, archive: &str, extra: &[&str]) -> Output {
    let mut c = cmd(t.dir.path());
    c.arg("cat").arg(t.dir.path().join(archive)).args(extra);
    run(&mut c, "")
}

fn spool(t: &TestDir, r: &Value) -> String {
    std::fs::read_to_string(t.dir.path().join(r["fetch"]["spool"].as_str().unwrap())).unwrap()
}

/// Fetch text as `cat` writes it for `/update`: -0.0 as `-0.0E0`, so that Warp 10 does not read it
/// as an exact decimal, which has no sign.
fn as_written(fetched: &str) -> String {
    fetched.replace(" -0.0\n", " -0.0E0\n")
}

#[test]
fn columnar_round_trip_compress_verify_cat() {
    let t = TestDir::new();
    let input = fetched(&t);
    let o = stage(&t, &["compress"], &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let compressed = records(&o);
    for r in &compressed {
        let a = &r["archive"];
        assert_eq!(a["codec"], "columnar");
        assert!(a["path"].as_str().unwrap().ends_with(".w10a"));
        let bytes = std::fs::read(t.dir.path().join(a["path"].as_str().unwrap())).unwrap();
        assert_eq!(a["size"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(a["blake3"].as_str().unwrap(), blake3::hash(&bytes).to_hex().as_str());
        assert!(a.get("key_id").is_none());
        assert!(!spool(&t, r).is_empty(), "the spool is kept by default");
        // Same series, same points, same order as Warp 10 sent them.
        let o = cat(&t, a["path"].as_str().unwrap(), &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), as_written(&spool(&t, r)), "cat of {}", r["id"]);
    }

    let o = stage(&t, &["verify"], &stdout(&o));
    assert!(o.status.success(), "{}", stderr(&o));
    for r in records(&o) {
        assert_eq!(r["verify"]["scope"], "local");
        assert_eq!(r["verify"]["points"], r["fetch"]["points"]);
        assert_eq!(r["verify"]["digest"], r["fetch"]["digest"]);
    }

    let again = stage(&t, &["compress"], &stdout(&o));
    assert!(again.status.success());
    assert_eq!(
        records(&again),
        records(&o),
        "compress is a no-op on compressed segments"
    );
    let forced = stage(&t, &["compress", "--force", "--level", "9"], &stdout(&o));
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(
        records(&forced)
            .iter()
            .all(|r| r.get("verify").is_none() && r["archive"].is_object())
    );
}

#[test]
fn gts_zst_is_plain_zstd_of_the_text_and_encryption_round_trips() {
    let t = TestDir::new();
    let input = fetched(&t);
    let o = stage(&t, &["compress", "--codec", "gts.zst", "--remove-spool"], &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = stdout(&o);
    for r in records(&o) {
        let path = t.dir.path().join(r["archive"]["path"].as_str().unwrap());
        assert!(path.to_str().unwrap().ends_with(".gts.zst"));
        assert!(
            !t.dir.path().join(r["fetch"]["spool"].as_str().unwrap()).exists(),
            "--remove-spool"
        );
        let text = zstd::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
        let o = cat(&t, r["archive"]["path"].as_str().unwrap(), &[]);
        assert_eq!(String::from_utf8(text).unwrap(), stdout(&o));
        let full = cat(&t, r["archive"]["path"].as_str().unwrap(), &["--format", "fulltext"]);
        assert!(stdout(&full).lines().all(|l| !l.starts_with('=')));
        assert_eq!(stdout(&full).lines().count(), stdout(&o).lines().count());
    }
    let o = stage(&t, &["verify"], &plain);
    assert!(o.status.success(), "{}", stderr(&o));

    // Encrypted columnar from the same spools (fetch again: the spools were removed).
    let t = TestDir::new();
    let input = fetched(&t);
    let key = t.secret_file("archive.key", &"ab".repeat(32));
    let key = key.to_str().unwrap();
    let o = stage(&t, &["compress", "--key-file", key], &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    let r = recs.iter().max_by_key(|r| r["fetch"]["points"].as_u64()).unwrap();
    let key_id = r["archive"]["key_id"].as_str().unwrap();
    assert!(
        key_id.len() >= 16 && key_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{r}"
    );
    let archive = r["archive"]["path"].as_str().unwrap();
    assert!(std::fs::read(t.dir.path().join(archive)).unwrap().starts_with(b"W10E"));
    let o2 = cat(&t, archive, &["--key-file", key]);
    assert!(o2.status.success(), "{}", stderr(&o2));
    assert_eq!(stdout(&o2), as_written(&spool(&t, r)));
    let no_key = cat(&t, archive, &[]);
    assert_eq!(no_key.status.code(), Some(1));
    assert!(stderr(&no_key).contains("encrypted"), "{}", stderr(&no_key));
    let wrong_id = cat(&t, archive, &["--key-file", key, "--segment-id", "other"]);
    assert!(!wrong_id.status.success());

    let o3 = stage(&t, &["verify", "--key-file", key], &stdout(&o));
    assert!(o3.status.success(), "{}", stderr(&o3));
    let o4 = stage(&t, &["verify"], &stdout(&o));
    assert_eq!(o4.status.code(), Some(3), "no key: a failure, not a mismatch");
}

#[test]
fn tampered_archive_fails_verify_with_exit_4_naming_the_segment() {
    let t = TestDir::new();
    let o = stage(&t, &["compress"], &fetched(&t));
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    let victim = recs.iter().max_by_key(|r| r["fetch"]["points"].as_u64()).unwrap();
    let path = t.dir.path().join(victim["archive"]["path"].as_str().unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    let o = stage(&t, &["verify"], &stdout(&o));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let id = victim["id"].as_str().unwrap();
    for r in records(&o) {
        if r["id"] == id {
            assert_eq!(r["error"]["mismatch"], true);
            assert_eq!(r["error"]["stage"], "verify");
            assert!(r["error"]["message"].as_str().unwrap().contains(id), "{r}");
        } else {
            assert!(r["verify"].is_object(), "{r}");
        }
    }
    assert!(stderr(&o).contains(id));
}

#[test]
fn a_segment_without_fetch_or_spool_fails_alone() {
    let t = TestDir::new();
    let input = fetched(&t);
    let recs: Vec<Value> = input.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let gone = recs.iter().find(|r| r["fetch"]["points"].as_u64() > Some(0)).unwrap();
    std::fs::remove_file(t.dir.path().join(gone["fetch"]["spool"].as_str().unwrap())).unwrap();
    let o = stage(&t, &["compress"], &input);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = records(&o);
    assert_eq!(out.len(), recs.len());
    for r in &out {
        if r["id"] == gone["id"] {
            assert_eq!(r["error"]["stage"], "compress");
            assert!(r["error"]["message"].as_str().unwrap().contains("spool"), "{r}");
            assert!(r.get("archive").is_none());
        } else {
            assert!(r["archive"].is_object(), "{r}");
        }
    }
}

#[test]
fn cat_needs_a_segment_id_it_can_trust() {
    let t = TestDir::new();
    std::fs::write(t.path("data.bin"), b"W10A").unwrap();
    let o = cat(&t, "data.bin", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("give --segment"), "{}", stderr(&o));
    let o = cat(&t, "data.bin", &["--segment-id", "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("truncated") || stderr(&o).contains("shorter"),
        "{}",
        stderr(&o)
    );
}

/// The digest is recorded in work directories and manifest objects: a change to how it is
/// computed would make every earlier archive fail verification. Pinned from the build before
/// the digest was computed in batches (every value type, geo, elevation).
#[test]
fn the_digests_of_the_edge_cases_are_the_ones_earlier_versions_recorded() {
    let t = TestDir::new();
    let mut got: Vec<(String, u64, String)> = fetched(&t)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|r| {
            let f = &r["fetch"];
            let day = r["start"].as_str().unwrap()[..10].to_string();
            (
                day,
                f["points"].as_u64().unwrap(),
                f["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("2024-01-14", 8, "x3s1:a634f6caff232a8dd0fa1ddce935a7d7"),
        ("2024-01-15", 53, "x3s1:bdfb2048acc13626594913dfe1020103"),
        ("2024-01-16", 10, "x3s1:42a70b0d59144b85f412bab6a95221fb"),
        ("2024-01-17", 8, "x3s1:0dc50b756bd7b84507b84e3f08545701"),
    ]
    .map(|(d, n, h)| (d.to_string(), n, h.to_string()));
    assert_eq!(got, want);
}

/// `bench-codec` (scripts/bench.sh's measuring tool) reports a lossless round trip with the
/// input's point count, with the median and with `--best`, and refuses text it cannot parse.
#[test]
fn bench_codec_measures_a_lossless_round_trip() {
    let t = TestDir::new();
    let mut text = String::new();
    for (s, class) in ["cpu", "bytes"].iter().enumerate() {
        text += &format!("1700000000000000// {class}{{host=a}} 1\n");
        for i in 1..1500i64 {
            let ts = 1_700_000_000_000_000 - i * 10_000_000 + i % 7;
            match s {
                0 => text += &format!("={ts}// {}.{:03}\n", i % 97, i % 1000),
                _ => text += &format!("={ts}// {}\n", 1_000_000_000 - i * 4096),
            }
        }
    }
    let file = t.dir.path().join("in.txt");
    std::fs::write(&file, &text).unwrap();
    for extra in [&[][..], &["--best"], &["--codec", "gts.zst"]] {
        let o = run(
            cmd(t.dir.path())
                .arg("bench-codec")
                .args(["--repeat", "3"])
                .args(extra)
                .arg(&file),
            "",
        );
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(
            (r["points"].as_u64(), r["series"].as_u64()),
            (Some(3000), Some(2)),
            "{r}"
        );
        assert_eq!(r["lossless"], true, "{r}");
        assert!(r["decode_mpts_per_core"].as_f64() > Some(0.0), "{r}");
    }
    std::fs::write(&file, "=1// 1\nnot a line\n").unwrap();
    let o = run(cmd(t.dir.path()).arg("bench-codec").arg(&file), "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}
