//! plan → fetch → compress → upload (to a directory) → restore, against fake-warp10: the restored
//! data fetches back with the original digests, for both codecs, with and without encryption;
//! damaged archives, dropped points and dry runs.

use crate::support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;
use support::{
    Dest, FakeWarp10, KEY_HEX, READ_TOKEN, Range, TestDir, WRITE_TOKEN, archive_to, cmd, fetch, plan, records, run,
    stderr,
};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");

/// Generated data: 2 hosts x 10 series, one point a minute for a day, two 12 h segments.
const GENERATED: &[&str] = &[
    "--generate",
    "infra",
    "--hosts",
    "2",
    "--days",
    "1",
    "--interval",
    "60s",
    "--seed",
    "7",
    "--start",
    "2024-01-15T00:00:00Z",
];
const GEN_SELECTOR: &str = "~os\\..*{}";
const GEN_RANGE: Range = ("2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z", "12h");

/// Every series of edge-cases.gts, four daily segments.
const EDGE_SELECTOR: &str = "~.*{}";
const EDGE_RANGE: Range = ("2024-01-14T00:00:00Z", "2024-01-18T00:00:00Z", "1d");

/// What a fresh fetch of `selector` over `range` from `url` finds: id → (points, digest).
/// Points and digest of each segment of `selector` over `range` on `url`, by segment start (ids
/// differ from one Warp 10 to another).
fn fetched(url: &str, selector: &str, range: Range) -> BTreeMap<String, (u64, String)> {
    let t = TestDir::new();
    let out = fetch(&t, &plan(&t, url, selector, range));
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|r| {
            let f = &r["fetch"];
            (
                r["start"].as_str().unwrap().to_string(),
                (f["points"].as_u64().unwrap(), f["digest"].as_str().unwrap().to_string()),
            )
        })
        .collect()
}

/// Archives `selector` over `range` from `url` into the directory destination `t/dest`;
/// returns the upload records.
fn archive(t: &TestDir, url: &str, selector: &str, range: Range, codec: &str, encrypt: bool) -> Vec<Value> {
    archive_to(t, &Dest::dir(t), url, selector, range, codec, encrypt)
}

/// `restore --dest t/dest` with the test tokens (and the archive key, harmless when unused).
fn restore(t: &TestDir, args: &[&str]) -> Output {
    restore_from(t, &Dest::dir(t), args)
}

fn restore_from(t: &TestDir, dest: &Dest, args: &[&str]) -> Output {
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let read = t.secret_file("read.token", READ_TOKEN);
    let key = t.secret_file("archive.key", KEY_HEX);
    let mut c = dest.cmd_no_dest(t.dir.path(), "restore");
    c.args(["--dest", dest.url()])
        .arg("--write-token-file")
        .arg(write)
        .arg("--read-token-file")
        .arg(read)
        .arg("--key-file")
        .arg(key)
        .args(args);
    run(&mut c, "")
}

fn ids(recs: &[Value]) -> Vec<String> {
    recs.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn segment_args(ids: &[String]) -> Vec<&str> {
    ids.iter().flat_map(|id| ["--segment", id.as_str()]).collect()
}

fn by_id(recs: &[Value]) -> BTreeMap<String, Value> {
    recs.iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn total_points(found: &BTreeMap<String, (u64, String)>) -> u64 {
    found.values().map(|(p, _)| p).sum()
}

/// Archives, restores every segment into an empty fake, and checks the restore records and an
/// independent fetch of the restored data against the original fetch.
fn round_trip(dest: fn(&TestDir) -> Dest, source: &[&str], selector: &str, range: Range, codec: &str, encrypt: bool) {
    let t = TestDir::new();
    let dest = dest(&t);
    let original = FakeWarp10::start(source);
    let uploaded = archive_to(&t, &dest, &original.url, selector, range, codec, encrypt);
    let ids = ids(&uploaded);
    let empty = FakeWarp10::start(&[]);
    let mut args = vec!["--to-warp10", empty.url.as_str()];
    args.extend(segment_args(&ids));
    let o = restore_from(&t, &dest, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let restored = by_id(&records(&o));
    assert_eq!(restored.len(), ids.len());
    for up in &uploaded {
        let r = &restored[up["id"].as_str().unwrap()];
        let (f, rs) = (&up["fetch"], &r["restore"]);
        assert_eq!(rs["to"], empty.url.as_str());
        assert_eq!(rs["points"], f["points"], "{r}");
        assert_eq!(rs["found"], f["points"], "{r}");
        assert_eq!(rs["extra"], 0, "{r}");
        assert_eq!(rs["digest"], f["digest"], "{r}");
        assert_eq!(
            r["upload"], up["upload"],
            "the record is the archived one, plus the restore section"
        );
    }
    let before = fetched(&original.url, selector, range);
    let after = fetched(&empty.url, selector, range);
    assert!(total_points(&before) > 0);
    assert_eq!(after, before, "the restored Warp 10 holds exactly the original points");
}

#[test]
fn generated_data_columnar() {
    round_trip(Dest::dir, GENERATED, GEN_SELECTOR, GEN_RANGE, "columnar", false);
}

#[test]
fn generated_data_gts_zst_encrypted() {
    round_trip(Dest::dir, GENERATED, GEN_SELECTOR, GEN_RANGE, "gts.zst", true);
}

#[test]
fn edge_cases_columnar_encrypted() {
    round_trip(
        Dest::dir,
        &["--load", EDGE],
        EDGE_SELECTOR,
        EDGE_RANGE,
        "columnar",
        true,
    );
}

#[test]
fn edge_cases_gts_zst() {
    round_trip(
        Dest::dir,
        &["--load", EDGE],
        EDGE_SELECTOR,
        EDGE_RANGE,
        "gts.zst",
        false,
    );
}

/// Real data (tests/data/real: NOAA hourly normals, public domain): three series over ten days,
/// one-decimal readings with negative and zero values, restored with the same digests.
#[test]
fn real_noaa_series_columnar() {
    let real = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/real/seattle-hourly.gts");
    let range = ("2010-01-01T00:00:00Z", "2010-01-11T00:00:00Z", "1d");
    round_trip(
        Dest::dir,
        &["--load", real],
        "~noaa.normals.hourly.*{}",
        range,
        "columnar",
        false,
    );
}

/// DOUBLEs whose text Warp 10 could read back with other bits: negative zero (IEEE 754 when
/// written `-0.0E0`; a plain `-0.0` is an exact decimal and is stored as 0.0), exact decimals
/// printed in plain notation, specials, subnormals, extreme exponents, a Java `d` suffix.
const DOUBLES: &str = "\
1705300000000000// fidelity.double{} -0.0E0
=1705300000000001// 0.0
=1705300000000002// 1.50
=1705300000000003// 100.0
=1705300000000004// NaN
=1705300000000005// Infinity
=1705300000000006// -Infinity
=1705300000000007// 4.9E-324
=1705300000000008// -2.5E-310
=1705300000000009// 1.7976931348623157E308
=1705300000000010// 1.0E-300
=1705300000000011// -1.0E300
=1705300000000012// 10000000.0
=1705300000000013// 0.0001
=1705300000000014// -0.0
=1705300000000015// 2.5d
=1705300000000016// -0.0000000000001
";
const DOUBLES_SELECTOR: &str = "fidelity.double{}";
const DOUBLES_RANGE: Range = ("2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z", "1d");

fn doubles_file(t: &TestDir) -> String {
    let path = t.path("doubles.gts");
    std::fs::write(&path, DOUBLES).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn doubles_keep_their_bits_through_both_codecs() {
    let t = TestDir::new();
    let file = doubles_file(&t);
    for codec in ["columnar", "gts.zst"] {
        round_trip(
            Dest::dir,
            &["--load", &file],
            DOUBLES_SELECTOR,
            DOUBLES_RANGE,
            codec,
            false,
        );
    }
}

/// `cat | curl .../update` and `zstd -d < x.gts.zst | curl .../update` give Warp 10 the same
/// points, -0.0 included.
#[test]
fn cat_and_zstd_output_posted_to_update_keep_every_bit() {
    let t = TestDir::new();
    let original = FakeWarp10::start(&["--load", &doubles_file(&t)]);
    let before = fetched(&original.url, DOUBLES_SELECTOR, DOUBLES_RANGE);
    let fetched_recs = fetch(&t, &plan(&t, &original.url, DOUBLES_SELECTOR, DOUBLES_RANGE));
    for codec in ["columnar", "gts.zst"] {
        let compressed = support::stage(&t, &["compress", "--codec", codec, "--force"], &fetched_recs);
        let rec: Value = serde_json::from_str(compressed.lines().next().unwrap()).unwrap();
        let path = t.dir.path().join(rec["archive"]["path"].as_str().unwrap());
        let o = run(cmd(t.dir.path()).arg("cat").arg(&path), "");
        assert!(o.status.success(), "{}", stderr(&o));
        let mut texts = vec![support::stdout(&o)];
        if codec == "gts.zst" {
            let text = zstd::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
            texts.push(String::from_utf8(text).unwrap());
        }
        for text in texts {
            assert!(text.contains(" -0.0E0\n"), "{text}");
            let fresh = FakeWarp10::start(&[]);
            fresh.update(&text);
            assert_eq!(fetched(&fresh.url, DOUBLES_SELECTOR, DOUBLES_RANGE), before, "{codec}");
        }
    }
}

/// `cat --dest D --segment ID` and `cat --dest D KEY` print what `cat FILE` prints of the local
/// archive; an object that is not the one its manifest object describes exits 4.
fn cat_from(dest: fn(&TestDir) -> Dest) {
    let t = TestDir::new();
    let dest = dest(&t);
    let original = FakeWarp10::start(&["--load", EDGE]);
    let uploaded = archive_to(&t, &dest, &original.url, EDGE_SELECTOR, EDGE_RANGE, "columnar", true);
    let key = t.secret_file("archive.key", KEY_HEX);
    let rec = uploaded.iter().max_by_key(|r| r["fetch"]["points"].as_u64()).unwrap();
    let (id, object) = (rec["id"].as_str().unwrap(), rec["upload"]["key"].as_str().unwrap());
    let cat = |args: &[&str]| {
        let mut c = dest.cmd_no_dest(t.dir.path(), "cat");
        c.arg("--key-file").arg(&key).args(args);
        run(&mut c, "")
    };
    let file = t.dir.path().join(rec["archive"]["path"].as_str().unwrap());
    let local = cat(&[file.to_str().unwrap()]);
    assert!(local.status.success(), "{}", stderr(&local));
    assert!(!local.stdout.is_empty());
    for args in [
        &["--dest", dest.url(), "--segment", id][..],
        &["--dest", dest.url(), object],
    ] {
        let o = cat(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(o.stdout == local.stdout, "{args:?} prints another text");
    }

    let o = cat(&["--dest", dest.url(), "--segment", "20240101T000000Z-1d-000000000000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not archived"), "{}", stderr(&o));
    let o = cat(&["--dest", dest.url()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--segment ID"), "{}", stderr(&o));

    // Another archive of the same segment under its key: it decodes, but is not the one committed.
    let other = other_archive(&original.url, id);
    dest.overwrite(object, &other);
    let o = cat(&["--dest", dest.url(), "--segment", id]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("BLAKE3"), "{}", stderr(&o));
}

/// The bytes of a gts.zst archive of segment `id` of the edge cases, encrypted with the same key.
fn other_archive(url: &str, id: &str) -> Vec<u8> {
    let t = TestDir::new();
    let recs = archive_to(&t, &Dest::dir(&t), url, EDGE_SELECTOR, EDGE_RANGE, "gts.zst", true);
    let rec = recs.iter().find(|r| r["id"] == id).unwrap();
    std::fs::read(t.dir.path().join(rec["archive"]["path"].as_str().unwrap())).unwrap()
}

#[test]
fn cat_reads_archives_from_a_directory_destination() {
    cat_from(Dest::dir);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn cat_reads_archives_from_s3() {
    cat_from(|t| Dest::s3(t, "cat"));
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn generated_data_from_s3_encrypted() {
    round_trip(
        |t| Dest::s3(t, "restore"),
        GENERATED,
        GEN_SELECTOR,
        GEN_RANGE,
        "columnar",
        true,
    );
}

#[test]
fn small_bodies_each_start_with_a_full_line() {
    // The fake, like Warp 10, rejects a body starting with a `=` line: success with many small
    // bodies shows every one starts with a full line.
    let original = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, GEN_SELECTOR, GEN_RANGE, "columnar", false);
    let empty = FakeWarp10::start(&[]);
    let ids = ids(&uploaded);
    let mut args = vec!["--to-warp10", empty.url.as_str(), "--max-body", "4KiB"];
    args.extend(segment_args(&ids));
    let o = restore(&t, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    for r in records(&o) {
        let rs = &r["restore"];
        let (bytes, requests) = (rs["bytes"].as_u64().unwrap(), rs["requests"].as_u64().unwrap());
        assert!(requests >= bytes / 4096 && requests > 10, "{rs}");
        assert_eq!(rs["found"], r["fetch"]["points"]);
    }
    assert_eq!(
        fetched(&empty.url, GEN_SELECTOR, GEN_RANGE),
        fetched(&original.url, GEN_SELECTOR, GEN_RANGE)
    );
}

#[test]
fn restoring_over_the_original_data_passes() {
    let original = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, GEN_SELECTOR, GEN_RANGE, "gts.zst", false);
    let before = fetched(&original.url, GEN_SELECTOR, GEN_RANGE);
    // Into the Warp 10 the segments came from, which still holds every point.
    let o = restore(
        &t,
        &[&["--to-warp10", &original.url][..], &segment_args(&ids(&uploaded))].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for r in records(&o) {
        assert_eq!(r["restore"]["to"], original.url.as_str());
        assert_eq!(r["restore"]["found"], r["fetch"]["points"]);
        assert_eq!(r["restore"]["extra"], 0);
        assert_eq!(r["restore"]["digest"], r["fetch"]["digest"]);
    }
    assert_eq!(
        fetched(&original.url, GEN_SELECTOR, GEN_RANGE),
        before,
        "identical points overwrite"
    );
}

#[test]
fn selector_and_window_restore_a_subset_of_every_overlapping_segment() {
    let original = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    archive(&t, &original.url, EDGE_SELECTOR, EDGE_RANGE, "columnar", false);
    let window = ["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-17T00:00:00Z"];
    let empty = FakeWarp10::start(&[]);
    let mut args = vec!["--to-warp10", empty.url.as_str(), "--selector", "edge.days{host=h1}"];
    args.extend(window);
    let o = restore(&t, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 2, "the two daily segments overlapping the window");
    for r in &recs {
        let rs = &r["restore"];
        assert_eq!(rs["filter"], "edge.days{host=h1}");
        // edge.days{host=h1} has a point every 6 hours.
        assert_eq!(
            (rs["points"].as_u64(), rs["found"].as_u64(), rs["extra"].as_u64()),
            (Some(4), Some(4), Some(0))
        );
    }
    let all = fetched(&empty.url, EDGE_SELECTOR, EDGE_RANGE);
    assert_eq!(
        total_points(&all),
        8,
        "nothing outside the selector and window: {all:?}"
    );

    // Into the original, which got a late point after the archive was made: allowed, and
    // counted as extra.
    ureq::post(format!("{}/api/v0/update", original.url))
        .header("X-Warp10-Token", WRITE_TOKEN)
        .send("1705363200000002// edge.days{host=h1} 99\n")
        .expect("late write");
    let o = restore(
        &t,
        &[
            &["--to-warp10", &original.url, "--selector", "edge.days{host=h1}"][..],
            &window,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let extra: BTreeMap<String, u64> = records(&o)
        .iter()
        .map(|r| {
            assert_eq!(r["restore"]["found"], 4);
            (
                r["start"].as_str().unwrap().to_string(),
                r["restore"]["extra"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        extra,
        BTreeMap::from([
            ("2024-01-15T00:00:00Z".to_string(), 0),
            ("2024-01-16T00:00:00Z".to_string(), 1)
        ])
    );
}

#[test]
fn dry_run_sends_nothing_and_needs_no_token() {
    let original = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, GEN_SELECTOR, GEN_RANGE, "columnar", true);
    let empty = FakeWarp10::start(&[]);
    let key = t.secret_file("archive.key", KEY_HEX);
    let mut c = cmd(t.dir.path());
    c.args(["restore", "--dry-run", "--from"])
        .arg(t.path("dest"))
        .arg("--key-file")
        .arg(key)
        .args(["--to-warp10", &empty.url])
        .args(segment_args(&ids(&uploaded)));
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("dry run: would restore to"), "{}", stderr(&o));
    let restored = by_id(&records(&o));
    for up in &uploaded {
        let rs = &restored[up["id"].as_str().unwrap()]["restore"];
        assert_eq!(rs["dry_run"], true);
        assert_eq!(rs["points"], up["fetch"]["points"]);
        assert!(rs["bytes"].as_u64().unwrap() > 0 && rs["requests"].as_u64().unwrap() > 0);
        assert!(rs.get("found").is_none() && rs.get("digest").is_none(), "{rs}");
    }
    assert_eq!(total_points(&fetched(&empty.url, GEN_SELECTOR, GEN_RANGE)), 0);
}

#[test]
fn damaged_or_missing_archives_fail_before_writing() {
    let original = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, EDGE_SELECTOR, EDGE_RANGE, "columnar", false);
    let ids = ids(&uploaded);
    let empty = FakeWarp10::start(&[]);
    let object = |i: usize| t.path("dest").join(uploaded[i]["upload"]["key"].as_str().unwrap());

    let mut bytes = std::fs::read(object(0)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(object(0), bytes).unwrap();
    let o = restore(&t, &["--to-warp10", &empty.url, "--segment", &ids[0]]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = &records(&o)[0]["error"];
    assert_eq!(err["mismatch"], true);
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains(&ids[0]) && msg.contains("BLAKE3"), "{msg}");

    std::fs::remove_file(object(1)).unwrap();
    let o = restore(&t, &["--to-warp10", &empty.url, "--segment", &ids[1]]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = records(&o)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains(&ids[1]) && msg.contains(uploaded[1]["upload"]["key"].as_str().unwrap()),
        "{msg}"
    );

    let o = restore(
        &t,
        &[
            "--to-warp10",
            &empty.url,
            "--segment",
            "20240101T000000Z-1d-000000000000",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("not archived"), "{}", stderr(&o));

    // Encrypted archives need their key; the others still restore.
    assert_eq!(
        total_points(&fetched(&empty.url, EDGE_SELECTOR, EDGE_RANGE)),
        0,
        "nothing was written"
    );
    let o = restore(
        &t,
        &[&["--to-warp10", empty.url.as_str()][..], &segment_args(&ids[2..])].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn points_that_do_not_come_back_fail_with_exit_4() {
    // A write token of another application: Warp 10 forces its .app label, so the restored
    // series are not the archived ones and the check finds none of the archived points.
    let original = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, EDGE_SELECTOR, EDGE_RANGE, "gts.zst", false);
    let other = FakeWarp10::start(&["--app", "another-app"]);
    let o = restore(
        &t,
        &[
            &["--to-warp10", other.url.as_str()][..],
            &segment_args(&ids(&uploaded)[..1]),
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let r = &records(&o)[0];
    let points = uploaded[0]["fetch"]["points"].as_u64().unwrap();
    assert_eq!(r["restore"]["found"], 0);
    assert_eq!(r["restore"]["extra"], points);
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("{points} of {points} archived points are missing")),
        "{msg}"
    );
}

#[test]
fn transient_update_failures_are_retried() {
    let original = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let uploaded = archive(&t, &original.url, GEN_SELECTOR, GEN_RANGE, "columnar", false);
    let flaky = FakeWarp10::start(&["--faults", r#"{"fail_next":{"update":2}}"#]);
    let mut args = vec!["--to-warp10", flaky.url.as_str(), "--jobs", "1"];
    let ids = ids(&uploaded);
    args.extend(segment_args(&ids));
    let o = restore(&t, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("retrying"), "{}", stderr(&o));
    assert_eq!(
        fetched(&flaky.url, GEN_SELECTOR, GEN_RANGE),
        fetched(&original.url, GEN_SELECTOR, GEN_RANGE)
    );
}

#[test]
fn secrets_and_arguments_are_checked_up_front() {
    let t = TestDir::new();
    // Where to write is never taken from the archive's records.
    let mut c = cmd(t.dir.path());
    c.args(["restore", "--from"])
        .arg(t.path("dest"))
        .args(["--segment", "x"]);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--warp10-url"), "{}", stderr(&o));

    let mut c = cmd(t.dir.path());
    c.args(["restore", "--to-warp10", "http://127.0.0.1:1", "--from"])
        .arg(t.path("dest"))
        .args(["--segment", "x"]);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--write-token-file"), "{}", stderr(&o));

    let mut c = cmd(t.dir.path());
    c.args(["restore", "--from", "d", "--write-token", "w", "--segment", "x"]);
    assert_eq!(run(&mut c, "").status.code(), Some(2));

    let mut c = cmd(t.dir.path());
    c.args(["restore", "--from", "d", "--selector", "a{}"]);
    assert_eq!(
        run(&mut c, "").status.code(),
        Some(2),
        "--selector needs --start and --end"
    );

    let file = t.secret_file("x.w10a", "not a destination");
    let mut c = cmd(t.dir.path());
    c.args([
        "restore",
        "--dry-run",
        "--to-warp10",
        "http://127.0.0.1:1",
        "--segment",
        "x",
        "--from",
    ])
    .arg(file);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
}
