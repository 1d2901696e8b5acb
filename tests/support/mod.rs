//! Shared test support: run the binary, start `fake-warp10` (and read its URL), temp dirs.
#![allow(dead_code)]

pub mod s3proxy;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const READ_TOKEN: &str = "test-read-token";
pub const WRITE_TOKEN: &str = "test-write-token";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_warp-offload"))
}

/// A command for the binary with quiet, deterministic defaults (no progress bars, no tokens
/// inherited from the developer's environment).
pub fn cmd(work: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("WARP10_READ_TOKEN")
        .env_remove("WARP10_WRITE_TOKEN")
        .env_remove("WARP10_URL")
        .env("WARP_OFFLOAD_WORK_DIR", work)
        .arg("--progress=never");
    c
}

/// Runs `c` with `stdin` as standard input and returns its output.
pub fn run(c: &mut Command, stdin: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .expect("write stdin");
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

/// A running `warp-offload fake-warp10`, killed on drop.
pub struct FakeWarp10 {
    child: Child,
    pub url: String,
    _dir: TestDir,
}

impl FakeWarp10 {
    /// Starts the fake with the test tokens and extra `args` (`--load F`, `--generate ...`).
    pub fn start(args: &[&str]) -> FakeWarp10 {
        let dir = TestDir::new();
        let port_file = dir.path("port");
        let read = dir.secret_file("read", READ_TOKEN);
        let write = dir.secret_file("write", WRITE_TOKEN);
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
