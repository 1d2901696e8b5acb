//! What the tool reads never widens a delete or redirects a token: a Warp 10 answer cut short
//! the same way every time, records, state files and manifest objects naming another Warp 10,
//! manifest objects replaced or edited in the destination.

use crate::support;

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use support::{FakeWarp10, READ_TOKEN, TestDir, WRITE_TOKEN, cmd, records, run, stderr, stdout};

/// 2 hosts x 10 series, one point a minute for a day: 28,800 points.
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
    "11",
    "--start",
    "2024-01-15T00:00:00Z",
];
const SELECTOR: &str = "~os\\..*{}";
const START: &str = "2024-01-15T00:00:00Z";
const END: &str = "2024-01-16T00:00:00Z";
/// [START, END) in µs, inclusive end.
const RANGE: (i64, i64) = (1_705_276_800_000_000, 1_705_363_199_999_999);

/// `all` over the day, into the directory `dest`, with the work directory `work`.
fn all(t: &TestDir, url: &str, dest: &Path, work: &str, more: &[&str]) -> Output {
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let mut c = cmd(&t.path(work));
    c.args([
        "all",
        "--warp10-url",
        url,
        "--selector",
        SELECTOR,
        "--start",
        START,
        "--end",
        END,
    ])
    .args([
        "--min-age",
        "1h",
        "--lock-settle-ms",
        "1",
        "--retries",
        "1",
        "--settle-timeout",
        "5",
    ])
    .arg("--dest")
    .arg(dest)
    .arg("--read-token-file")
    .arg(read)
    .arg("--write-token-file")
    .arg(write)
    .args(more);
    run(&mut c, "")
}

/// Points and digest of the day on `url`, from a fresh plan and fetch.
fn snapshot(url: &str) -> (u64, String) {
    let t = TestDir::new();
    let fetched = support::fetch(&t, &support::plan(&t, url, SELECTOR, (START, END, "1d")));
    let r: Value = serde_json::from_str(fetched.lines().next().unwrap()).unwrap();
    let f = &r["fetch"];
    (f["points"].as_u64().unwrap(), f["digest"].as_str().unwrap().to_string())
}

/// Restores every archived segment of the day from `dest` into `url`.
fn restore_all(t: &TestDir, dest: &Path, url: &str) -> Output {
    let read = t.secret_file("read.token", READ_TOKEN);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let mut c = cmd(&t.path("restore-work"));
    c.args([
        "restore",
        "--to-warp10",
        url,
        "--selector",
        SELECTOR,
        "--start",
        START,
        "--end",
        END,
    ])
    .arg("--from")
    .arg(dest)
    .arg("--read-token-file")
    .arg(read)
    .arg("--write-token-file")
    .arg(write);
    run(&mut c, "")
}

/// The unfaulted text answer for the day: one line per point.
fn fetch_lines(url: &str) -> Vec<String> {
    ureq::get(&format!("{url}/api/v0/fetch"))
        .header("X-Warp10-Token", READ_TOKEN)
        .query("selector", SELECTOR)
        .query("start", RANGE.0.to_string())
        .query("end", RANGE.1.to_string())
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn points(fake: &FakeWarp10) -> u64 {
    fake.count(SELECTOR, RANGE.0, RANGE.1).1
}

/// A short answer that is the same on every fetch (a proxy closing a close-delimited body, a
/// size limit, a server bug) archives part of the range. Whatever its shape, the purge deletes
/// no point that is not archived, and the run says something is wrong.
#[test]
fn persistent_short_answers_never_delete_unarchived_points() {
    let lines = fetch_lines(&FakeWarp10::start(GENERATED).url);
    let first_series = 1 + lines[1..].iter().position(|l| !l.starts_with('=')).unwrap();
    let cuts = [
        ("inside the first series", first_series / 2),
        ("at a series boundary", first_series),
        ("at 0 bytes", 0),
        ("before the last line", lines.len() - 1),
        ("after 1000 points", 1000),
    ];
    for (shape, after) in cuts {
        let fake = FakeWarp10::start(GENERATED);
        let t = TestDir::new();
        let dest = t.path("dest");
        let before = snapshot(&fake.url);
        assert_eq!(before.0, lines.len() as u64);
        fake.set_faults(&format!(
            r#"{{"fetch_cut":{{"after_points":{after},"mode":"boundary"}}}}"#
        ));
        let o = all(&t, &fake.url, &dest, "work", &["--purge"]);
        fake.set_faults("{}");
        let code = o.status.code();
        assert!(
            matches!(code, Some(3) | Some(4)),
            "{shape}: exit {code:?}: {}",
            stderr(&o)
        );
        let rec = &records(&o)[0];
        let left = points(&fake);
        eprintln!(
            "cut {shape}: exit {code:?}, {left} of {} points left in Warp 10",
            before.0
        );
        if shape == "at a series boundary" {
            // The first series is archived whole and deleted; every other one is left and named.
            assert_eq!(rec["purge"]["state"], "partial", "{shape}: {rec}");
            assert_eq!(rec["purge"]["points"].as_u64().unwrap(), first_series as u64);
            // Named as far as the (cut) windows showed them; none of the others is deleted.
            assert!(!rec["purge"]["not_archived"].as_array().unwrap().is_empty(), "{rec}");
            assert_eq!(left, before.0 - first_series as u64);
        } else {
            assert!(rec["purge"].is_null() || rec["purge"]["points"] == 0, "{shape}: {rec}");
            assert_eq!(left, before.0, "{shape}: nothing deleted");
        }
        // The archives plus what is left equal the original exactly.
        let r = restore_all(&t, &dest, &fake.url);
        assert!(r.status.success(), "{shape}: restore: {}", stderr(&r));
        assert_eq!(snapshot(&fake.url), before, "{shape}");
    }
}

/// Tokens and deletes go only to the Warp 10 named on this run's command line (or environment):
/// records, a state file or a manifest object naming another are refused, never followed.
#[test]
fn tokens_and_deletes_go_only_to_this_runs_warp10() {
    let e = FakeWarp10::start(GENERATED);
    let f = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let dest = t.path("dest");
    let o = all(&t, &e.url, &dest, "work-e", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let verified = stdout(&o);
    let write = t.secret_file("write.token", WRITE_TOKEN);
    let read = t.secret_file("read.token", READ_TOKEN);
    let purge = |records: &str, url: &str| {
        let mut c = cmd(&t.path("work-purge"));
        c.args(["purge", "--warp10-url", url, "--lock-settle-ms", "1", "--dest"])
            .arg(&dest)
            .arg("--read-token-file")
            .arg(&read)
            .arg("--write-token-file")
            .arg(&write);
        run(&mut c, records)
    };
    let (e0, f0) = (points(&e), points(&f));
    let untouched = |what: &str| {
        assert_eq!(points(&e), e0, "{what}: E untouched");
        assert_eq!(points(&f), f0, "{what}: F untouched");
    };

    // Records planned against E, a run against F: refused before any request.
    let o = purge(&verified, &f.url);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = records(&o)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains(&format!("planned against Warp 10 {}", e.url)) && msg.contains(&f.url),
        "{msg}"
    );
    untouched("purge of E's records naming F");
    let o = run(
        cmd(&t.path("work-fetch"))
            .args(["fetch", "--force", "--warp10-url", &f.url, "--read-token-file"])
            .arg(&read),
        &verified,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    // The same records edited to name F: their ids say otherwise.
    let edited = verified.replace(&e.url, &f.url);
    let o = purge(&edited, &f.url);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = records(&o)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("the record was edited"), "{msg}");
    untouched("edited records");

    // A manifest object in the destination rewritten to describe E's segment under F's id: a
    // run against F with a fresh work directory refuses to resume from it.
    let o = all(&t, &f.url, &t.path("dest-f"), "work-f", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f_rec = &records(&o)[0];
    let e_rec: Value = serde_json::from_str(verified.lines().next().unwrap()).unwrap();
    let (e_id, f_id) = (e_rec["id"].as_str().unwrap(), f_rec["id"].as_str().unwrap());
    let planted = t.path("dest-f").join(format!("segments/{f_id}/manifest.json"));
    let e_manifest = std::fs::read_to_string(dest.join(format!("segments/{e_id}/manifest.json"))).unwrap();
    std::fs::write(&planted, e_manifest.replace(e_id, f_id)).unwrap();
    let o = all(&t, &f.url, &t.path("dest-f"), "work-f2", &["--purge"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = records(&o)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("describes another segment") && msg.contains(&e.url),
        "{msg}"
    );
    untouched("a planted manifest object");
}

/// A wrong --warp10-url or --time-unit, fixed and re-run in the same work directory, works: the
/// source is part of the segment id, so the failed attempt is another segment.
#[test]
fn a_fixed_url_or_time_unit_reruns_in_the_same_work_directory() {
    let fake = FakeWarp10::start(GENERATED);
    let t = TestDir::new();
    let dest = t.path("dest");
    let o = all(&t, "http://127.0.0.1:9", &dest, "work", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = all(&t, &fake.url, &dest, "work", &["--time-unit", "ms"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("X-Warp10-Timeunit"), "{}", stderr(&o));
    let o = all(&t, &fake.url, &dest, "work", &["--purge"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(records(&o)[0]["purge"]["state"], "purged");
    assert_eq!(points(&fake), 0);
}

/// `all --force` starts every segment over; once a segment is purged, its archive in the
/// destination is the only copy and is never replaced.
#[test]
fn force_starts_over_but_never_replaces_a_purged_archive() {
    let fake = FakeWarp10::start(GENERATED);
    let before = snapshot(&fake.url);
    let t = TestDir::new();
    let dest = t.path("dest");
    let first = all(&t, &fake.url, &dest, "work", &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let again = all(&t, &fake.url, &dest, "work", &["--force"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let (a, b) = (&records(&first)[0], &records(&again)[0]);
    assert_ne!(a["fetch"]["at"], b["fetch"]["at"], "fetched again");
    assert_eq!(a["archive"]["blake3"], b["archive"]["blake3"]);

    let o = all(&t, &fake.url, &dest, "work", &["--purge"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = dest.join(b["upload"]["key"].as_str().unwrap());
    let archived = std::fs::read(&key).unwrap();
    // New data in the range, then a forced run: its archive would lack the purged points.
    fake.update("1705300000000000// os.cpu{host=new} 1\n");
    let o = all(&t, &fake.url, &dest, "work", &["--force", "--purge"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = records(&o)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("was purged from Warp 10") && msg.contains("not replacing it"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&key).unwrap(), archived, "the archive is untouched");
    assert_eq!(points(&fake), 1, "the new point is not deleted");
    let target = FakeWarp10::start(&[]);
    assert!(restore_all(&t, &dest, &target.url).status.success());
    assert_eq!(snapshot(&target.url), before);
}

/// A destination copied elsewhere, used with a fresh work directory: the committed manifest
/// objects are found there, read back, and the purge completes.
#[test]
fn a_copied_destination_resumes_with_a_fresh_work_directory() {
    let fake = FakeWarp10::start(GENERATED);
    let before = snapshot(&fake.url);
    let t = TestDir::new();
    let o = all(&t, &fake.url, &t.path("dest"), "work", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let copy = t.path("copy");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(t.path("dest"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let o = all(&t, &fake.url, &copy, "fresh-work", &["--purge"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &records(&o)[0];
    assert_eq!(r["purge"]["state"], "purged", "{r}");
    assert!(r["upload"]["dest"].as_str().unwrap().ends_with("/copy"), "{r}");
    assert_eq!(points(&fake), 0);
    let target = FakeWarp10::start(&[]);
    assert!(restore_all(&t, &copy, &target.url).status.success());
    assert_eq!(snapshot(&target.url), before);
}

/// Gate 1 reads the manifest object `restore` will read: replaced by garbage, deleted, copied
/// from another segment or edited, the segment is not purged; the other segment is, and
/// restores.
#[test]
fn purge_reads_back_the_manifest_object_restore_will_read() {
    for what in ["garbage", "deleted", "copied from the other segment", "points - 1"] {
        let fake = FakeWarp10::start(GENERATED);
        let before = snapshot(&fake.url);
        let t = TestDir::new();
        let dest = t.path("dest");
        let o = all(&t, &fake.url, &dest, "work", &["--segment-length", "12h"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let recs = records(&o);
        let mut ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
        ids.sort();
        let manifest = |id: &str| dest.join(format!("segments/{id}/manifest.json"));
        let path = manifest(ids[0]);
        let text = std::fs::read_to_string(&path).unwrap();
        match what {
            "garbage" => std::fs::write(&path, "{\"v\":1,\"id\":\n").unwrap(),
            "deleted" => std::fs::remove_file(&path).unwrap(),
            "copied from the other segment" => std::fs::copy(manifest(ids[1]), &path).map(drop).unwrap(),
            _ => {
                let mut r: Value = serde_json::from_str(&text).unwrap();
                r["fetch"]["points"] = (r["fetch"]["points"].as_u64().unwrap() - 1).into();
                std::fs::write(&path, format!("{r}\n")).unwrap();
            }
        }
        let o = all(&t, &fake.url, &dest, "work", &["--segment-length", "12h", "--purge"]);
        assert_eq!(o.status.code(), Some(4), "{what}: {}", stderr(&o));
        let out = records(&o);
        let bad = out.iter().find(|r| r["id"] == ids[0]).unwrap();
        let good = out.iter().find(|r| r["id"] == ids[1]).unwrap();
        assert_eq!(bad["error"]["mismatch"], true, "{what}: {bad}");
        assert!(bad["purge"].is_null(), "{what}: {bad}");
        assert_eq!(good["purge"]["state"], "purged", "{what}: {good}");
        let first_half = fake.count(SELECTOR, RANGE.0, RANGE.0 + 43_200_000_000 - 1).1;
        assert_eq!(
            first_half,
            bad["fetch"]["points"].as_u64().unwrap(),
            "{what}: not deleted"
        );
        assert_eq!(points(&fake), first_half, "{what}: the good segment is purged");

        // Restore brings the good segment back whatever the bad manifest holds.
        let r = restore_all(&t, &dest, &fake.url);
        let code = r.status.code();
        match what {
            "deleted" => assert_eq!(code, Some(0), "{what}: no manifest, no archive to list"),
            _ => assert!(
                matches!(code, Some(3) | Some(4)),
                "{what}: exit {code:?}: {}",
                stderr(&r)
            ),
        }
        assert_eq!(snapshot(&fake.url), before, "{what}");
    }
}
