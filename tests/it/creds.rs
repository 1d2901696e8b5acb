//! S3 credentials, region and endpoint found as the AWS tools find them: a profile of the shared
//! files (named by AWS_PROFILE or --s3-profile, files from HOME or AWS_SHARED_CREDENTIALS_FILE /
//! AWS_CONFIG_FILE), the environment over the profile, container credentials from a loopback
//! endpoint; and errors that name the profile and file, and say what a 403 means.

use crate::support;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use support::TestDir;

const WRONG_SECRET: &str = "canary-wrong-secret";

/// `warp-offload ls --dest s3://BUCKET/PREFIX` with HOME at `home` and no other S3 setting.
fn ls(t: &TestDir, home: &Path, dest: &str) -> Command {
    let mut c = support::cmd(&t.path("work"));
    c.env("HOME", home).args(["ls", "--dest", dest]);
    c
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn failed_with(o: &Output, want: &str) -> String {
    let err = support::stderr(o);
    assert!(!o.status.success(), "succeeded: {err}");
    assert!(err.contains(want), "wanted {want:?} in: {err}");
    assert!(!err.contains("canary"), "secret leaked: {err}");
    err
}

/// The SeaweedFS test store, its keys in the profiles `good` and `wrong` (wrong secret) of
/// `home/.aws/credentials`, its endpoint and region in `home/.aws/config`.
fn aws_files(home: &Path) -> (String, String) {
    let endpoint = support::s3_var("WARP_OFFLOAD_TEST_S3_ENDPOINT");
    let access = support::s3_var("WARP_OFFLOAD_TEST_S3_ACCESS_KEY");
    let secret = support::s3_var("WARP_OFFLOAD_TEST_S3_SECRET_KEY");
    write(
        &home.join(".aws/credentials"),
        &format!(
            "[good]\naws_access_key_id = {access}\naws_secret_access_key = {secret}\n\n\
             [wrong]\naws_access_key_id = {access}\naws_secret_access_key = {WRONG_SECRET}\n"
        ),
    );
    write(
        &home.join(".aws/config"),
        &format!(
            "[profile good]\nregion = us-east-1\nendpoint_url = {endpoint}\n\n\
             [profile wrong]\nendpoint_url = {endpoint}\n"
        ),
    );
    (support::s3_var("WARP_OFFLOAD_TEST_S3_BUCKET"), access)
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn a_profile_of_the_aws_files_gives_keys_region_and_endpoint() {
    let t = TestDir::new();
    let home = t.path("home");
    let (bucket, access) = aws_files(&home);
    let dest = format!("s3://{bucket}/{}", t.unique_prefix("creds"));
    let o = support::run(ls(&t, &home, &dest).env("AWS_PROFILE", "good"), "");
    assert!(o.status.success(), "{}", support::stderr(&o));
    let o = support::run(ls(&t, &home, &dest).args(["--s3-profile", "good"]), "");
    assert!(o.status.success(), "{}", support::stderr(&o));

    // The same files elsewhere, named by the variables (HOME has none).
    let elsewhere = t.path("elsewhere");
    std::fs::rename(home.join(".aws"), &elsewhere).unwrap();
    let o = support::run(
        ls(&t, &home, &dest)
            .env("AWS_PROFILE", "good")
            .env("AWS_SHARED_CREDENTIALS_FILE", elsewhere.join("credentials"))
            .env("AWS_CONFIG_FILE", elsewhere.join("config")),
        "",
    );
    assert!(o.status.success(), "{}", support::stderr(&o));
    std::fs::rename(&elsewhere, home.join(".aws")).unwrap();

    // Keys in the environment win over AWS_PROFILE, and the 403 says to check them.
    let o = support::run(
        ls(&t, &home, &dest)
            .env("AWS_PROFILE", "good")
            .env("AWS_ACCESS_KEY_ID", &access)
            .env("AWS_SECRET_ACCESS_KEY", WRONG_SECRET),
        "",
    );
    failed_with(&o, "signature does not match (HTTP 403 SignatureDoesNotMatch: ");
    failed_with(&o, "check the secret key from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    // ... but --s3-profile wins over them, as `aws --profile` does.
    let o = support::run(
        ls(&t, &home, &dest)
            .args(["--s3-profile", "good"])
            .env("AWS_ACCESS_KEY_ID", &access)
            .env("AWS_SECRET_ACCESS_KEY", WRONG_SECRET),
        "",
    );
    assert!(o.status.success(), "{}", support::stderr(&o));

    // A wrong secret in a profile: the message names the profile and its file.
    let o = support::run(ls(&t, &home, &dest).env("AWS_PROFILE", "wrong"), "");
    failed_with(
        &o,
        &format!(
            "check the secret key from profile \"wrong\" in {}",
            home.join(".aws/credentials").display()
        ),
    );
}

#[test]
fn a_missing_profile_is_named_with_the_files_looked_in() {
    let t = TestDir::new();
    let home = t.path("home");
    write(
        &home.join(".aws/credentials"),
        "[default]\naws_access_key_id = id\naws_secret_access_key = canary-secret\n",
    );
    let dest = "s3://bucket/p";
    let o = support::run(ls(&t, &home, dest).env("AWS_PROFILE", "prod"), "");
    let err = failed_with(&o, "S3 profile \"prod\" (from AWS_PROFILE) not found");
    assert!(
        err.contains(&home.join(".aws/credentials").display().to_string())
            && err.contains(&home.join(".aws/config").display().to_string()),
        "{err}"
    );
    let o = support::run(ls(&t, &home, dest).args(["--s3-profile", "prod"]), "");
    failed_with(&o, "S3 profile \"prod\" (from --s3-profile) not found");
    // Nothing anywhere: the message says where keys may go.
    let o = support::run(&mut ls(&t, &t.path("empty-home"), dest), "");
    failed_with(
        &o,
        "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
}

/// The headers of one request, names in lower case.
type Headers = Vec<(String, String)>;

/// A loopback HTTP server answering every request with `status` and `body`, recording the
/// requests' headers.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Headers>>>,
}

impl Server {
    fn start(status: u16, body: &'static str) -> Server {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let headers = req
                    .headers()
                    .iter()
                    .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.to_string()))
                    .collect();
                log.lock().unwrap().push(headers);
                let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(status));
            }
        });
        Server { url, seen }
    }

    fn header(&self, request: usize, name: &str) -> Option<String> {
        let seen = self.seen.lock().unwrap();
        let (_, v) = seen.get(request)?.iter().find(|(k, _)| k == name)?;
        Some(v.clone())
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

const CONTAINER_CREDS: &str = r#"{"AccessKeyId": "container-id", "SecretAccessKey": "canary-container-secret",
    "Token": "container-session", "Expiration": "2099-01-01T00:00:00Z"}"#;
const EMPTY_LIST: &str = "<?xml version=\"1.0\"?><ListBucketResult><Name>bucket</Name>\
    <IsTruncated>false</IsTruncated></ListBucketResult>";

#[test]
fn container_credentials_are_fetched_only_when_nothing_else_gave_keys() {
    let t = TestDir::new();
    let container = Server::start(200, CONTAINER_CREDS);
    let s3 = Server::start(200, EMPTY_LIST);
    let run = |c: &mut Command| {
        support::run(
            c.args(["--s3-endpoint", &s3.url])
                .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/creds", container.url))
                .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "canary-container-token"),
            "",
        )
    };
    let o = run(&mut ls(&t, &t.path("home"), "s3://bucket/p"));
    assert!(o.status.success(), "{}", support::stderr(&o));
    assert_eq!(container.requests(), 1);
    assert_eq!(
        container.header(0, "authorization").as_deref(),
        Some("canary-container-token")
    );
    let auth = s3.header(0, "authorization").unwrap();
    assert!(auth.contains("Credential=container-id/"), "{auth}");
    assert_eq!(
        s3.header(0, "x-amz-security-token").as_deref(),
        Some("container-session")
    );

    let o = run(ls(&t, &t.path("home"), "s3://bucket/p")
        .env("AWS_ACCESS_KEY_ID", "env-id")
        .env("AWS_SECRET_ACCESS_KEY", "env-secret"));
    assert!(o.status.success(), "{}", support::stderr(&o));
    assert_eq!(container.requests(), 1, "asked for credentials while keys were set");
    assert!(s3.header(1, "authorization").unwrap().contains("Credential=env-id/"));

    // An endpoint that fails is named, and stops the run.
    let broken = Server::start(500, "");
    let o = support::run(
        ls(&t, &t.path("home"), "s3://bucket/p")
            .args(["--s3-endpoint", &s3.url])
            .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/creds", broken.url)),
        "",
    );
    failed_with(
        &o,
        "S3 credentials from the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*): \
         unexpected status code: 500",
    );
}

#[test]
fn a_403_without_an_error_body_still_points_at_the_credentials() {
    let t = TestDir::new();
    let s3 = Server::start(403, "");
    let o = support::run(
        ls(&t, &t.path("home"), "s3://bucket/p")
            .args(["--s3-endpoint", &s3.url])
            .env("AWS_ACCESS_KEY_ID", "id")
            .env("AWS_SECRET_ACCESS_KEY", WRONG_SECRET),
        "",
    );
    failed_with(
        &o,
        "access denied or signature does not match (HTTP 403, no S3 error code in the response): \
         check the credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    );
}
