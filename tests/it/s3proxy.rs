//! The fault-injecting S3 proxy of the test support: signed requests pass through it to the test
//! store (SeaweedFS) over kept-alive connections, and clients see each fault it injects.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s3::creds::Credentials;
use s3::{Bucket, Region};
use support::s3proxy::{Fault, INTERNAL_ERROR, REQUEST_TIME_TOO_SKEWED, Rule, S3Env, S3Proxy, SLOW_DOWN};

enum Body<'a> {
    None,
    Sized(&'a [u8]),
    /// Sent with `Transfer-Encoding: chunked` (curl signs that only when reading standard input).
    Chunked(&'a [u8]),
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// One curl run: its exit code (18: short body, 55/56: connection reset), replies, and stderr.
struct Curl {
    code: i32,
    replies: Vec<Reply>,
    stderr: String,
}

/// Sends SigV4-signed `(method, key?query, body)` requests to `endpoint` with one curl, which
/// keeps one connection for all of them. Its options (credentials included) go in a config file.
fn curl(s3: &S3Env, endpoint: &str, requests: &[(&str, &str, Body)]) -> Curl {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: String| dir.path().join(name).display().to_string();
    let mut config = String::new();
    let mut stdin = Vec::new();
    for (i, (method, target, body)) in requests.iter().enumerate() {
        if i > 0 {
            config.push_str("next\n");
        }
        config.push_str(&format!(
            "user = \"{}:{}\"\naws-sigv4 = \"aws:amz:us-east-1:s3\"\nsilent\nshow-error\n",
            s3.access_key, s3.secret_key
        ));
        config.push_str(&format!(
            "write-out = \"%{{http_code}}\\n\"\noutput = \"{}\"\n",
            file(format!("{i}"))
        ));
        config.push_str(&format!("dump-header = \"{}\"\n", file(format!("{i}.headers"))));
        config.push_str(&match *method {
            "HEAD" => "head\n".to_string(),
            _ => format!("request = \"{method}\"\n"),
        });
        match body {
            Body::None => {}
            Body::Sized(data) => {
                std::fs::write(file(format!("{i}.body")), data).unwrap();
                config.push_str(&format!("upload-file = \"{}\"\n", file(format!("{i}.body"))));
            }
            Body::Chunked(data) => {
                stdin = data.to_vec();
                config.push_str("upload-file = \"-\"\n");
            }
        }
        config.push_str(&format!("url = \"{endpoint}/{}/{target}\"\n", s3.bucket));
    }
    std::fs::write(file("config".into()), config).unwrap();
    let mut child = Command::new("curl")
        .args(["-K", &file("config".into())])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl (with --aws-sigv4 support) is needed by the S3 tests");
    child.stdin.take().unwrap().write_all(&stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let statuses = String::from_utf8(out.stdout).unwrap();
    let replies = statuses
        .lines()
        .enumerate()
        .map(|(i, status)| Reply {
            status: status.parse().unwrap(),
            headers: std::fs::read_to_string(file(format!("{i}.headers"))).unwrap_or_default(),
            body: std::fs::read(file(format!("{i}"))).unwrap_or_default(),
        })
        .collect();
    Curl {
        code: out.status.code().unwrap(),
        replies,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// A key no other test (or run) uses.
fn key(name: &str) -> String {
    format!("s3proxy-test-{}/{name}", std::process::id())
}

/// Stores `body` under a fresh key directly in the store and returns the key.
fn stored(s3: &S3Env, name: &str, body: &[u8]) -> String {
    let key = key(name);
    let put = curl(s3, &s3.endpoint, &[("PUT", &key, Body::Sized(body))]);
    assert_eq!((put.code, put.replies[0].status), (0, 200), "{}", put.stderr);
    key
}

/// 1000 bytes, all different from their neighbours.
fn pattern() -> Vec<u8> {
    (0..1000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn statuses(proxy: &S3Proxy) -> Vec<Option<u16>> {
    proxy.log().iter().map(|e| e.status).collect()
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn signed_requests_pass_through_on_one_connection() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let (big, small) = (vec![b'x'; 300_000], b"streamed in chunks".as_slice());
    let (k1, k2) = (key("pass-1"), key("pass-2"));
    let run = curl(
        &s3,
        &proxy.endpoint(),
        &[
            ("PUT", &k1, Body::Sized(&big)),
            ("GET", &k1, Body::None),
            ("HEAD", &k1, Body::None),
            ("PUT", &k2, Body::Chunked(small)),
            ("GET", &k2, Body::None),
            ("DELETE", &k1, Body::None),
            ("DELETE", &k2, Body::None),
            ("GET", &k1, Body::None),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got: Vec<u16> = run.replies.iter().map(|r| r.status).collect();
    assert_eq!(got, [200, 200, 200, 200, 200, 204, 204, 404]);
    assert!(run.replies[1].body == big);
    assert!(
        run.replies[2].headers.contains("Content-Length: 300000"),
        "{}",
        run.replies[2].headers
    );
    assert_eq!(run.replies[4].body, small);
    assert!(String::from_utf8_lossy(&run.replies[7].body).contains("NoSuchKey"));

    let log = proxy.log();
    let seen: Vec<(&str, &str, Option<u16>)> = log
        .iter()
        .map(|e| (e.method.as_str(), e.path.as_str(), e.status))
        .collect();
    let (p1, p2) = (format!("/{}/{k1}", s3.bucket), format!("/{}/{k2}", s3.bucket));
    assert_eq!(
        seen,
        [
            ("PUT", p1.as_str(), Some(200)),
            ("GET", &p1, Some(200)),
            ("HEAD", &p1, Some(200)),
            ("PUT", &p2, Some(200)),
            ("GET", &p2, Some(200)),
            ("DELETE", &p1, Some(204)),
            ("DELETE", &p2, Some(204)),
            ("GET", &p1, Some(404)),
        ]
    );
    assert!(
        log.iter().all(|e| e.conn == log[0].conn && e.fault.is_none()),
        "one kept-alive connection: {log:?}"
    );
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_wrong_signature_is_still_refused() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let wrong = S3Env {
        secret_key: "not-the-secret".into(),
        ..s3.clone()
    };
    let run = curl(&wrong, &proxy.endpoint(), &[("GET", &key("refused"), Body::None)]);
    assert_eq!(run.replies[0].status, 403);
    assert!(String::from_utf8_lossy(&run.replies[0].body).contains("SignatureDoesNotMatch"));
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn respond_rules_match_method_path_and_query_for_their_count() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = stored(&s3, "respond", b"data");
    proxy.set(vec![
        Rule::new(Fault::Respond(403, REQUEST_TIME_TOO_SKEWED))
            .method("GET")
            .query("partNumber="),
        Rule::new(Fault::Respond(503, SLOW_DOWN))
            .method("GET")
            .path("/respond")
            .times(2),
        Rule::new(Fault::Respond(500, INTERNAL_ERROR)).method("PUT"),
    ]);
    let run = curl(
        &s3,
        &proxy.endpoint(),
        &[
            ("GET", &k, Body::None),
            ("HEAD", &k, Body::None),
            ("GET", &format!("{k}?partNumber=1"), Body::None),
            ("GET", &k, Body::None),
            ("GET", &k, Body::None),
        ],
    );
    let got: Vec<(u16, String)> = run
        .replies
        .iter()
        .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
        .collect();
    assert_eq!(got[0], (503, SLOW_DOWN.to_string()));
    assert_eq!(got[1].0, 200);
    assert_eq!(got[2], (403, REQUEST_TIME_TOO_SKEWED.to_string()));
    assert_eq!(got[3], (503, SLOW_DOWN.to_string()));
    assert_eq!(got[4], (200, "data".to_string()));
    assert_eq!(proxy.log()[2].query, "partNumber=1");
    assert_eq!(proxy.log()[2].fault, Some(Fault::Respond(403, REQUEST_TIME_TOO_SKEWED)));

    // Rules change while the proxy runs; a PUT that is answered never reaches the store.
    let put = curl(&s3, &proxy.endpoint(), &[("PUT", &k, Body::Sized(b"replaced"))]);
    assert_eq!(put.replies[0].status, 500);
    proxy.set(vec![]);
    let get = curl(&s3, &proxy.endpoint(), &[("GET", &k, Body::None)]);
    assert_eq!(get.replies[0].body, b"data");
    assert_eq!(
        statuses(&proxy),
        [
            Some(503),
            Some(200),
            Some(403),
            Some(503),
            Some(200),
            Some(500),
            Some(200)
        ]
    );
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn reset_after_part_of_a_request_body() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = key("reset");
    proxy.set(vec![Rule::new(Fault::ResetAfter(64 * 1024)).method("PUT").times(1)]);
    let run = curl(
        &s3,
        &proxy.endpoint(),
        &[("PUT", &k, Body::Sized(&vec![b'r'; 1 << 20]))],
    );
    assert!(matches!(run.code, 55 | 56), "curl exit {}: {}", run.code, run.stderr);
    assert!(run.stderr.contains("reset by peer"), "{}", run.stderr);
    let head = curl(&s3, &proxy.endpoint(), &[("HEAD", &k, Body::None)]);
    assert_eq!(head.replies[0].status, 404, "a cut upload stores nothing");

    // Nothing left unread to force an RST: the proxy resets the connection on purpose.
    proxy.set(vec![Rule::new(Fault::ResetAfter(0)).method("GET")]);
    let get = curl(&s3, &proxy.endpoint(), &[("GET", &k, Body::None)]);
    assert_eq!(get.code, 56, "{}", get.stderr);
    assert!(get.stderr.contains("reset by peer"), "{}", get.stderr);
    assert_eq!(statuses(&proxy), [None, Some(404), None]);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn truncate_closes_the_connection_early() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = stored(&s3, "truncate", &pattern());
    proxy.set(vec![Rule::new(Fault::Truncate(100)).method("GET")]);
    let run = curl(&s3, &proxy.endpoint(), &[("GET", &k, Body::None)]);
    assert_eq!(run.code, 18, "curl reports a partial file: {}", run.stderr);
    assert!(
        run.replies[0].headers.contains("Content-Length: 1000"),
        "{}",
        run.replies[0].headers
    );
    assert_eq!(run.replies[0].body, pattern()[..100]);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn shorten_declares_fewer_bytes() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = stored(&s3, "shorten", &pattern());
    proxy.set(vec![Rule::new(Fault::Shorten(100)).method("GET").times(1)]);
    let run = curl(
        &s3,
        &proxy.endpoint(),
        &[("GET", &k, Body::None), ("GET", &k, Body::None)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        (run.replies[0].status, &run.replies[0].body[..]),
        (200, &pattern()[..100])
    );
    assert_eq!(run.replies[1].body, pattern(), "the connection stays usable");
    assert_eq!(proxy.log()[0].conn, proxy.log()[1].conn);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn flip_bit_changes_one_bit() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = stored(&s3, "flip", &pattern());
    proxy.set(vec![Rule::new(Fault::FlipBit(500)).method("GET")]);
    let run = curl(&s3, &proxy.endpoint(), &[("GET", &k, Body::None)]);
    let mut expected = pattern();
    expected[500] ^= 1;
    assert_eq!((run.code, run.replies[0].status), (0, 200));
    assert!(run.replies[0].body == expected);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn delay_slows_the_store_down() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let k = stored(&s3, "delay", b"late");
    proxy.set(vec![Rule::new(Fault::Delay(Duration::from_millis(700))).method("GET")]);
    let started = Instant::now();
    let run = curl(&s3, &proxy.endpoint(), &[("GET", &k, Body::None)]);
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(run.replies[0].body, b"late");
}

/// The client the tool uses: a retried GET, and a CompleteMultipartUpload answered 200 with an
/// `<Error>` body although the store completed the upload.
#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn rust_s3_sees_retries_and_a_complete_with_an_error_body() {
    let s3 = S3Env::from_env();
    let proxy = S3Proxy::start(&s3.endpoint);
    let region = Region::Custom {
        region: "us-east-1".into(),
        endpoint: proxy.endpoint(),
    };
    let creds = Credentials::new(Some(&s3.access_key), Some(&s3.secret_key), None, None, None).unwrap();
    let bucket = Bucket::new(&s3.bucket, region, creds).unwrap().with_path_style();
    let k = key("rust-s3");

    proxy.set(vec![
        Rule::new(Fault::Respond(503, SLOW_DOWN)).method("GET").times(1),
        Rule::new(Fault::ReplaceBody(INTERNAL_ERROR))
            .method("POST")
            .query("uploadId="),
    ]);
    let upload = bucket
        .initiate_multipart_upload(&k, "application/octet-stream")
        .unwrap();
    let part = bucket
        .put_multipart_chunk(&pattern(), &k, 1, &upload.upload_id, "application/octet-stream")
        .unwrap();
    let err = bucket
        .complete_multipart_upload(&k, &upload.upload_id, vec![part])
        .unwrap_err();
    assert!(err.to_string().contains("InternalError"), "{err}");
    let got = bucket.get_object(&k).unwrap();
    assert_eq!(got.as_slice(), pattern(), "the store did complete the upload");
    bucket.delete_object(&k).unwrap();

    let log = proxy.log();
    let seen: Vec<(&str, &str, Option<u16>)> = log
        .iter()
        .map(|e| (e.method.as_str(), e.query.as_str(), e.status))
        .collect();
    let (uploads, id) = ("uploads", format!("uploadId={}", upload.upload_id));
    assert_eq!(seen.len(), 6, "{log:?}");
    assert_eq!(seen[0], ("POST", uploads, Some(200)));
    assert!(seen[1].0 == "PUT" && seen[1].1.contains("partNumber=1") && seen[1].1.contains(&id));
    assert_eq!(seen[2], ("POST", id.as_str(), Some(200)));
    assert_eq!(log[2].fault, Some(Fault::ReplaceBody(INTERNAL_ERROR)));
    assert_eq!(
        &seen[3..],
        [
            ("GET", "", Some(503)),
            ("GET", "", Some(200)),
            ("DELETE", "", Some(204))
        ]
    );
}

/// Chunked responses (SeaweedFS sends none) from a one-line fake upstream: forwarded as they
/// are, and rewritten with a Content-Length when a fault changes them.
#[test]
fn chunked_responses_are_forwarded_and_rewritten() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = upstream.local_addr().unwrap();
    std::thread::spawn(move || {
        let (stream, _) = upstream.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            if line == "\r\n" {
                let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n";
                stream.write_all(chunked.as_bytes()).unwrap();
            }
            line.clear();
        }
    });
    let proxy = S3Proxy::start(&addr.to_string());
    proxy.set(vec![Rule::new(Fault::FlipBit(0)).path("/flip")]);
    let mut client = std::net::TcpStream::connect(proxy.addr()).unwrap();
    client
        .write_all(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /flip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut got = String::new();
    client.read_to_string(&mut got).unwrap();
    assert_eq!(
        got,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\niello world"
    );
}
