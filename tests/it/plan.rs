//! `plan`: aligned half-open windows, deterministic ids, refusals.

use crate::support;

use support::{TestDir, cmd, records, run, stderr};

fn plan(t: &TestDir, args: &[&str]) -> std::process::Output {
    let mut c = cmd(t.dir.path());
    c.args(["plan", "--warp10-url", "http://127.0.0.1:9"]).args(args);
    run(&mut c, "")
}

#[test]
fn windows_are_aligned_contiguous_and_deterministic() {
    let t = TestDir::new();
    let args = [
        "--selector",
        "~os\\..*{dc=par1}",
        "--selector",
        "net{}",
        "--start",
        "2026-10-01T03:00:00Z",
        "--end",
        "2026-10-04T00:00:00Z",
        "--segment",
        "1d",
    ];
    let o = plan(&t, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    assert_eq!(recs.len(), 6, "2 selectors x 3 days");
    let first: Vec<_> = recs.iter().filter(|r| r["selector"] == "net{}").collect();
    assert_eq!(first[0]["start"], "2026-10-01T00:00:00Z");
    for w in first.windows(2) {
        assert_eq!(w[0]["end"], w[1]["start"], "contiguous, no overlap");
    }
    assert_eq!(first[2]["end"], "2026-10-04T00:00:00Z");
    for r in &recs {
        assert_eq!(r["v"], 1);
        assert_eq!(r["time_unit"], "us");
        let id = r["id"].as_str().unwrap();
        assert!(
            id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{id}"
        );
    }
    let again = records(&plan(&t, &args));
    assert_eq!(recs, again, "ids and records are deterministic");
    let ids: std::collections::HashSet<_> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6);
}

#[test]
fn refuses_the_settle_horizon_and_bad_arguments() {
    let t = TestDir::new();
    let o = plan(
        &t,
        &[
            "--selector",
            "a{}",
            "--start",
            "now-3d",
            "--end",
            "now",
            "--segment",
            "1h",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("settle horizon"), "{}", stderr(&o));

    let o = plan(
        &t,
        &[
            "--selector",
            "a{}",
            "--start",
            "now-3d",
            "--end",
            "now-2d",
            "--segment",
            "1y",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--segment"), "{}", stderr(&o));

    let o = plan(
        &t,
        &[
            "--selector",
            "a{}",
            "--start",
            "2026-10-02T00:00:00Z",
            "--end",
            "2026-10-01T00:00:00Z",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--start 2026-10-02T00:00:00Z is after --end 2026-10-01T00:00:00Z"),
        "{}",
        stderr(&o)
    );

    let o = plan(
        &t,
        &[
            "--selector",
            "a{}",
            "--start",
            "2026-10-01T01:00:00Z",
            "--end",
            "2026-10-01T02:00:00Z",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty range"), "{}", stderr(&o));

    let o = plan(&t, &["--selector", "a{}", "--start", "yesterday", "--end", "now-2d"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--start"), "{}", stderr(&o));

    let o = plan(&t, &["--start", "now-3d", "--end", "now-2d"]);
    assert_eq!(o.status.code(), Some(2), "missing --selector is a usage error");
}

#[test]
fn relative_times_align_for_cron() {
    let t = TestDir::new();
    let o = plan(
        &t,
        &[
            "--selector",
            "a{}",
            "--start",
            "now-10d",
            "--end",
            "now-2d",
            "--segment",
            "6h",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let recs = records(&o);
    assert!((32..=33).contains(&recs.len()), "{}", recs.len());
    for r in &recs {
        let start = r["start"].as_str().unwrap();
        assert!(start.ends_with(":00:00Z"), "{start}");
        let hour: u32 = start[11..13].parse().unwrap();
        assert_eq!(hour % 6, 0, "{start}");
    }
}

#[test]
fn secrets_in_arguments_are_refused_without_echoing_them() {
    let t = TestDir::new();
    for args in [
        &["fetch", "--token", "canary-secret-1"][..],
        &["fetch", "--read-token=canary-secret-1"],
        &["plan", "--write-token", "canary-secret-1"],
    ] {
        let o = cmd(t.dir.path()).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.contains("-file"), "{err}");
        assert!(
            !err.contains("canary-secret-1") && !support::stdout(&o).contains("canary"),
            "{err}"
        );
    }
}
