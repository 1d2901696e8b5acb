//! Secrets (docs/RELIABILITY.md#scenarios 40–42): every subcommand runs with canary
//! tokens, S3 keys, encryption key and webhook URLs, through successes and forced errors (wrong
//! token, 403, TLS failure, refused connection, bad URL) at `-vv` in text and JSON; the canaries
//! must appear nowhere: stdout, stderr, records, work-dir files, objects, object metadata,
//! webhook payloads. Secrets in argv are refused.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use support::s3proxy::{Fault, Rule, S3Env, S3Proxy};
use support::{FakeWarp10, TestDir, cmd, records, run, stage, stderr, stdout};

const READ: &str = "CANARY-read-7f3a91";
const WRITE: &str = "CANARY-write-c24e08";
const ACCESS: &str = "CANARYAKID5D1B7Q";
const SECRET: &str = "CANARY-secret-9b6e2f";
const HOOK_PATH: &str = "/hooks/CANARY-hook-41d0";
/// The encryption key, hex in its file; its raw bytes are checked too.
const KEY_HEX: &str = "ca7a0e11ca7a0e11ca7a0e11ca7a0e11ca7a0e11ca7a0e11ca7a0e11ca7a0e11";
const OTHER_KEY_HEX: &str = "0e11ca7b0e11ca7b0e11ca7b0e11ca7b0e11ca7b0e11ca7b0e11ca7b0e11ca7b";
/// What a store answering a wrong key says (S3 echoes the key id).
const INVALID_KEY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code>\
    <Message>The AWS Access Key Id you provided does not exist in our records.</Message>\
    <AWSAccessKeyId>CANARYAKID5D1B7Q</AWSAccessKeyId></Error>";

fn key_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Fails if any canary is in `bytes`.
fn assert_clean(what: &str, bytes: &[u8]) {
    let hay = String::from_utf8_lossy(bytes);
    for needle in ["CANARY", &KEY_HEX[..16], &OTHER_KEY_HEX[..16]] {
        assert!(!hay.contains(needle), "{needle} leaked in {what}: {hay}");
    }
    for key in [KEY_HEX, OTHER_KEY_HEX] {
        let raw = key_bytes(key);
        assert!(!bytes.windows(8).any(|w| w == &raw[..8]), "raw key bytes in {what}");
    }
}

/// A webhook receiver that answers `status` and keeps the body of every request.
struct Hook {
    url: String,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Hook {
    fn start(status: u16) -> Hook {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}{HOOK_PATH}", l.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&received);
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let mut r = BufReader::new(&s);
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                keep.lock().unwrap().push(body);
                let _ = write!(
                    &s,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Hook { url, received }
    }
}

/// Runs commands twice (text and JSON logs, both at -vv) and keeps every output.
#[derive(Default)]
struct Runs {
    outputs: Vec<(String, Output)>,
}

impl Runs {
    /// Runs `make()` with both log formats; returns the last run's output (the records of a
    /// stage that rewrites files, like compress, match the files of its last run).
    fn run(&mut self, what: &str, make: impl Fn() -> Command, stdin: &str) -> Output {
        self.run_in(&["text", "json"], what, make, stdin)
    }

    fn run_in(&mut self, formats: &[&str], what: &str, make: impl Fn() -> Command, stdin: &str) -> Output {
        let mut last = None;
        for format in formats {
            let mut c = make();
            c.args(["-vv", "--log-format", format]);
            let o = run(&mut c, stdin);
            assert_ne!(o.status.code(), Some(101), "{what}: panicked: {}", stderr(&o));
            self.outputs.push((format!("{what} ({format})"), o.clone()));
            last = Some(o);
        }
        last.expect("at least one format")
    }

    /// -vv logs every request (method, URL, status): what the canaries were checked against
    /// includes the Warp 10 and S3 request lines, successes and failures, in both formats.
    fn assert_requests_logged(&self) {
        let stderrs: Vec<String> = self.outputs.iter().map(|(_, o)| stderr(o)).collect();
        for needle in [
            "warp-offload warp10 ",
            "warp-offload s3 ",
            " -> 403",
            " -> failed: ",
            "\"level\":\"detail\"",
        ] {
            assert!(
                stderrs.iter().any(|e| e.contains(needle)),
                "no -vv request line with {needle:?}"
            );
        }
    }

    fn assert_clean(&self) {
        for (what, o) in &self.outputs {
            assert_clean(&format!("stdout of {what}"), &o.stdout);
            assert_clean(&format!("stderr of {what}"), &o.stderr);
        }
    }
}

/// `c` after `f` added its arguments (closures that build commands return them by value).
fn with(mut c: Command, f: impl FnOnce(&mut Command)) -> Command {
    f(&mut c);
    c
}

fn ok(what: &str, o: &Output) {
    assert!(o.status.success(), "{what}: {}", stderr(o));
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { files_under(&p, out) } else { out.push(p) }
    }
}

fn without_aws_env(c: &mut Command) -> &mut Command {
    for v in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "SLACK_WEBHOOK_URL",
        "WARP_OFFLOAD_WEBHOOK_URL",
        "WARP_OFFLOAD_KEY_FILE",
    ] {
        c.env_remove(v);
    }
    c
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn canaries_never_leak_from_any_subcommand() {
    let s3 = S3Env::from_env();
    let t = TestDir::new();
    let work = t.path("work");
    let read = t.secret_file("read.token", READ);
    let write = t.secret_file("write.token", WRITE);
    let key = t.secret_file("archive.key", KEY_HEX);
    let other_key = t.secret_file("other.key", OTHER_KEY_HEX);
    let ok_hook = Hook::start(200);
    let denying_hook = Hook::start(403);
    let hook_file = t.secret_file("hook.url", &ok_hook.url);
    let denying_file = t.secret_file("denying.url", &denying_hook.url);
    let refused_file = t.secret_file("refused.url", &format!("http://127.0.0.1:9{HOOK_PATH}"));
    let bad_url_file = t.secret_file("bad.url", "not a url CANARY-bad-url");
    let prefix = t.unique_prefix("secrets");
    let dest = format!("s3://{}/{prefix}", s3.bucket);
    let fake = FakeWarp10::start_with_tokens(
        READ,
        WRITE,
        &[
            "--generate",
            "infra",
            "--hosts",
            "1",
            "--series-per-host",
            "2",
            "--interval",
            "600s",
            "--start",
            "2024-01-15T00:00:00Z",
        ],
    );
    // A Warp 10 that knows other tokens: every canary token gets a 403.
    let strict = FakeWarp10::start(&["--generate", "infra", "--hosts", "1", "--series-per-host", "1"]);
    let proxy = S3Proxy::start(&s3.endpoint);
    // GET only: a HEAD answer carries no body (the client would wait for one that is not HTTP).
    proxy.set(vec![Rule::new(Fault::Respond(403, INVALID_KEY)).method("GET")]);
    let https = std::env::var("WARP_OFFLOAD_TEST_S3_HTTPS_ENDPOINT").expect("scripts/seaweedfs.sh env");

    let base = |sub: &str| {
        let mut c = cmd(&work);
        without_aws_env(&mut c).arg(sub);
        c
    };
    let s3c = |sub: &str, endpoint: &str, access: &str, secret: &str| {
        let mut c = base(sub);
        c.args(["--s3-endpoint", endpoint, "--s3-retries", "1"])
            .env("AWS_ACCESS_KEY_ID", access)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        c
    };
    let real = |sub: &str| s3c(sub, &s3.endpoint, &s3.access_key, &s3.secret_key);
    let mut runs = Runs::default();

    // The whole way through, successfully, with canary tokens, key and webhooks.
    let o = runs.run(
        "plan",
        || {
            let mut c = base("plan");
            c.args([
                "--warp10-url",
                &fake.url,
                "--selector",
                "~os\\..*{}",
                "--split-by",
                "series",
            ])
            .args([
                "--start",
                "2024-01-15T00:00:00Z",
                "--end",
                "2024-01-16T00:00:00Z",
                "--read-token-file",
            ])
            .arg(&read);
            c
        },
        "",
    );
    ok("plan", &o);
    let planned = stdout(&o);
    let with_tokens = |sub: &str, s3: bool| {
        let mut c = if s3 { real(sub) } else { base(sub) };
        c.arg("--read-token-file").arg(&read);
        if sub != "fetch" {
            c.arg("--write-token-file").arg(&write);
        }
        c
    };
    let fetched = runs.run("fetch", || with_tokens("fetch", false), &planned);
    ok("fetch", &fetched);
    let compressed = runs.run(
        "compress",
        || {
            with(base("compress"), |c| {
                c.arg("--key-file").arg(&key).arg("--force");
            })
        },
        &stdout(&fetched),
    );
    ok("compress", &compressed);
    let uploaded = runs.run(
        "upload",
        || {
            with(real("upload"), |c| {
                c.args(["--dest", &dest, "--force"]);
            })
        },
        &stdout(&compressed),
    );
    ok("upload", &uploaded);
    let verified = runs.run(
        "verify",
        || {
            with(real("verify"), |c| {
                c.arg("--key-file").arg(&key);
            })
        },
        &stdout(&uploaded),
    );
    ok("verify", &verified);
    // Once: the records it prints, not these, are what a second run would read.
    let purged = runs.run_in(
        &["json"],
        "purge",
        || {
            with(with_tokens("purge", true), |c| {
                c.args(["--dest", &dest, "--lock-settle-ms", "1"])
                    .arg("--key-file")
                    .arg(&key);
            })
        },
        &stdout(&verified),
    );
    ok("purge", &purged);
    let notified = runs.run(
        "notify",
        || {
            with(base("notify"), |c| {
                c.args(["--on", "always", "--slack-webhook-file"])
                    .arg(&hook_file)
                    .arg("--webhook-file")
                    .arg(&hook_file);
            })
        },
        &stdout(&purged),
    );
    ok("notify", &notified);
    assert!(
        ok_hook.received.lock().unwrap().len() >= 4,
        "both webhooks posted, twice"
    );
    let first = records(&purged)[0]["id"].as_str().unwrap().to_string();
    let restored = runs.run(
        "restore",
        || {
            with(with_tokens("restore", true), |c| {
                c.args(["--from", &dest, "--segment", &first, "--to-warp10", &fake.url])
                    .arg("--key-file")
                    .arg(&key);
            })
        },
        "",
    );
    ok("restore", &restored);
    ok(
        "ls",
        &runs.run(
            "ls",
            || {
                with(real("ls"), |c| {
                    c.args(["--dest", &dest, "--all"]);
                })
            },
            "",
        ),
    );
    let archive = records(&compressed)[0]["archive"]["path"].as_str().unwrap().to_string();
    ok(
        "cat",
        &runs.run(
            "cat",
            || {
                with(base("cat"), |c| {
                    c.arg(work.join(&archive)).arg("--key-file").arg(&key);
                })
            },
            "",
        ),
    );

    // Forced errors.
    let failing = |what: &str, o: &Output| assert!(!o.status.success(), "{what} should fail: {}", stderr(o));
    // Fetch and restore: Warp 10 refuses the token (403). Purge: the records name the first Warp
    // 10, the run another, so it refuses them before sending a token.
    let planned_strict = stage(
        &TestDir::new(),
        &[
            "plan",
            "--warp10-url",
            &strict.url,
            "--selector",
            "~.*{}",
            "--start",
            "2024-01-15T00:00:00Z",
            "--end",
            "2024-01-16T00:00:00Z",
            "--min-age",
            "1h",
        ],
        "",
    );
    for sub in ["fetch", "purge", "restore"] {
        let input = match sub {
            "fetch" => planned_strict.clone(),
            "purge" => stdout(&verified),
            _ => String::new(),
        };
        let o = runs.run(
            &format!("{sub} with a refused token"),
            || {
                let mut c = with_tokens(sub, sub != "fetch");
                match sub {
                    "purge" => c
                        .args(["--warp10-url", &strict.url, "--dest", &dest, "--retries", "1"])
                        .args(["--lock-settle-ms", "1"])
                        .arg("--key-file")
                        .arg(&key),
                    "restore" => c
                        .args([
                            "--from",
                            &dest,
                            "--segment",
                            &first,
                            "--to-warp10",
                            &strict.url,
                            "--retries",
                            "1",
                        ])
                        .arg("--key-file")
                        .arg(&key),
                    _ => c.args(["--force", "--retries", "1"]),
                };
                c
            },
            &input,
        );
        failing(sub, &o);
    }
    let o = runs.run(
        "plan with a refused token",
        || {
            let mut c = base("plan");
            c.args([
                "--warp10-url",
                &strict.url,
                "--selector",
                "~.*{}",
                "--split-by",
                "class",
            ])
            .args([
                "--start",
                "2024-01-15T00:00:00Z",
                "--end",
                "2024-01-16T00:00:00Z",
                "--read-token-file",
            ])
            .arg(&read);
            c
        },
        "",
    );
    failing("plan", &o);
    let unreachable = stdout(&fetched).replace(&fake.url, "http://127.0.0.1:9");
    failing(
        "fetch refused",
        &runs.run(
            "fetch from a closed port",
            || {
                with(with_tokens("fetch", false), |c| {
                    c.args(["--force", "--retries", "1"]);
                })
            },
            &unreachable,
        ),
    );
    for (what, endpoint, cause) in [
        ("wrong keys", s3.endpoint.as_str(), "403"),
        ("echoed key id", &proxy.endpoint(), "403"),
        ("TLS without the CA", &https, "certificate"),
    ] {
        for sub in ["upload", "verify", "ls"] {
            let o = runs.run(
                &format!("{sub}: {what}"),
                || {
                    let mut c = s3c(sub, endpoint, ACCESS, SECRET);
                    match sub {
                        "verify" => c.arg("--key-file").arg(&key),
                        "upload" => c.args(["--dest", &dest, "--force"]),
                        _ => c.args(["--dest", &dest]),
                    };
                    c
                },
                &match sub {
                    "upload" => stdout(&compressed),
                    "verify" => stdout(&uploaded),
                    _ => String::new(),
                },
            );
            failing(&format!("{sub}: {what}"), &o);
            let err = stderr(&o).to_lowercase();
            assert!(err.contains(cause), "{sub}: {what}: {err}");
            if sub == "ls" && what == "echoed key id" {
                assert!(err.contains("invalidaccesskeyid"), "the error code is kept: {err}");
            }
        }
    }
    for sub in ["verify", "cat"] {
        let o = runs.run(
            &format!("{sub} with the wrong key"),
            || {
                let mut c = base(sub);
                if sub == "cat" {
                    c.arg(work.join(&archive));
                }
                c.arg("--key-file").arg(&other_key);
                c
            },
            &if sub == "cat" {
                String::new()
            } else {
                stdout(&compressed)
            },
        );
        failing(sub, &o);
    }
    for (what, file) in [
        ("403", &denying_file),
        ("refused", &refused_file),
        ("bad URL", &bad_url_file),
    ] {
        runs.run(
            &format!("notify: {what}"),
            || {
                with(base("notify"), |c| {
                    c.args(["--on", "always", "--timeout", "2", "--webhook-file"]).arg(file);
                })
            },
            &stdout(&purged),
        );
    }
    assert!(!denying_hook.received.lock().unwrap().is_empty());

    runs.assert_clean();
    runs.assert_requests_logged();
    let mut files = Vec::new();
    files_under(&work, &mut files);
    assert!(files.len() > 3);
    for f in files {
        assert_clean(&f.display().to_string(), &std::fs::read(&f).unwrap());
    }
    for (i, body) in ok_hook
        .received
        .lock()
        .unwrap()
        .iter()
        .chain(denying_hook.received.lock().unwrap().iter())
        .enumerate()
    {
        assert_clean(&format!("webhook payload {i}"), body);
    }
    let bucket = s3::bucket::Bucket::new(
        &s3.bucket,
        s3::Region::Custom {
            region: "us-east-1".into(),
            endpoint: s3.endpoint.clone(),
        },
        s3::creds::Credentials::new(Some(&s3.access_key), Some(&s3.secret_key), None, None, None).unwrap(),
    )
    .unwrap()
    .with_path_style();
    let objects: Vec<String> = bucket
        .list(format!("{prefix}/"), None)
        .unwrap()
        .into_iter()
        .flat_map(|p| p.contents)
        .map(|o| o.key)
        .collect();
    assert!(objects.len() >= 2, "{objects:?}");
    for k in objects {
        let (head, _) = bucket.head_object(&k).unwrap();
        assert_clean(&format!("metadata of {k}"), format!("{head:?}").as_bytes());
        assert_clean(&format!("object {k}"), bucket.get_object(&k).unwrap().as_slice());
        assert!(!String::from_utf8_lossy(bucket.get_object(&k).unwrap().as_slice()).contains(&s3.secret_key));
    }
}

/// Every `--X-file` that holds a secret, in every subcommand's help: `--X VALUE` and `--X=VALUE`
/// are refused before parsing, pointing to the file flag, without echoing the value. The S3
/// keys, which come from the environment, have argv spellings people try too.
#[test]
fn secrets_in_argv_are_refused_for_every_secret_flag() {
    let t = TestDir::new();
    let help = |sub: &str| stdout(&cmd(t.dir.path()).args([sub, "--help"]).output().unwrap());
    let mut flags = std::collections::BTreeSet::new();
    for sub in [
        "plan",
        "fetch",
        "compress",
        "verify",
        "cat",
        "notify",
        "upload",
        "purge",
        "ls",
        "restore",
        "fake-warp10",
    ] {
        for word in help(sub).split_whitespace() {
            let word = word.trim_end_matches(',');
            if let Some(stem) = word.strip_prefix("--").and_then(|w| w.strip_suffix("-file"))
                && ["token", "key", "webhook"].iter().any(|s| stem.contains(s))
            {
                flags.insert((format!("--{stem}"), format!("--{stem}-file")));
            }
        }
    }
    let names: Vec<_> = flags.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        ["--key", "--read-token", "--slack-webhook", "--webhook", "--write-token"],
        "secret flags changed"
    );
    for (flag, file_flag) in &flags {
        for args in [
            vec![flag.clone(), "CANARY-argv".into()],
            vec![format!("{flag}=CANARY-argv")],
        ] {
            let o = cmd(t.dir.path()).arg("fetch").args(&args).output().unwrap();
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let err = stderr(&o);
            assert!(err.contains(file_flag.as_str()), "{args:?}: {err}");
            assert_clean(&format!("{args:?}"), &o.stderr);
            assert_clean(&format!("{args:?}"), &o.stdout);
        }
    }
    for flag in [
        "--token",
        "--secret-key",
        "--aws-secret-access-key",
        "--access-key",
        "--s3-secret-key",
        "--s3-access-key",
        "--secret-access-key",
        "--access-key-id",
        "--aws-access-key-id",
    ] {
        let o = cmd(t.dir.path())
            .args(["upload", flag, "CANARY-argv"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&o).contains("not accepted as arguments"),
            "{flag}: {}",
            stderr(&o)
        );
        assert_clean(flag, &o.stderr);
    }
}
