//! `serve` over a destination, compared with the fake Warp 10 the archives were made from:
//! `/api/v0/fetch` responses point for point (formats, windows, count/skip/timespan), `/api/v0/find`,
//! token sources and status codes; `warp-offload fetch` pointed at it gets the same digests;
//! a non-loopback address is refused.

use crate::support::{Dest, FakeWarp10, READ_TOKEN, Range, TestDir, archive_to, fetch, plan, run, stderr};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const EDGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/edge-cases.gts");
const EDGE_RANGE: Range = ("2024-01-14T00:00:00Z", "2024-01-18T00:00:00Z", "1d");

/// A running `warp-offload serve`, killed on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(t: &TestDir, dest: &Dest) -> Serve {
        let token = t.secret_file("serve.token", READ_TOKEN);
        let mut c = dest.cmd_no_dest(t.dir.path(), "serve");
        c.args(["--from", dest.url(), "--listen", "127.0.0.1:0", "--read-token-file"])
            .arg(token)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().expect("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
        Serve {
            child,
            url: line.trim().to_string(),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, the headers that matter, and body of a GET.
fn get(base: &str, path: &str, token: Option<&str>, query: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut req = agent.get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.header("X-Warp10-Token", t);
    }
    for (k, v) in query {
        req = req.query(k, v);
    }
    let mut resp = req.call().unwrap();
    let unit = resp
        .headers()
        .get("x-warp10-timeunit")
        .map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), unit, resp.body_mut().read_to_string().unwrap())
}

/// Fetch text output as series → lines; series order is unspecified in Warp 10.
fn by_series(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in out.lines() {
        if let Some(cont) = line.strip_prefix('=') {
            map.get_mut(&current).unwrap().push(cont.to_string());
        } else {
            let f: Vec<&str> = line.split(' ').collect();
            current = f[1].to_string();
            map.entry(current.clone())
                .or_default()
                .push(format!("{} {}", f[0], f[2]));
        }
    }
    map
}

fn archived_edge(t: &TestDir) -> (FakeWarp10, Dest) {
    let fake = FakeWarp10::start(&["--load", EDGE]);
    let dest = Dest::dir(t);
    archive_to(t, &dest, &fake.url, "~.*{}", EDGE_RANGE, "columnar", false);
    (fake, dest)
}

#[test]
fn fetch_answers_like_warp10() {
    let t = TestDir::new();
    let (fake, dest) = archived_edge(&t);
    let serve = Serve::start(&t, &dest);
    let cases: &[&[(&str, &str)]] = &[
        &[
            ("selector", "~.*{}"),
            ("start", "1705190400000000"),
            ("end", "1705535999999999"),
        ],
        &[
            ("selector", "~edge.*{kind~(long|double|geo)}"),
            ("start", "2024-01-15T23:58:20.000002Z"),
            ("end", "2024-01-16T12:00:00Z"),
        ],
        &[
            ("selector", "edge.days{}"),
            ("end", "1705460400000000"),
            ("timespan", "PT24H"),
        ],
        &[
            ("selector", "edge.days{}"),
            ("end", "1705460400000000"),
            ("count", "3"),
            ("skip", "1"),
        ],
        &[
            ("selector", "edge.days{host=h1}"),
            ("end", "1705460400000000"),
            ("timespan", "-2"),
        ],
        &[
            ("selector", "edge.days{host=h1} edge.days{host~h.*}"),
            ("start", "1705460400000000"),
            ("end", "0"),
        ],
        &[
            ("selector", "~edge.*{.app=x}"),
            ("start", "0"),
            ("end", "now"),
            ("format", "fulltext"),
        ],
        &[
            ("selector", "~edge.(mixed|binary|string){}"),
            ("start", "0"),
            ("end", "now"),
            ("format", "json"),
        ],
        &[
            ("selector", "~edge.*{}"),
            ("start", "0"),
            ("end", "now"),
            ("format", "fulltext"),
            ("showattr", ""),
        ],
        &[("selector", "nothing{}"), ("start", "0"), ("end", "now")],
    ];
    for q in cases {
        let ours = get(&serve.url, "/api/v0/fetch", Some(READ_TOKEN), q);
        let theirs = get(&fake.url, "/api/v0/fetch", Some(READ_TOKEN), q);
        assert_eq!(
            (ours.0, &ours.1),
            (200, &Some("1000000".to_string())),
            "{q:?}: {}",
            ours.2
        );
        if q.iter().any(|(k, v)| *k == "format" && *v == "json") {
            let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
            let strip = |mut v: serde_json::Value| {
                let mut a: Vec<_> = v.as_array_mut().unwrap().drain(..).collect();
                a.iter_mut().for_each(|s| drop(s.as_object_mut().unwrap().remove("i")));
                a.sort_by_key(|s| s.to_string());
                a
            };
            assert_eq!(strip(json(&ours.2)), strip(json(&theirs.2)), "{q:?}");
        } else if q.iter().any(|(_, v)| *v == "fulltext") {
            let sorted = |s: &str| {
                let mut l: Vec<String> = s.lines().map(str::to_string).collect();
                l.sort();
                l
            };
            // The archive keeps no attributes: showattr prints {} where the fake has none either.
            assert_eq!(sorted(&ours.2), sorted(&theirs.2), "{q:?}");
        } else {
            assert_eq!(by_series(&ours.2), by_series(&theirs.2), "{q:?}");
            assert!(q[0].1 != "nothing{}" || ours.2.is_empty());
        }
    }

    // Token sources and errors, as Warp 10 (§3): header first, then ?token=.
    let sel = [("selector", "edge.days{}"), ("start", "0"), ("end", "now")];
    let with_param = [&sel[..], &[("token", READ_TOKEN)]].concat();
    assert_eq!(get(&serve.url, "/api/v0/fetch", None, &with_param).0, 200);
    assert_eq!(get(&serve.url, "/api/v0/fetch", None, &sel).0, 403);
    assert_eq!(get(&serve.url, "/api/v0/fetch", Some("wrong"), &with_param).0, 403);
    for bad in [
        &[("start", "0"), ("end", "now")][..],
        &[("selector", "{}"), ("start", "0"), ("end", "now")],
        &[("selector", "a{b~(}"), ("start", "0"), ("end", "now")],
        &[("selector", "a{}"), ("start", "yesterday"), ("end", "now")],
        &[("selector", "a{}"), ("start", "0")],
        &[("selector", "a{}"), ("start", "0"), ("end", "now"), ("dedup", "")],
        &[("selector", "a{}"), ("start", "0"), ("end", "now"), ("format", "pack")],
    ] {
        let (status, _, body) = get(&serve.url, "/api/v0/fetch", Some(READ_TOKEN), bad);
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
    assert_eq!(get(&serve.url, "/api/v0/update", Some(READ_TOKEN), &[]).0, 404);
    assert_eq!(get(&serve.url, "/api/v0/delete", Some(READ_TOKEN), &sel).0, 404);
}

#[test]
fn find_answers_like_warp10() {
    let t = TestDir::new();
    let (fake, dest) = archived_edge(&t);
    let serve = Serve::start(&t, &dest);
    let sorted = |s: String| {
        let mut l: Vec<String> = s.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    for sel in [
        "~.*{}",
        "~edge.*{kind~b.*}",
        "=%3Dequals{}",
        "edge.days{host=h2}",
        "none{}",
    ] {
        let q = [("selector", sel), ("token", READ_TOKEN)];
        let ours = get(&serve.url, "/api/v0/find", None, &q);
        let theirs = get(&fake.url, "/api/v0/find", None, &q);
        assert_eq!(ours.0, 200, "{sel}: {}", ours.2);
        assert_eq!(sorted(ours.2), sorted(theirs.2), "{sel}");
    }
    let json = get(
        &serve.url,
        "/api/v0/find",
        Some(READ_TOKEN),
        &[("selector", "edge.days{}"), ("format", "json")],
    );
    let v: serde_json::Value = serde_json::from_str(&json.2).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["c"], "edge.days");
    assert_eq!(get(&serve.url, "/api/v0/find", None, &[("selector", "a{}")]).0, 403);
    assert_eq!(get(&serve.url, "/api/v0/find", Some(READ_TOKEN), &[]).0, 500);
}

/// `warp-offload fetch` pointed at serve gets what it got from Warp 10 before: same points,
/// same digests, segment by segment.
#[test]
fn warp_offload_fetch_reads_served_archives_unchanged() {
    let t = TestDir::new();
    let (fake, dest) = archived_edge(&t);
    let serve = Serve::start(&t, &dest);
    // Records come out in completion order: keyed by segment start.
    let digests = |url: &str| -> BTreeMap<String, (u64, String)> {
        let t = TestDir::new();
        fetch(&t, &plan(&t, url, "~.*{}", EDGE_RANGE))
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|r| {
                let f = &r["fetch"];
                (
                    r["start"].to_string(),
                    (f["points"].as_u64().unwrap(), f["digest"].to_string()),
                )
            })
            .collect()
    };
    let before = digests(&fake.url);
    assert_eq!(before.values().map(|d| d.0).sum::<u64>(), 79);
    assert_eq!(digests(&serve.url), before);
}

#[test]
fn serve_listens_on_loopback_only_unless_behind_a_tls_proxy() {
    let t = TestDir::new();
    let dest = Dest::dir(&t);
    std::fs::create_dir_all(dest.url()).unwrap();
    let token = t.secret_file("serve.token", READ_TOKEN);
    let mut c = Command::new(crate::support::bin());
    c.args([
        "serve",
        "--from",
        dest.url(),
        "--listen",
        "0.0.0.0:0",
        "--read-token-file",
    ])
    .arg(&token);
    let o = run(&mut c, "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--behind-tls-proxy"), "{}", stderr(&o));
    // No token file and no WARP10_READ_TOKEN: refused before listening.
    let mut c = Command::new(crate::support::bin());
    c.env_remove("WARP10_READ_TOKEN")
        .args(["serve", "--from", dest.url(), "--listen", "127.0.0.1:0"]);
    let o = run(&mut c, "");
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("--read-token-file"), "{}", stderr(&o));
}
