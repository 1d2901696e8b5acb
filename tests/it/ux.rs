//! What a new user trips over (issue 11): typos that used to exit 0 in silence, selectors and
//! tokens Warp 10 refuses, exit codes, records reformatted by jq, dry runs that wrote.

use crate::support;

use support::{Range, TestDir, cmd, run, stderr};

/// Two 6-hour segments on the day `small_fake` fills, and the first one alone.
const TWO_SEGMENTS: Range = ("2024-01-15T00:00:00Z", "2024-01-15T12:00:00Z", "6h");
const ONE_SEGMENT: Range = ("2024-01-15T00:00:00Z", "2024-01-15T06:00:00Z", "6h");

#[test]
fn a_mistyped_s3_url_is_refused_not_made_a_directory() {
    let t = TestDir::new();
    for dest in ["s3:/bucket/prefix", "s3:bucket", "S3:/b", "file:/tmp/x"] {
        let mut c = cmd(t.dir.path());
        c.current_dir(t.dir.path()).args(["upload", "--dest", dest]);
        let o = run(&mut c, "");
        assert_eq!(o.status.code(), Some(2), "{dest}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("looks like a mistyped URL"),
            "{dest}: {}",
            stderr(&o)
        );
    }
    let left: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing is created: {left:?}");
    // The escape the message offers works: a directory whose name has a colon.
    let mut c = cmd(t.dir.path());
    c.current_dir(t.dir.path()).args(["upload", "--dest", "./s3:dir"]);
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_stage_given_no_records_says_so() {
    let t = TestDir::new();
    let o = run(cmd(t.dir.path()).args(["compress"]), "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no records on stdin: compress reads the records of plan"),
        "{}",
        stderr(&o)
    );
    // notify too, and it still gives its summary.
    let o = run(
        cmd(t.dir.path())
            .args(["notify"])
            .env_remove("SLACK_WEBHOOK_URL")
            .env_remove("WARP_OFFLOAD_WEBHOOK_URL"),
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no records on stdin: notify reads the records of plan or of an earlier stage"),
        "{err}"
    );
    assert!(err.contains("0 segments: 0 ok, 0 failed, 0 skipped"), "{err}");
}

#[test]
fn a_selector_matching_nothing_is_warned_per_segment_and_summed_up() {
    let t = TestDir::new();
    let fake = support::small_fake(2);
    let manifest = support::plan(&t, &fake.url, "nosuch.class{}", TWO_SEGMENTS);
    let o = support::fetch_output(&t, &manifest, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(
        err.matches("selector nosuch.class{} matched no point").count(),
        2,
        "{err}"
    );
    assert!(
        err.contains("2 segment(s) fetched no point: check the selectors"),
        "{err}"
    );
    // Data found: no warning.
    let manifest = support::plan(&t, &fake.url, "~.*{}", ONE_SEGMENT);
    let o = support::fetch_output(&t, &manifest, &["--force"]);
    assert!(!stderr(&o).contains("no point"), "{}", stderr(&o));
}

#[test]
fn a_malformed_selector_fails_the_plan_before_any_request() {
    let t = TestDir::new();
    for (sel, why) in [
        ("os.cpu{host=web", "must look like class{labels}"),
        ("os.cpu", "has no '{'"),
        ("os.cpu{host}", "label \"host\" needs = or ~"),
    ] {
        let o = run(
            cmd(t.dir.path()).args([
                "plan",
                "--warp10-url",
                "http://127.0.0.1:9",
                "--selector",
                sel,
                "--start",
                "2024-01-15T00:00:00Z",
                "--end",
                "2024-01-16T00:00:00Z",
            ]),
            "",
        );
        assert_eq!(o.status.code(), Some(2), "{sel}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{sel}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn warp10_refusals_show_its_reason_and_the_token_to_check() {
    let t = TestDir::new();
    let fake = support::small_fake(1);
    let range = ONE_SEGMENT;
    // A selector of the right shape whose regex Warp 10 refuses: 400 and its text.
    let manifest = support::plan(&t, &fake.url, "~os.*{host~[}", range);
    let o = support::fetch_output(&t, &manifest, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("answered HTTP 400 Bad Request: "), "{err}");
    assert!(err.contains("regular expression"), "{err}");
    // A wrong read token: 403, Warp 10's text and which token to check.
    let manifest = support::plan(&t, &fake.url, "~.*{}", range);
    let wrong = t.secret_file("wrong.token", "not-the-token");
    let mut c = cmd(t.dir.path());
    c.args(["fetch", "--read-token-file"]).arg(&wrong);
    let o = run(&mut c, &manifest);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("answered HTTP 403 Forbidden: Missing or invalid token. (check the read token: --read-token-file or WARP10_READ_TOKEN)"),
        "{err}"
    );
}

/// The rule of the README's exit codes: a failure that belongs to a segment is 3 (its record
/// says why, a re-run retries it), one that stops the run is 1, a command line that cannot run
/// as written is 2.
#[test]
fn exit_codes_follow_one_rule() {
    let t = TestDir::new();
    let closed = "http://127.0.0.1:9";
    // Unreachable Warp 10: plan works offline (warns), every segment then fails: 3, records out.
    let manifest = support::plan(&t, closed, "a{}", TWO_SEGMENTS);
    let o = support::fetch_output(&t, &manifest, &["--retries", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let recs = support::records(&o);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["error"]["retryable"] == true), "{recs:?}");
    let read = t.secret_file("read.token", support::READ_TOKEN);
    let dest = t.path("dest");
    let mut c = cmd(&t.path("work"));
    c.args([
        "all",
        "--warp10-url",
        closed,
        "--selector",
        "a{}",
        "--start",
        "2024-01-15T00:00:00Z",
    ])
    .args([
        "--end",
        "2024-01-15T12:00:00Z",
        "--segment-length",
        "6h",
        "--retries",
        "1",
    ])
    .arg("--read-token-file")
    .arg(&read)
    .arg("--dest")
    .arg(&dest);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(support::records(&o).len(), 2);
    // Split planning needs Warp 10 before any segment exists: the run stopped, 1.
    let o = run(
        cmd(t.dir.path())
            .args([
                "plan",
                "--warp10-url",
                closed,
                "--selector",
                "a{}",
                "--split-by",
                "series",
            ])
            .args([
                "--start",
                "2024-01-15T00:00:00Z",
                "--end",
                "2024-01-16T00:00:00Z",
                "--retries",
                "1",
            ])
            .arg("--read-token-file")
            .arg(&read),
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Values that do not parse or contradict each other: 2, whichever flag.
    for (flag, value, why) in [
        ("--start", "yesterday", "--start: invalid time \"yesterday\""),
        ("--start", "2024-01-17T00:00:00Z", "is after --end"),
        ("--min-age", "1y", "--min-age: invalid duration"),
        ("--max-clock-skew", "soon", "--max-clock-skew: invalid duration"),
    ] {
        let mut args = vec!["plan", "--warp10-url", closed, "--selector", "a{}"];
        args.extend(["--start", "2024-01-15T00:00:00Z", "--end", "2024-01-16T00:00:00Z"]);
        let pos = args.iter().position(|a| *a == flag);
        match pos {
            Some(i) => args[i + 1] = value,
            None => args.extend([flag, value]),
        }
        let o = run(cmd(t.dir.path()).args(&args), "");
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{flag} {value}: {}", stderr(&o));
    }
}

#[test]
fn pretty_printed_records_get_the_jq_c_hint() {
    let t = TestDir::new();
    let fake = support::small_fake(1);
    let manifest = support::plan(&t, &fake.url, "~.*{}", ONE_SEGMENT);
    let rec: serde_json::Value = serde_json::from_str(manifest.lines().next().unwrap()).unwrap();
    let pretty = format!("{}\n", serde_json::to_string_pretty(&rec).unwrap());
    let array = format!("[{}]\n", manifest.trim());
    for input in [pretty, array] {
        let o = run(cmd(t.dir.path()).arg("compress"), &input);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "manifest line 1: pretty-printed JSON or an array: records are one JSON object per line (use jq -c)"
            ),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn restore_reads_segment_ids_from_ls_on_stdin() {
    let t = TestDir::new();
    let fake = support::small_fake(1);
    let manifest = support::plan(&t, &fake.url, "~.*{}", TWO_SEGMENTS);
    let fetched = support::fetch(&t, &manifest);
    let compressed = support::stage(&t, &["compress"], &fetched);
    let dest = t.path("dest");
    let dest = dest.to_str().unwrap();
    support::stage(&t, &["upload", "--dest", dest], &compressed);
    let listed = support::stage(&t, &["ls", "--dest", dest], "");
    assert_eq!(listed.lines().count(), 2);
    let first_id = serde_json::from_str::<serde_json::Value>(listed.lines().next().unwrap()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // ls lines, records and bare ids all name segments.
    for input in [listed.clone(), compressed.clone(), format!("{first_id}\n\n")] {
        let mut c = cmd(t.dir.path());
        c.args([
            "restore",
            "--dry-run",
            "--to-warp10",
            &fake.url,
            "--from",
            dest,
            "--segment",
            "-",
        ]);
        let o = run(&mut c, &input);
        assert!(o.status.success(), "{}", stderr(&o));
        let ids: Vec<String> = support::records(&o)
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let want = input.lines().filter(|l| !l.is_empty()).count();
        assert_eq!(ids.len(), want, "{input}");
        assert!(ids.contains(&first_id));
    }
    let mut c = cmd(t.dir.path());
    c.args([
        "restore",
        "--dry-run",
        "--to-warp10",
        &fake.url,
        "--from",
        dest,
        "--segment",
        "-",
    ]);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--segment -: no segment id on stdin"),
        "{}",
        stderr(&o)
    );
}

/// Every file under `dir` with its size and modification time (empty if `dir` does not exist).
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                todo.push(e.path());
            }
            out.push((e.path(), m.len(), m.modified().unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn all_dry_run_writes_nothing_anywhere_and_says_what_it_would_do() {
    let t = TestDir::new();
    let fake = support::small_fake(2);
    let (work, dest) = (t.path("work"), t.path("dest"));
    let read = t.secret_file("read.token", support::READ_TOKEN);
    let write = t.secret_file("write.token", support::WRITE_TOKEN);
    let all = |more: &[&str]| {
        let mut c = cmd(&work);
        c.args([
            "all",
            "--warp10-url",
            &fake.url,
            "--selector",
            "~.*{}",
            "--start",
            "2024-01-15T00:00:00Z",
        ])
        .args([
            "--end",
            "2024-01-15T12:00:00Z",
            "--segment-length",
            "6h",
            "--min-age",
            "1h",
        ])
        .args(["--lock-settle-ms", "1", "--settle-timeout", "5", "--read-token-file"])
        .arg(&read)
        .arg("--write-token-file")
        .arg(&write)
        .arg("--dest")
        .arg(&dest)
        .args(more);
        run(&mut c, "")
    };
    let range = (1_705_276_800_000_000, 1_705_320_000_000_000 - 1);
    let before = fake.count("~.*{}", range.0, range.1);

    let o = all(&["--purge", "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(
        err.matches("dry run: would fetch, compress, upload, verify, purge")
            .count(),
        2,
        "{err}"
    );
    assert!(
        err.contains("dry run: 2 segments planned; nothing was fetched, written"),
        "{err}"
    );
    assert_eq!(support::records(&o).len(), 2);
    assert!(!work.exists() && !dest.exists(), "a dry run created files");
    assert_eq!(fake.count("~.*{}", range.0, range.1), before);

    // Archived and verified: only the purge is left, and its dry run checks the gates.
    let o = all(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (work_before, dest_before) = (snapshot(&work), snapshot(&dest));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = all(&["--purge", "-n"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("dry run: would purge").count(), 2, "{err}");
    assert!(
        support::records(&o).iter().all(|r| r["purge"]["state"] == "dry-run"),
        "{}",
        support::stdout(&o)
    );
    assert_eq!(snapshot(&work), work_before, "the work directory changed");
    assert_eq!(snapshot(&dest), dest_before, "the destination changed");
    assert_eq!(fake.count("~.*{}", range.0, range.1), before);
}

#[test]
fn all_writes_its_records_in_plan_order() {
    let t = TestDir::new();
    let fake = support::FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "20",
        "--series-per-host",
        "10",
        "--days",
        "1",
        "--interval",
        "30s",
        "--start",
        "2024-01-15T00:00:00Z",
    ]);
    let read = t.secret_file("read.token", support::READ_TOKEN);
    // The first selector's segments are heavy, the last ones light: these finish first.
    let args = [
        "--warp10-url",
        &fake.url,
        "--selector",
        "~.*{}",
        "--selector",
        "nosuch{}",
        "--start",
        "2024-01-15T00:00:00Z",
        "--end",
        "2024-01-15T12:00:00Z",
        "--min-age",
        "1h",
    ];
    let planned: Vec<String> = support::stage(&t, &[&["plan", "--segment-length", "6h"], &args[..]].concat(), "")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(planned.len(), 4);
    let mut c = cmd(&t.path("work"));
    c.arg("all")
        .args(args)
        .args(["--segment-length", "6h", "--jobs", "4", "--read-token-file"]);
    c.arg(&read).arg("--dest").arg(t.path("dest"));
    let o = run(&mut c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<String> = support::records(&o)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, planned);
}
