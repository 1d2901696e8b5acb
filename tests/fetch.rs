//! plan → fetch against fake-warp10: counts, digests, boundaries, and strict failures.

mod support;

use serde_json::Value;
use support::{FakeWarp10, READ_TOKEN, TestDir, cmd, records, run, stderr};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");

fn plan(t: &TestDir, url: &str, selector: &str, start: &str, end: &str, segment: &str) -> String {
    let mut c = cmd(t.dir.path());
    c.args([
        "plan",
        "--warp10-url",
        url,
        "--selector",
        selector,
        "--start",
        start,
        "--end",
        end,
        "--segment",
        segment,
    ]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "plan: {}", stderr(&o));
    support::stdout(&o)
}

fn fetch(t: &TestDir, manifest: &str, extra: &[&str]) -> std::process::Output {
    let token = t.secret_file("read.token", READ_TOKEN);
    let mut c = cmd(t.dir.path());
    c.args(["fetch", "--read-token-file"]).arg(token).args(extra);
    run(&mut c, manifest)
}

fn total(recs: &[Value], field: &str) -> u64 {
    recs.iter().map(|r| r["fetch"][field].as_u64().unwrap()).sum()
}

#[test]
fn generated_data_splits_into_segments_without_loss() {
    let fake = FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "3",
        "--days",
        "2",
        "--interval",
        "60s",
        "--seed",
        "7",
        "--start",
        "2024-01-15T00:00:00Z",
    ]);
    let t = TestDir::new();
    let daily = plan(
        &t,
        &fake.url,
        "~os\\..*{}",
        "2024-01-15T00:00:00Z",
        "2024-01-17T00:00:00Z",
        "1d",
    );
    let o = fetch(&t, &daily, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let days = records(&o);
    assert_eq!(days.len(), 2);
    let whole = plan(
        &t,
        &fake.url,
        "~os\\..*{}",
        "2024-01-15T00:00:00Z",
        "2024-01-17T00:00:00Z",
        "2d",
    );
    let two = records(&fetch(&t, &whole, &[]));
    assert_eq!(
        total(&days, "points"),
        total(&two, "points"),
        "the two days hold every point once"
    );
    // 3 hosts x 10 series x 2 days at 60 s, minus the generator's ~0.05 % drops.
    let points = total(&two, "points");
    assert!((17_200..=17_280).contains(&points), "{points}");
    assert_eq!(two[0]["fetch"]["series"], 30);
    for r in &days {
        let spool = t.dir.path().join(r["fetch"]["spool"].as_str().unwrap());
        let text = std::fs::read_to_string(&spool).unwrap();
        assert_eq!(text.lines().count() as u64, r["fetch"]["points"].as_u64().unwrap());
    }

    let o = fetch(&t, &support::stdout(&o), &[]);
    assert!(o.status.success());
    assert_eq!(records(&o), days, "re-running fetch on fetched records is a no-op");
}

#[test]
fn edge_cases_round_the_day_boundary() {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let t = TestDir::new();
    let manifest = plan(
        &t,
        &fake.url,
        "~.*{}",
        "2024-01-14T00:00:00Z",
        "2024-01-18T00:00:00Z",
        "1d",
    );
    let o = fetch(&t, &manifest, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    let loaded = std::fs::read_to_string(EDGE)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count() as u64;
    assert_eq!(
        total(&recs, "points"),
        loaded,
        "every loaded point fetched exactly once"
    );
    let spools: String = recs
        .iter()
        .map(|r| std::fs::read_to_string(t.dir.path().join(r["fetch"]["spool"].as_str().unwrap())).unwrap())
        .collect();
    for ts in ["1705363199999999/", "1705363200000000/", "1705363200000001/"] {
        let hits = spools
            .lines()
            .filter(|l| l.trim_start_matches('=').starts_with(ts))
            .count();
        assert_eq!(hits, 1, "boundary point {ts} lands in exactly one segment");
    }
    let day16 = recs.iter().find(|r| r["start"] == "2024-01-16T00:00:00Z").unwrap();
    let text = std::fs::read_to_string(t.dir.path().join(day16["fetch"]["spool"].as_str().unwrap())).unwrap();
    assert!(
        text.lines()
            .any(|l| l.trim_start_matches('=').starts_with("1705363200000000/"))
    );
    assert!(
        !text.contains("1705363199999999/"),
        "the point 1 µs before midnight belongs to the day before"
    );
}
