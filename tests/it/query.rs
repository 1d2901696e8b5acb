//! `query` over a destination, compared point for point with what the fake Warp 10 serves for
//! the same selector and window (the data the archives were made from): every value type,
//! regex and label selectors, windows cutting segments, the three output formats; indexed
//! columnar archives, plain or encrypted (ranged reads, on a directory and on SeaweedFS), and
//! archives read whole (encrypted gts.zst).

use crate::support::{Dest, FakeWarp10, READ_TOKEN, Range, TestDir, archive_to, run, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");
const EDGE_RANGE: Range = ("2024-01-14T00:00:00Z", "2024-01-18T00:00:00Z", "1d");

const SELECTORS: &[&str] = &[
    "~.*{}",
    "~edge\\..*{kind~(double|string|mixed|geo|binary)}",
    "edge.days{host=h2}",
    "~edge.d.*{host~h.*}",
    "=%3Dequals{}",
    "~temp.*{citt%C3%A0=Z%C3%BCrich%20%E2%82%AC}",
    "edge.emptylabel{empty=}",
    "~edge.*{.app=not-the-app}",
    "nothing{}",
];

/// Half-open windows: all of it, one cutting three daily segments, one around the day boundary
/// cutting series in the middle.
const WINDOWS: &[(&str, &str)] = &[
    ("2024-01-14T00:00:00Z", "2024-01-18T00:00:00Z"),
    ("2024-01-15T12:00:00Z", "2024-01-17T04:00:00Z"),
    ("2024-01-15T23:58:20.000002Z", "2024-01-16T00:00:00.000001Z"),
];

fn micros(t: &str) -> i64 {
    (t.parse::<jiff::Timestamp>().unwrap().as_nanosecond() / 1000) as i64
}

/// What the fake Warp 10 answers to a fetch of the inclusive window `[start, end - 1]`.
fn warp10_fetch(fake: &FakeWarp10, selector: &str, (start, end): (&str, &str), format: &str) -> String {
    ureq::get(&format!("{}/api/v0/fetch", fake.url))
        .header("X-Warp10-Token", READ_TOKEN)
        .query("selector", selector)
        .query("start", micros(start).to_string())
        .query("end", (micros(end) - 1).to_string())
        .query("format", format)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

fn query(t: &TestDir, dest: &Dest, args: &[&str]) -> Output {
    let key = t.secret_file("archive.key", crate::support::KEY_HEX);
    let mut c = dest.cmd_no_dest(t.dir.path(), "query");
    c.args(["--from", dest.url(), "--key-file"]).arg(key).args(args);
    run(&mut c, "")
}

/// Output as series → their lines (text, fulltext) or points (json), in output order within a
/// series; series order is unspecified in Warp 10.
fn by_series(format: &str, out: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if format == "json" {
        // Warp 10 prints NaN and infinities raw, which is not JSON.
        let fixed = out
            .replace(",NaN]", ",\"NaN\"]")
            .replace(",Infinity]", ",\"Infinity\"]")
            .replace(",-Infinity]", ",\"-Infinity\"]");
        let v: Value = serde_json::from_str(&fixed).unwrap_or_else(|e| panic!("{e}: {out}"));
        for s in v.as_array().unwrap() {
            let name = format!("{} {}", s["c"], s["l"]);
            assert!(
                map.insert(name.clone(), vec![s["v"].to_string()]).is_none(),
                "{name} twice"
            );
        }
        return map;
    }
    let mut current = String::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if line.starts_with('=') {
            assert_eq!(format, "text", "{line}");
            map.get_mut(&current).unwrap().push(line.to_string());
        } else {
            current = fields[1].to_string();
            let lines = map.entry(current.clone()).or_default();
            assert!(format == "fulltext" || lines.is_empty(), "{current} printed twice");
            lines.push(format!("{} {}", fields[0], fields[2]));
        }
    }
    map
}

fn assert_same_as_warp10(t: &TestDir, fake: &FakeWarp10, dest: &Dest, formats: &[&str]) {
    for &selector in SELECTORS {
        for &window in WINDOWS {
            for &format in formats {
                let o = query(
                    t,
                    dest,
                    &[
                        "--selector",
                        selector,
                        "--start",
                        window.0,
                        "--end",
                        window.1,
                        "--format",
                        format,
                    ],
                );
                assert!(o.status.success(), "{selector} {window:?}: {}", stderr(&o));
                let expected = warp10_fetch(fake, selector, window, format);
                assert_eq!(
                    by_series(format, &stdout(&o)),
                    by_series(format, &expected),
                    "{} {selector} {window:?} {format}",
                    dest.url()
                );
                if selector == "nothing{}" {
                    assert_eq!(stdout(&o), if format == "json" { "[]" } else { "" });
                }
            }
        }
    }
}

#[test]
fn query_prints_what_warp10_fetch_printed_in_every_format() {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    archive_to(&t, &dest, &fake.url, "~.*{}", EDGE_RANGE, "columnar", false);
    assert_same_as_warp10(&t, &fake, &dest, &["text", "fulltext", "json"]);
}

#[test]
fn query_reads_encrypted_columnar_archives_through_their_chunks() {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    archive_to(&t, &dest, &fake.url, "~.*{}", EDGE_RANGE, "columnar", true);
    assert_same_as_warp10(&t, &fake, &dest, &["text", "json"]);
    let o = query(
        &t,
        &dest,
        &[
            "-vv",
            "--selector",
            "edge.days{}",
            "--start",
            WINDOWS[1].0,
            "--end",
            WINDOWS[1].1,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("of 1 blocks by the index").count(),
        3,
        "{}",
        stderr(&o)
    );
}

#[test]
fn query_reads_encrypted_and_gts_zst_archives_whole() {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    archive_to(&t, &dest, &fake.url, "~.*{}", EDGE_RANGE, "gts.zst", true);
    assert_same_as_warp10(&t, &fake, &dest, &["text"]);
    // Without the key, an encrypted archive is an error naming the flag, not an empty answer.
    let mut c = dest.cmd_no_dest(t.dir.path(), "query");
    c.env_remove("WARP_OFFLOAD_KEY_FILE").args([
        "--from",
        dest.url(),
        "--selector",
        "~.*{}",
        "--start",
        WINDOWS[0].0,
        "--end",
        WINDOWS[0].1,
    ]);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--key-file"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn query_over_s3_uses_ranged_reads() {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let dest = Dest::s3(&t, "query");
    archive_to(&t, &dest, &fake.url, "~.*{}", EDGE_RANGE, "columnar", false);
    assert_same_as_warp10(&t, &fake, &dest, &["text"]);
}

#[test]
fn bad_queries_are_usage_errors() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    std::fs::create_dir_all(dest.url()).unwrap();
    for (args, needle) in [
        (
            ["--selector", "nobraces", "--start", "now-1d", "--end", "now"],
            "--selector",
        ),
        (
            ["--selector", "a{b~(}", "--start", "now-1d", "--end", "now"],
            "regular expression",
        ),
        (["--selector", "a{}", "--start", "now", "--end", "now-1d"], "not after"),
    ] {
        let o = query(&t, &dest, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

/// One series over six hours of a day archived as one segment of a few blocks (1,000 series,
/// a point every 30 s): the query reads the footer, the index and one block, not the segment.
/// (The full-scale figure, 30 days x 10,000 series, comes from scripts/bench-query.sh.)
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn one_series_query_reads_a_fraction_of_the_archive_from_s3() {
    let t = TestDir::new();
    let dest = Dest::s3(&t, "query-bytes");
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "100",
        "--days",
        "1",
        "--interval",
        "30s",
    ]);
    let range = ("2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z", "1d");
    let uploaded = archive_to(&t, &dest, &fake.url, "~os\\..*{}", range, "columnar", false);
    let archived: u64 = uploaded.iter().map(|r| r["upload"]["size"].as_u64().unwrap()).sum();
    let selector = "os.cpu.usage_user{host~.*-0042\\..*}";
    let window = ("2024-01-15T06:00:00Z", "2024-01-15T12:00:00Z");
    let o = query(
        &t,
        &dest,
        &[
            "--log-format",
            "json",
            "--selector",
            selector,
            "--start",
            window.0,
            "--end",
            window.1,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = warp10_fetch(&fake, selector, window, "text");
    assert_eq!(stdout(&o), expected);
    assert_eq!(expected.lines().count(), 6 * 120, "one series, a point every 30 s");
    let log: Value = stderr(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["stage"] == "query")
        .unwrap();
    let read = log["bytes_read"].as_u64().unwrap();
    assert_eq!(log["archived_bytes"].as_u64(), Some(archived));
    eprintln!("read {read} of {archived} archived bytes");
    assert!(
        read > 0 && read * 100 < archived * 45,
        "read {read} of {archived} bytes"
    );
}
