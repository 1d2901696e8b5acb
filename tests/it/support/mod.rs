//! Shared test support: run the binary, start `fake-warp10` (and read its URL), temp dirs.
#![allow(dead_code)]

pub mod s3proxy;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const READ_TOKEN: &str = "test-read-token";
pub const WRITE_TOKEN: &str = "test-write-token";
/// The archive key `archive_to` encrypts with (written as `archive.key` in the test directory).
pub const KEY_HEX: &str = "8f2c6a1d9e0b4f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_warp-offload"))
}

/// The AWS settings a developer's environment may hold; `cmd` removes them all.
const AWS_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// A command for the binary with quiet, deterministic defaults (no progress bars, no tokens or
/// AWS settings inherited from the developer's environment: HOME is a directory that does not
/// exist, so ~/.aws is never read, and instance metadata is never asked).
pub fn cmd(work: &Path) -> Command {
    let mut c = Command::new(bin());
    for v in AWS_VARS {
        c.env_remove(v);
    }
    c.env_remove("WARP10_READ_TOKEN")
        .env_remove("WARP10_WRITE_TOKEN")
        .env_remove("WARP10_URL")
        .env("HOME", work.join("no-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("WARP_OFFLOAD_WORK_DIR", work)
        .arg("--progress=never");
    c
}

/// A PATH whose first directory (`t/bin`) holds `warp-offload`, the binary under test, for
/// commands run by a shell as a user would type them.
pub fn path_with_bin(t: &TestDir) -> String {
    let dir = t.path("bin");
    if !dir.exists() {
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(bin(), dir.join("warp-offload")).unwrap();
    }
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// Runs `c` with `stdin` as standard input and returns its output.
pub fn run(c: &mut Command, stdin: &str) -> Output {
    // Stages that talk to Warp 10 take its URL from the run (flag or WARP10_URL), never from the
    // records. Like a user's shell, the tests export WARP10_URL: the URL of the records piped in,
    // unless the test set it (or passes --warp10-url, which wins).
    let set = c.get_envs().any(|(k, v)| k == "WARP10_URL" && v.is_some());
    if !set
        && let Some(url) = stdin
            .lines()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|r| r["warp10_url"].as_str().map(str::to_string))
    {
        c.env("WARP10_URL", url);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        // A command that fails before reading its input (bad arguments, missing secrets) closes
        // it: its exit status and output are what the test checks.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.expect("write stdin"),
    }
    child.wait_with_output().expect("wait")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The records of an NDJSON output, as JSON values.
pub fn records(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid record"))
        .collect()
}

pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// An object-key prefix no other test (or test process) uses: `name-pid-tempdirname`.
    pub fn unique_prefix(&self, name: &str) -> String {
        let dir = self.dir.path().file_name().unwrap().to_string_lossy();
        let unique: String = dir.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        format!("{name}-{}-{unique}", std::process::id())
    }

    /// Writes a token file readable only by the owner.
    pub fn secret_file(&self, name: &str, value: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, value).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p
    }
}

/// A small data set: one host, `series` series, one point every 5 minutes on 2024-01-15.
pub fn small_fake(series: u32) -> FakeWarp10 {
    FakeWarp10::start(&[
        "--generate",
        "infra",
        "--hosts",
        "1",
        "--series-per-host",
        &series.to_string(),
        "--days",
        "1",
        "--interval",
        "300s",
        "--start",
        "2024-01-15T00:00:00Z",
    ])
}

/// A running `warp-offload fake-warp10`, killed on drop.
pub struct FakeWarp10 {
    child: Child,
    pub url: String,
    _dir: TestDir,
}

impl FakeWarp10 {
    /// Starts the fake with the test tokens and extra `args` (`--load F`, `--generate ...`).
    pub fn start(args: &[&str]) -> FakeWarp10 {
        FakeWarp10::start_with_tokens(READ_TOKEN, WRITE_TOKEN, args)
    }

    /// Starts the fake accepting these tokens.
    pub fn start_with_tokens(read_token: &str, write_token: &str, args: &[&str]) -> FakeWarp10 {
        let dir = TestDir::new();
        let port_file = dir.path("port");
        let read = dir.secret_file("read", read_token);
        let write = dir.secret_file("write", write_token);
        let mut child = Command::new(bin())
            .args(["fake-warp10", "--listen", "127.0.0.1:0", "--port-file"])
            .arg(&port_file)
            .arg("--read-token-file")
            .arg(&read)
            .arg("--write-token-file")
            .arg(&write)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn fake-warp10");
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file)
                && let Ok(p) = p.trim().parse::<u16>()
            {
                break p;
            }
            if let Some(status) = child.try_wait().expect("poll fake-warp10") {
                panic!("fake-warp10 exited with {status} before listening");
            }
            assert!(Instant::now() < deadline, "fake-warp10 did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        FakeWarp10 {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

impl FakeWarp10 {
    /// Replaces the injected faults (`POST /admin/faults`; `{}` clears them).
    pub fn set_faults(&self, json: &str) {
        let resp = ureq::post(&format!("{}/admin/faults", self.url))
            .send(json)
            .expect("set faults");
        assert_eq!(resp.status(), 200);
    }

    /// Series and points matching `selector` in the inclusive range (`GET /admin/count`).
    pub fn count(&self, selector: &str, start: i64, end: i64) -> (u64, u64) {
        let mut resp = ureq::get(&format!("{}/admin/count", self.url))
            .query("selector", selector)
            .query("start", start.to_string())
            .query("end", end.to_string())
            .call()
            .expect("admin count");
        let v: serde_json::Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        (v["series"].as_u64().unwrap(), v["points"].as_u64().unwrap())
    }

    /// Writes GTS input lines with the write token.
    pub fn update(&self, body: &str) {
        let resp = ureq::post(&format!("{}/api/v0/update", self.url))
            .header("X-Warp10-Token", WRITE_TOKEN)
            .send(body)
            .expect("update");
        assert_eq!(resp.status(), 200);
    }
}

impl Drop for FakeWarp10 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `plan` range: start, end (RFC 3339) and segment length.
pub type Range<'a> = (&'a str, &'a str, &'a str);

/// Runs the stage `args`, which must succeed, with `input` on stdin; returns its stdout.
pub fn stage(t: &TestDir, args: &[&str], input: &str) -> String {
    let o = run(cmd(t.dir.path()).args(args), input);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The segments of `selector` over `range` on the Warp 10 at `url`.
pub fn plan(t: &TestDir, url: &str, selector: &str, range: Range) -> String {
    let (start, end, segment) = range;
    stage(
        t,
        &[
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
            "--min-age",
            "1h",
        ],
        "",
    )
}

/// `fetch` of `manifest` with the test read token and `extra` flags, successful or not.
pub fn fetch_output(t: &TestDir, manifest: &str, extra: &[&str]) -> Output {
    let token = t.secret_file("read.token", READ_TOKEN);
    let mut c = cmd(t.dir.path());
    c.args(["fetch", "--read-token-file"]).arg(token).args(extra);
    run(&mut c, manifest)
}

/// `fetch` of `manifest`, which must succeed; returns the fetched records.
pub fn fetch(t: &TestDir, manifest: &str) -> String {
    let o = fetch_output(t, manifest, &[]);
    assert!(o.status.success(), "fetch: {}", stderr(&o));
    stdout(&o)
}

/// A variable set by `scripts/seaweedfs.sh env`; an S3 test run without it fails, never passes.
pub fn s3_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests through scripts/test.sh (it starts SeaweedFS with \
             scripts/seaweedfs.sh and runs the S3 tests with --include-ignored)"
        )
    })
}

/// Where archives go: a local directory, or a prefix of the SeaweedFS test bucket.
pub enum Dest {
    Dir(String),
    S3 {
        url: String,
        endpoint: String,
        bucket: String,
        prefix: String,
        access: String,
        secret: String,
    },
}

impl Dest {
    /// The directory `t/dest`.
    pub fn dir(t: &TestDir) -> Dest {
        Dest::Dir(t.path("dest").display().to_string())
    }

    /// A fresh prefix `NAME-PID-UNIQUE` of the test bucket (SeaweedFS, started by
    /// scripts/test.sh through scripts/seaweedfs.sh). Tests that call it are `#[ignore]`d, so a
    /// plain `cargo test` reports them skipped; scripts/test.sh runs them.
    pub fn s3(t: &TestDir, name: &str) -> Dest {
        let endpoint = s3_var("WARP_OFFLOAD_TEST_S3_ENDPOINT");
        let bucket = s3_var("WARP_OFFLOAD_TEST_S3_BUCKET");
        let prefix = t.unique_prefix(name);
        Dest::S3 {
            url: format!("s3://{bucket}/{prefix}"),
            endpoint,
            bucket,
            prefix,
            access: s3_var("WARP_OFFLOAD_TEST_S3_ACCESS_KEY"),
            secret: s3_var("WARP_OFFLOAD_TEST_S3_SECRET_KEY"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Dest::Dir(p) => p,
            Dest::S3 { url, .. } => url,
        }
    }

    /// `warp-offload SUBCOMMAND --dest D` with the S3 settings.
    pub fn cmd(&self, work: &Path, sub: &str) -> Command {
        let mut c = self.cmd_no_dest(work, sub);
        c.args(["--dest", self.url()]);
        c
    }

    /// `warp-offload SUBCOMMAND` with the S3 settings (flags and environment), for stages that
    /// take the destination from the records or another flag.
    pub fn cmd_no_dest(&self, work: &Path, sub: &str) -> Command {
        let mut c = cmd(work);
        c.arg(sub);
        if let Dest::S3 {
            endpoint,
            access,
            secret,
            ..
        } = self
        {
            c.args(["--s3-endpoint", endpoint])
                .env("AWS_ACCESS_KEY_ID", access)
                .env("AWS_SECRET_ACCESS_KEY", secret);
        }
        c
    }

    /// A raw client for the test bucket, to look behind the tool's back.
    pub fn bucket(&self) -> Option<Box<s3::bucket::Bucket>> {
        let Dest::S3 {
            endpoint,
            bucket,
            access,
            secret,
            ..
        } = self
        else {
            return None;
        };
        let b = s3::bucket::Bucket::new(
            bucket,
            s3::Region::Custom {
                region: "us-east-1".into(),
                endpoint: endpoint.clone(),
            },
            s3::creds::Credentials::new(Some(access), Some(secret), None, None, None).unwrap(),
        )
        .unwrap();
        Some(b.with_path_style())
    }

    /// The bytes of an object, read directly.
    pub fn read(&self, key: &str) -> Vec<u8> {
        match self {
            Dest::Dir(p) => std::fs::read(Path::new(p).join(key)).unwrap(),
            Dest::S3 { prefix, .. } => self
                .bucket()
                .unwrap()
                .get_object(format!("{prefix}/{key}"))
                .unwrap()
                .to_vec(),
        }
    }

    /// Whether an object exists, looked up directly.
    pub fn exists(&self, key: &str) -> bool {
        match self {
            Dest::Dir(p) => Path::new(p).join(key).exists(),
            Dest::S3 { prefix, .. } => self.bucket().unwrap().head_object(format!("{prefix}/{key}")).is_ok(),
        }
    }

    /// Writes or replaces an object behind the tool's back.
    pub fn overwrite(&self, key: &str, data: &[u8]) {
        match self {
            Dest::Dir(p) => {
                let path = Path::new(p).join(key);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, data).unwrap();
            }
            Dest::S3 { prefix, .. } => {
                self.bucket()
                    .unwrap()
                    .put_object(format!("{prefix}/{key}"), data)
                    .unwrap();
            }
        }
    }

    /// Multipart uploads in progress under this destination.
    pub fn pending_multipart(&self) -> usize {
        let (Some(b), Dest::S3 { prefix, .. }) = (self.bucket(), self) else {
            return 0;
        };
        let query = [("uploads", ""), ("prefix", prefix.as_str())].map(|(k, v)| (k.to_string(), v.to_string()));
        let url = b.presign_get("/", 60, Some(query.into_iter().collect())).unwrap();
        let mut resp = ureq::get(&url).call().unwrap();
        let body = resp.body_mut().read_to_string().unwrap();
        body.matches("<Upload>").count()
    }
}

/// The arguments after each `warp-offload` word of a shell command line, up to a redirection or
/// the next command, with `$VAR`s replaced by `var` (a variable it does not know is an error).
pub fn warp_offload_args(line: &str, var: impl Fn(&str) -> Option<String>) -> Vec<Vec<String>> {
    let words = shlex::split(line).unwrap_or_else(|| panic!("unbalanced quotes in {line}"));
    let var_re = regex::Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").unwrap();
    let ends = [">", ">>", "<", "|", "||", "&&", ";", "2>", "&"];
    let mut found = Vec::new();
    for (i, _) in words.iter().enumerate().filter(|(_, w)| *w == "warp-offload") {
        let args = words[i + 1..]
            .iter()
            .take_while(|w| !ends.contains(&w.as_str()))
            .map(|w| {
                var_re
                    .replace_all(w, |c: &regex::Captures| {
                        var(&c[1]).unwrap_or_else(|| panic!("${} in `{line}` is not set", &c[1]))
                    })
                    .into_owned()
            })
            .collect();
        found.push(args);
    }
    found
}

/// Runs the binary with `args` plus `--help`: clap rejects an unknown flag or a bad value first.
pub fn assert_accepted(args: &[String]) {
    let o = Command::new(bin())
        .args(args)
        .arg("--help")
        .output()
        .expect("run warp-offload");
    assert!(
        o.status.success(),
        "warp-offload {} --help was rejected:\n{}",
        args.join(" "),
        stderr(&o)
    );
}

/// plan, fetch, compress (in `codec`, encrypted with `KEY_HEX` or not) and upload `selector` over
/// `range` from the Warp 10 at `url` into `dest`; returns the upload records.
pub fn archive_to(
    t: &TestDir,
    dest: &Dest,
    url: &str,
    selector: &str,
    range: Range,
    codec: &str,
    encrypt: bool,
) -> Vec<serde_json::Value> {
    let fetched = fetch(t, &plan(t, url, selector, range));
    let mut compress = vec!["compress", "--codec", codec];
    let key = t.secret_file("archive.key", KEY_HEX);
    if encrypt {
        compress.extend(["--key-file", key.to_str().unwrap()]);
    }
    let compressed = stage(t, &compress, &fetched);
    let o = run(&mut dest.cmd(t.dir.path(), "upload"), &compressed);
    assert!(o.status.success(), "upload: {}", stderr(&o));
    let recs = records(&o);
    for r in &recs {
        assert!(r.get("error").is_none(), "{r}");
        assert_eq!(r["archive"]["key_id"].is_string(), encrypt, "{r}");
    }
    recs
}
