//! plan → fetch → compress → verify → upload → verify (remote) → purge against fake-warp10: what
//! is deleted, what survives, and every gate that refuses (late writes, new series, unverified or
//! altered archives, cut deletes, budgets, disabled deletes, missing secrets).

use crate::support;

use serde_json::Value;
use std::process::Output;
use support::{Dest, FakeWarp10, READ_TOKEN, Range, TestDir, WRITE_TOKEN, records, run, stage, stderr};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");
const KEY_HEX: &str = "8f2c6a1d9e0b4f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b";

/// Day boundaries of edge-cases.gts, in microseconds.
const D15: i64 = 1_705_276_800_000_000;
const D16: i64 = 1_705_363_200_000_000;
const D17: i64 = 1_705_449_600_000_000;

const DAY16: Range = ("2024-01-16T00:00:00Z", "2024-01-17T00:00:00Z", "1d");
const DAYS15_16: Range = ("2024-01-15T00:00:00Z", "2024-01-17T00:00:00Z", "1d");
const ALL: &str = "~.*{}";
/// Two series (h1, h2) with four points a day each.
const DAYS: &str = "edge.days{}";

/// Points of `selector` in the inclusive range `[lo, hi]` (µs), as the fake holds them now.
fn count(fake: &FakeWarp10, selector: &str, lo: i64, hi: i64) -> u64 {
    fake.count(selector, lo, hi).1
}

/// Points of `selector` at any time.
fn total(fake: &FakeWarp10, selector: &str) -> u64 {
    count(fake, selector, i64::MIN, i64::MAX)
}

fn ndjson(recs: &[Value]) -> String {
    recs.iter().map(|r| format!("{r}\n")).collect()
}

/// plan → fetch → compress → verify → upload → verify (remote) of `selector` over `range`;
/// `key` (`--key-file F` or nothing) goes to compress and both verifies. Records by start time.
fn archive(t: &TestDir, dest: &Dest, url: &str, selector: &str, range: Range, key: &[&str]) -> Vec<Value> {
    let fetched = support::fetch(t, &support::plan(t, url, selector, range));
    let compressed = stage(t, &[&["compress"][..], key].concat(), &fetched);
    let verified = stage(t, &[&["verify"][..], key].concat(), &compressed);
    let o = run(&mut dest.cmd(t.dir.path(), "upload"), &verified);
    assert!(o.status.success(), "upload: {}", stderr(&o));
    let o = run(dest.cmd_no_dest(t.dir.path(), "verify").args(key), &support::stdout(&o));
    assert!(o.status.success(), "verify: {}", stderr(&o));
    let mut recs = records(&o);
    recs.sort_by_key(|r| r["start"].as_str().unwrap().to_string());
    for r in &recs {
        assert_eq!(r["verify"]["scope"], "remote", "{r}");
    }
    recs
}

/// `purge --dest` with both test tokens, short settle times (delete, lock) and `extra` flags.
fn purge(t: &TestDir, dest: &Dest, recs: &[Value], extra: &[&str]) -> Output {
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let mut c = dest.cmd(t.dir.path(), "purge");
    c.arg("--read-token-file")
        .arg(read)
        .arg("--write-token-file")
        .arg(write)
        .args(["--settle-timeout", "5", "--lock-settle-ms", "50"])
        .args(extra);
    run(&mut c, &ndjson(recs))
}

/// Neither token appears in a command's output (records, logs, errors).
fn no_secrets(o: &Output) {
    let all = format!("{}{}", support::stdout(o), stderr(o));
    assert!(!all.contains(READ_TOKEN) && !all.contains(WRITE_TOKEN), "{all}");
}

fn error_of(r: &Value) -> &str {
    r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {r}"))
}

/// What `jq 'del(.error)'` does, as notify's retry command.
fn without_error(r: &Value) -> Value {
    let mut r = r.clone();
    r.as_object_mut().unwrap().remove("error");
    r
}

/// (a) Exactly `[start, end)` goes: the points 1 µs before the start and at the end stay.
fn purges_exactly_the_archived_range(dest: fn(&TestDir) -> Dest) {
    let t = TestDir::new();
    let dest = dest(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    // edge.boundary already has points at D16 - 1 µs, D16 and D16 + 1 µs.
    fake.update(&format!(
        "{}// edge.boundary{{kind=boundary}} 'last'\n{D17}// edge.boundary{{kind=boundary}} 'end'\n",
        D17 - 1
    ));
    let before = total(&fake, ALL);
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &[]);
    let archived = recs[0]["fetch"]["points"].as_u64().unwrap();
    assert_eq!(archived, count(&fake, ALL, D16, D17 - 1));

    let o = purge(&t, &dest, &recs, &["-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    no_secrets(&o);
    let out = records(&o);
    let p = &out[0]["purge"];
    assert_eq!(p["state"], "purged", "{}", out[0]);
    assert_eq!(p["points"], archived);
    assert!(out[0].get("error").is_none());
    assert_eq!(count(&fake, ALL, D16, D17 - 1), 0, "the range reads back empty");
    let boundary = "edge.boundary{}";
    assert_eq!(count(&fake, boundary, D16 - 1, D16 - 1), 1, "start - 1 µs survives");
    assert_eq!(count(&fake, boundary, D17, D17), 1, "end survives");
    assert_eq!(
        total(&fake, ALL),
        before - archived,
        "nothing outside the range is touched"
    );
    let fetched = support::fetch(&TestDir::new(), &support::plan(&t, &fake.url, ALL, DAY16));
    assert_eq!(
        serde_json::from_str::<Value>(fetched.trim()).unwrap()["fetch"]["points"],
        0
    );

    // The archive stays in the destination, the segment lock is gone, and a second purge is a
    // no-op.
    let id = out[0]["id"].as_str().unwrap();
    assert!(!dest.exists(&format!("locks/{id}.lock")));
    let key = out[0]["upload"]["key"].as_str().unwrap();
    let object = dest.read(key);
    assert_eq!(
        blake3::hash(&object).to_hex().as_str(),
        out[0]["upload"]["blake3"].as_str().unwrap()
    );
    let again = purge(&t, &dest, &out, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(records(&again), out);
}

#[test]
fn purge_deletes_exactly_the_archived_range() {
    purges_exactly_the_archived_range(Dest::dir);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn purge_deletes_exactly_the_archived_range_from_s3() {
    purges_exactly_the_archived_range(|t| Dest::s3(t, "purge"));
}

/// A live lock of another run (another host) keeps purge off the segment.
#[test]
fn a_segment_locked_by_another_run_is_not_purged() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &[]);
    let before = total(&fake, ALL);
    let id = recs[0]["id"].as_str().unwrap();
    let lock = format!("locks/{id}.lock");
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(600);
    dest.overwrite(
        &lock,
        serde_json::json!({"owner": "other-host:1:abcdef", "expires": expires})
            .to_string()
            .as_bytes(),
    );
    let o = purge(&t, &dest, &recs, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert!(r.get("purge").is_none(), "{r}");
    assert!(
        error_of(r).contains("is locked by other-host:1:abcdef"),
        "{}",
        error_of(r)
    );
    assert_eq!(total(&fake, ALL), before, "nothing deleted");
    assert!(dest.exists(&lock), "another run's lock is left alone");
}

/// (b) A point written into a segment after its fetch stops that segment only.
#[test]
fn a_late_write_stops_its_segment_and_not_the_others() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAYS15_16, &[]);
    let late = D16 + 7_000_000_000;
    fake.update(&format!("{late}// edge.days{{host=h1}} 42\n"));
    let day16 = count(&fake, ALL, D16, D17 - 1);
    assert_eq!(day16, recs[1]["fetch"]["points"].as_u64().unwrap() + 1);

    let o = purge(&t, &dest, &recs, &["--retries", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = records(&o);
    let (r15, r16) = by_start(&out);
    assert_eq!(r15["purge"]["state"], "purged", "{r15}");
    assert!(r16.get("purge").is_none(), "{r16}");
    let msg = error_of(r16);
    assert!(
        msg.contains("Warp 10 and the archive differ") && msg.contains(r16["id"].as_str().unwrap()),
        "{msg}"
    );
    assert_eq!(r16["error"]["stage"], "purge");
    assert_eq!(count(&fake, ALL, D15, D16 - 1), 0);
    assert_eq!(count(&fake, ALL, D16, D17 - 1), day16, "every point of day 16 survives");
    assert_eq!(count(&fake, "edge.days{host=h1}", late, late), 1);
}

/// The day-15 and day-16 records of a two-day run.
fn by_start(recs: &[Value]) -> (&Value, &Value) {
    let find = |day: &str| {
        recs.iter()
            .find(|r| r["start"] == day)
            .unwrap_or_else(|| panic!("no segment starting {day}"))
    };
    (find("2024-01-15T00:00:00Z"), find("2024-01-16T00:00:00Z"))
}

/// (c) The selector also matches series with more labels. The rule: the dry run lists every
/// series matching the selector, even those with no point in the range (Warp 10 does), so an
/// unarchived series in the listing is allowed when it has no point in the range, and stops the
/// purge when it has some.
#[test]
fn a_new_series_with_more_labels_stops_the_purge_only_if_it_has_points_in_the_range() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let selector = "edge.days{host=h1}";
    let recs = archive(&t, &dest, &fake.url, selector, DAYS15_16, &[]);
    let stray = "edge.days{host=h1,rack=r9}";
    let at = D16 + 3_600_000_000;
    fake.update(&format!("{at}// {stray} 1\n"));

    let o = purge(&t, &dest, &recs, &["--retries", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = records(&o);
    let (r15, r16) = by_start(&out);
    // Day 15: the new series is reached by h1's exact selector but empty there, so it is no
    // obstacle; only the archived series is named as deleted.
    assert_eq!(r15["purge"]["state"], "purged", "{r15}");
    let listed: Vec<&str> = r15["purge"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(listed, ["=edge.days{.app=warp-offload-fake,host=h1}"]);
    // Day 16: it has a point there that is not archived, so h1's exact delete, which would
    // reach it, is not sent: the segment is partial.
    assert_eq!(r16["purge"]["state"], "partial", "{r16}");
    assert!(r16["purge"]["series"].as_array().unwrap().is_empty(), "{r16}");
    let left = r16["purge"]["not_archived"].to_string();
    assert!(
        left.contains("rack=r9") && left.contains("has 1 points in the range"),
        "{left}"
    );
    assert!(
        error_of(r16).contains("not archived by this segment"),
        "{}",
        error_of(r16)
    );
    assert_eq!(count(&fake, "edge.days{host=h1}", D15, D16 - 1), 0);
    assert_eq!(count(&fake, "edge.days{host=h1}", D16, D17 - 1), 4 + 1);
    assert_eq!(total(&fake, stray), 1, "the new series is untouched");
    assert_eq!(count(&fake, "edge.days{host=h2}", D15, D17), 8, "h2 is not selected");
}

/// (d) Only segments verified in the destination are purged, and gate 1 reads the archive back
/// whatever the record says.
#[test]
fn unverified_or_altered_archives_are_refused() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, ALL);
    let compressed = stage(
        &t,
        &["compress"],
        &support::fetch(&t, &support::plan(&t, &fake.url, ALL, DAY16)),
    );
    let verified_locally = stage(&t, &["verify"], &compressed);
    let upload = |input: &str| {
        let o = run(&mut dest.cmd(t.dir.path(), "upload"), input);
        assert!(o.status.success(), "upload: {}", stderr(&o));
        records(&o).remove(0)
    };
    let never_verified = upload(&compressed);
    let local = upload(&verified_locally);
    assert!(never_verified.get("verify").is_none());
    assert_eq!(local["verify"]["scope"], "local");
    for r in [&never_verified, &local] {
        let o = purge(&t, &dest, std::slice::from_ref(r), &[]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let msg = error_of(&records(&o)[0]).to_string();
        assert!(msg.contains("not verified in the destination"), "{msg}");
        assert_eq!(total(&fake, ALL), before, "nothing deleted");
    }

    let mut edited = local.clone();
    edited["verify"]["scope"] = "remote".into();
    let key = edited["upload"]["key"].as_str().unwrap();
    let mut bytes = dest.read(key);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    dest.overwrite(key, &bytes);
    let o = purge(&t, &dest, &[edited], &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert_eq!(r["error"]["mismatch"], true, "{r}");
    assert!(error_of(r).contains("BLAKE3"), "{}", error_of(r));
    assert_eq!(total(&fake, ALL), before, "nothing deleted");
}

/// (e) A delete cut after its first series: `purge-unknown`, then completed by a re-run.
fn cut_delete(fake: &FakeWarp10, t: &TestDir, dest: &Dest) -> Value {
    let recs = archive(t, dest, &fake.url, DAYS, DAY16, &[]);
    assert_eq!(recs[0]["fetch"]["series"], 2);
    fake.set_faults(r#"{"delete_abort_after":1}"#);
    let o = purge(t, dest, &recs, &["--retries", "1"]);
    fake.set_faults("{}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = records(&o).remove(0);
    assert_eq!(r["purge"]["state"], "purge-unknown", "{r}");
    assert!(error_of(&r).contains("cut"), "{}", error_of(&r));
    // h1 is gone from the range, h2 is still there.
    assert_eq!(count(fake, "edge.days{host=h1}", D16, D17 - 1), 0);
    assert_eq!(count(fake, "edge.days{host=h2}", D16, D17 - 1), 4);
    r
}

#[test]
fn a_cut_delete_is_purge_unknown_and_a_rerun_completes_it() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, DAYS);
    let r = cut_delete(&fake, &t, &dest);

    // With its error the record passes through untouched.
    let o = purge(&t, &dest, std::slice::from_ref(&r), &[]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(records(&o)[0], r);
    assert_eq!(count(&fake, "edge.days{host=h2}", D16, D17 - 1), 4);

    let o = purge(&t, &dest, &[without_error(&r)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let done = &records(&o)[0];
    assert_eq!(done["purge"]["state"], "purged", "{done}");
    assert!(done.get("error").is_none());
    assert_eq!(count(&fake, DAYS, D16, D17 - 1), 0);
    assert_eq!(total(&fake, DAYS), before - 8, "nothing outside the range is touched");
}

#[test]
fn a_write_between_the_cut_and_the_rerun_stops_the_rerun() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let r = cut_delete(&fake, &t, &dest);
    let late = D16 + 5_000_000;
    fake.update(&format!("{late}// edge.days{{host=h1}} 7\n"));
    let o = purge(&t, &dest, &[without_error(&r)], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = &records(&o)[0];
    assert_eq!(out["purge"]["state"], "purge-unknown");
    let msg = error_of(out);
    assert!(
        msg.contains("1 of the 5 points left in the range of the archived series are not in the archive"),
        "{msg}"
    );
    assert_eq!(count(&fake, "edge.days{host=h1}", D16, D17 - 1), 1);
    assert_eq!(count(&fake, "edge.days{host=h2}", D16, D17 - 1), 4);
}

/// A failure after the delete was sent (here the read-back of the emptied range) leaves the
/// segment `purge-unknown` too: a plain error would send the re-run down the normal path, where
/// the emptied range no longer equals the archive.
#[test]
fn a_failure_after_the_delete_is_purge_unknown_and_a_rerun_completes_it() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, DAYS);
    let recs = archive(&t, &dest, &fake.url, DAYS, DAY16, &[]);
    // Each delete line waits 400 ms: time to make the fetches after the delete fail.
    fake.set_faults(r#"{"chunk_latency_ms":400}"#);
    let o = std::thread::scope(|s| {
        let purging = s.spawn(|| purge(&t, &dest, &recs, &["--retries", "1"]));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while count(&fake, "edge.days{host=h1}", D16, D17 - 1) > 0 {
            assert!(std::time::Instant::now() < deadline, "the delete never started");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        fake.set_faults(r#"{"fail_next":{"fetch":10}}"#);
        purging.join().unwrap()
    });
    fake.set_faults("{}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = records(&o).remove(0);
    assert_eq!(r["purge"]["state"], "purge-unknown", "{r}");
    assert!(error_of(&r).contains("500"), "{}", error_of(&r));
    assert_eq!(count(&fake, DAYS, D16, D17 - 1), 0, "the delete went through");

    let o = purge(&t, &dest, &[without_error(&r)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["purge"]["state"], "purged");
    assert_eq!(count(&fake, DAYS, D16, D17 - 1), 0);
    assert_eq!(total(&fake, DAYS), before - 8, "nothing outside the range is touched");
}

/// A range emptied behind the tool's back (by hand, or by a run whose record was lost) is
/// recorded purged without a delete: the delete would find nothing, and gate 2 cannot match.
#[test]
fn an_already_empty_range_is_recorded_purged_without_a_delete() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, DAYS);
    let recs = archive(&t, &dest, &fake.url, DAYS, DAY16, &[]);
    ureq::get(format!("{}/api/v0/delete", fake.url))
        .query("selector", DAYS)
        .query("start", D16.to_string())
        .query("end", (D17 - 1).to_string())
        .header("X-Warp10-Token", WRITE_TOKEN)
        .call()
        .expect("delete by hand")
        .body_mut()
        .read_to_string()
        .expect("the whole delete listing");
    // Delete would fail if purge sent one.
    fake.set_faults(r#"{"delete_disabled":"config"}"#);
    let o = purge(&t, &dest, &recs, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = &records(&o)[0]["purge"];
    assert_eq!(p["state"], "purged");
    assert_eq!(p["points"], 0);
    assert_eq!(total(&fake, DAYS), before - 8);
}

/// (f) The budget is for the whole run: the segment that would exceed it is refused, whole.
#[test]
fn delete_budgets_are_per_run() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAYS15_16, &[]);
    let (r15, r16) = by_start(&recs);
    let (p15, p16) = (
        r15["fetch"]["points"].as_u64().unwrap(),
        r16["fetch"]["points"].as_u64().unwrap(),
    );
    let day15 = count(&fake, ALL, D15, D16 - 1);

    // Day 16 first (--jobs 1 keeps the order): it fits, day 15 would not.
    let budget = (p15 + p16 - 1).to_string();
    let input = [r16.clone(), r15.clone()];
    let o = purge(&t, &dest, &input, &["--jobs", "1", "--max-delete-points", &budget]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = records(&o);
    assert_eq!(out[0]["purge"]["state"], "purged", "{}", out[0]);
    assert!(out[1].get("purge").is_none());
    let msg = error_of(&out[1]);
    assert!(
        msg.contains(&format!(
            "would exceed --max-delete-points {budget} ({p16} already this run)"
        )),
        "{msg}"
    );
    assert_eq!(count(&fake, ALL, D15, D16 - 1), day15, "day 15 is intact");
    assert_eq!(count(&fake, ALL, D16, D17 - 1), 0);

    // A new run, a new budget: day 15 alone fits exactly.
    let o = purge(
        &t,
        &dest,
        &[without_error(&out[1])],
        &["--max-delete-points", &p15.to_string()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["purge"]["state"], "purged");
    assert_eq!(count(&fake, ALL, D15, D16 - 1), 0);
}

#[test]
fn the_series_budget_counts_every_series_deleted() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAYS15_16, &[]);
    let before = total(&fake, ALL);
    // Every series of the file matches ~.*{}; each is deleted, by its own selector, from the
    // days where it has points: 16 series on day 15, 3 on day 16.
    let o = purge(
        &t,
        &dest,
        &recs,
        &["--jobs", "1", "--max-delete-series", "18", "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = records(&o);
    assert_eq!(out[0]["purge"]["state"], "dry-run");
    assert_eq!(out[0]["purge"]["series"].as_array().unwrap().len(), 16);
    let msg = error_of(&out[1]);
    assert!(
        msg.contains("deleting 3 more series would exceed --max-delete-series 18 (16 already this run)"),
        "{msg}"
    );
    let o = purge(&t, &dest, &recs, &["--max-delete-series", "2"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(records(&o).iter().all(|r| r.get("purge").is_none()));
    assert_eq!(total(&fake, ALL), before, "nothing deleted");
    let o = purge(&t, &dest, &recs, &["--max-delete-series", "19"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(count(&fake, ALL, D15, D17 - 1), 0);
}

/// (g) A dry run checks every gate, lists the series and deletes nothing.
#[test]
fn dry_run_lists_and_deletes_nothing_then_the_real_purge_works() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &[]);
    let before = total(&fake, ALL);
    let o = purge(&t, &dest, &recs, &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dry = records(&o);
    let p = &dry[0]["purge"];
    assert_eq!(p["state"], "dry-run", "{}", dry[0]);
    assert_eq!(p["points"], recs[0]["fetch"]["points"]);
    let series = p["series"].as_array().unwrap();
    // The series that have points on day 16, each by its exact selector: the selector matches
    // 16, the others have no point that day and are left alone.
    assert_eq!(series.len(), 3, "the archived series: {p}");
    assert!(series.contains(&Value::from("=edge.boundary{.app=warp-offload-fake,kind=boundary}")));
    assert!(series.contains(&Value::from("=edge.days{.app=warp-offload-fake,host=h1}")));
    assert_eq!(total(&fake, ALL), before);

    let o = purge(&t, &dest, &dry, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let done = &records(&o)[0];
    assert_eq!(done["purge"]["state"], "purged");
    assert_eq!(done["purge"]["series"], p["series"]);
    assert_eq!(count(&fake, ALL, D16, D17 - 1), 0);
    assert_eq!(total(&fake, ALL), before - recs[0]["fetch"]["points"].as_u64().unwrap());
}

/// (h) A Warp 10 with delete turned off (400 by configuration, 403 by the manager).
#[test]
fn disabled_delete_purges_nothing_and_says_why() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &[]);
    let before = total(&fake, ALL);
    // The fake's error bodies are not Jetty's (warp10-api.md appendix A): only the status counts.
    for (mode, status) in [("config", "HTTP 400"), ("manager", "HTTP 403")] {
        fake.set_faults(&format!(r#"{{"delete_disabled":"{mode}"}}"#));
        let o = purge(&t, &dest, &recs, &["--retries", "1"]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        no_secrets(&o);
        let r = &records(&o)[0];
        assert!(r.get("purge").is_none(), "{r}");
        let msg = error_of(r);
        assert!(
            msg.contains("dry-run delete") && msg.contains("/api/v0/delete") && msg.contains(status),
            "{msg}"
        );
        assert_eq!(r["error"]["retryable"], false);
        assert_eq!(total(&fake, ALL), before, "data intact");
    }
}

/// (i) Without a write token nothing starts.
#[test]
fn a_missing_write_token_is_an_error_before_anything() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &[]);
    let before = total(&fake, ALL);
    let read = t.secret_file("read.token", READ_TOKEN);
    let mut c = dest.cmd(t.dir.path(), "purge");
    c.arg("--read-token-file").arg(read);
    let o = run(&mut c, &ndjson(&recs));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--write-token-file") && err.contains("WARP10_WRITE_TOKEN"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(total(&fake, ALL), before);
}

/// (j) Encrypted archives are read back with the key; without it, nothing is deleted.
#[test]
fn encrypted_archives_purge_with_the_key_only() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let key = t.secret_file("archive.key", KEY_HEX);
    let key_args = ["--key-file", key.to_str().unwrap()];
    let recs = archive(&t, &dest, &fake.url, ALL, DAY16, &key_args);
    assert!(recs[0]["archive"]["key_id"].is_string());
    let before = total(&fake, ALL);

    let o = purge(&t, &dest, &recs, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = error_of(&records(&o)[0]).to_string();
    assert!(msg.contains("--key-file"), "{msg}");
    assert_eq!(total(&fake, ALL), before);

    let o = purge(&t, &dest, &recs, &key_args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["purge"]["state"], "purged");
    assert_eq!(count(&fake, ALL, D16, D17 - 1), 0);
    assert_eq!(total(&fake, ALL), before - recs[0]["fetch"]["points"].as_u64().unwrap());
}

/// A purge killed after a partial delete saved no state: re-running it on the record it was
/// given (not yet purge-unknown) sees fewer points than archived, checks that every one left is
/// archived, and completes.
#[test]
fn a_rerun_after_a_partial_delete_without_saved_state_completes_it() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, DAYS);
    let recs = archive(&t, &dest, &fake.url, DAYS, DAY16, &[]);
    fake.set_faults(r#"{"delete_abort_after":1}"#);
    let _ = purge(&t, &dest, &recs, &["--retries", "1"]);
    fake.set_faults("{}");
    assert_eq!(
        count(&fake, "edge.days{host=h2}", D16, D17 - 1),
        4,
        "the first run deleted one series only"
    );
    let o = purge(&t, &dest, &recs, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["purge"]["state"], "purged");
    assert_eq!(count(&fake, DAYS, D16, D17 - 1), 0);
    assert_eq!(total(&fake, DAYS), before - 8, "nothing outside the range is touched");
}

/// Read and write tokens of different scopes (reference §9.7): a series the read token cannot
/// see is neither fetched nor archived, yet the write token's delete would reach it. The
/// dry-run listing is compared with what `find` shows the read token, and the purge refused.
#[test]
fn a_series_outside_the_read_tokens_scope_stops_the_purge() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    fake.set_faults(r#"{"read_scope_hides": "edge.days{host=h2}"}"#);
    let recs = archive(&t, &dest, &fake.url, DAYS, DAY16, &[]);
    assert_eq!(recs[0]["fetch"]["series"], 1, "the read token sees h1 only");
    let hidden = count(&fake, "edge.days{host=h2}", D16, D17 - 1);
    let o = purge(&t, &dest, &recs, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = error_of(&records(&o)[0]).to_string();
    assert!(msg.contains("read token cannot see") && msg.contains("h2"), "{msg}");
    fake.set_faults("{}");
    assert_eq!(
        count(&fake, "edge.days{host=h2}", D16, D17 - 1),
        hidden,
        "the unarchived series is intact"
    );
    assert_eq!(
        count(&fake, "edge.days{host=h1}", D16, D17 - 1),
        4,
        "nothing was deleted"
    );
}

/// A delete listing that trickles (one byte every 300 ms) fails in bounded time, names the
/// request, and nothing is deleted (it is the dry run's listing that is too slow).
#[test]
fn a_trickling_delete_fails_within_bounded_time() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let before = total(&fake, DAYS);
    let recs = archive(&t, &dest, &fake.url, DAYS, DAY16, &[]);
    fake.set_faults(r#"{"trickle_ms":{"delete":300}}"#);
    let started = std::time::Instant::now();
    let o = purge(&t, &dest, &recs, &["--retries", "1", "--timeout", "2"]);
    let took = started.elapsed();
    fake.set_faults("{}");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = records(&o).remove(0);
    let msg = error_of(&r);
    assert!(
        msg.contains("/api/v0/delete on http://127.0.0.1") && msg.contains("too slow"),
        "{msg}"
    );
    assert!(took < std::time::Duration::from_secs(6), "a 2 s limit took {took:?}");
    assert_eq!(total(&fake, DAYS), before, "nothing was deleted");
}
