//! An S3-compatible bucket as a destination (rust-s3, sync API over attohttpc + rustls).
//!
//! rust-s3 is used for signing and plain requests only: its retries are switched off (they
//! replay 4xx and never PUTs) in favour of ours, and multipart uploads are driven here so that
//! any failure aborts the upload instead of leaving parts behind. Every request, body included,
//! is bounded by `--s3-timeout` (attohttpc's whole-request timeout): requests are small enough
//! for a flat deadline (one part, or one `READ_CHUNK` range), so a store that trickles its
//! answer fails the request in bounded time, and the retry budget bounds the rest. Error messages name the
//! operation, the object URL and the endpoint, and quote the S3 error code and message, never
//! the raw body (it can echo the access key id and the canonical request); a 403 also names
//! where the credentials came from (see `aws.rs`), never their value.

use super::aws;
use super::{META_BLAKE3, Meta, ObjectInfo, Store};
use crate::error::Transient;
use crate::retry::with_retries;
use crate::store::S3Config;
use anyhow::{Context, Result, bail};
use s3::Region;
use s3::bucket::Bucket;
use s3::error::S3Error;
use s3::serde_types::Part;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Smallest part S3 accepts (except the last one).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// Largest part S3 accepts, and the most parts one upload may have.
const MAX_PART_SIZE: u64 = 5 << 30;
const MAX_PARTS: u64 = 10_000;
/// Size of the range requests a `get` stream is read in.
const READ_CHUNK: u64 = 8 << 20;
const CONTENT_TYPE: &str = "application/octet-stream";

pub struct S3Store {
    /// Holds the credentials: never printed (see the `Debug` impl), never put in an error.
    bucket: Box<Bucket>,
    prefix: String,
    endpoint: String,
    /// Where the credentials came from, for messages: a variable, or a profile and its file.
    creds_from: String,
    retries: u32,
    timeout: Duration,
    part_size: u64,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Store({} at {})", self.url(""), self.endpoint)
    }
}

/// A non-empty environment variable.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl S3Store {
    /// `env` looks up the AWS_* variables and HOME (the process environment, except in tests);
    /// `aws::resolve` says where endpoint, region and credentials come from.
    pub fn new(bucket_name: &str, prefix: &str, opts: &S3Config, env: aws::Env) -> Result<S3Store> {
        let valid_bucket = (3..=63).contains(&bucket_name.len())
            && bucket_name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b));
        if !valid_bucket {
            return Err(crate::error::Usage(format!(
                "invalid bucket name {bucket_name:?}: 3 to 63 characters of a-z, 0-9, '.', '-', '_'"
            ))
            .into());
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&opts.part_size) {
            bail!("--part-size must be between 5MiB and 5GiB (S3's limits)");
        }
        let aws::Settings {
            endpoint,
            region,
            path_style,
            creds,
        } = aws::resolve(opts, env)?;
        let uri: http::Uri = endpoint
            .parse()
            .with_context(|| format!("invalid S3 endpoint {endpoint:?}"))?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            bail!("invalid S3 endpoint: it must not carry credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)");
        }
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if crate::net::plain_http_allowed(&endpoint) => {}
            Some("http") => bail!(
                "refusing plain http:// S3 endpoint {endpoint}: keys and data would travel in clear; \
                 use https:// or --allow-insecure-http"
            ),
            _ => bail!("invalid S3 endpoint {endpoint:?}: must start with https:// or http://"),
        }
        let creds_from = creds.source();
        let creds = creds.load(Duration::from_secs(opts.s3_timeout))?;
        let region = Region::Custom {
            region,
            endpoint: endpoint.clone(),
        };
        let mut bucket = Bucket::new(bucket_name, region, creds).map_err(|e| {
            anyhow::anyhow!(
                "configuring bucket {bucket_name} at {endpoint}: {}",
                describe(&e, &creds_from)
            )
        })?;
        if path_style {
            bucket.set_path_style();
        } else {
            bucket.set_subdomain_style();
        }
        bucket.set_request_timeout(Some(Duration::from_secs(opts.s3_timeout)));
        // Our own retry loop classifies errors; rust-s3's would replay 4xx with a fixed backoff.
        s3::set_retries(0);
        Ok(S3Store {
            bucket,
            prefix: prefix.to_string(),
            endpoint,
            creds_from,
            retries: opts.s3_retries.max(1),
            timeout: Duration::from_secs(opts.s3_timeout),
            part_size: opts.part_size,
        })
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// Runs one S3 request with our retries; errors name the operation, object and endpoint.
    /// `bytes`: the payload sent, or asked for.
    fn call<T>(&self, op: &str, key: &str, bytes: u64, mut f: impl FnMut(&Bucket) -> Result<T, S3Error>) -> Result<T> {
        with_retries(self.retries, "s3", || {
            self.attempt(op, key, bytes, || {
                f(&self.bucket).map_err(|e| classify(e, &self.creds_from))
            })
        })
    }

    /// One attempt of a request, logged at `-v` by its object URL (never the signed URL, which
    /// carries the access key id). Its error names the operation, object and endpoint, so that
    /// the retry warning quoting it does too.
    fn attempt<T>(&self, op: &str, key: &str, bytes: u64, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let result = f().with_context(|| format!("S3 {op} {} (endpoint {})", self.url(key), self.endpoint));
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("failed: {}", e.root_cause()),
        };
        crate::log::request("s3", op, &self.url(key), &outcome, bytes, started);
        result
    }

    fn put_single(&self, full: &str, key: &str, data: &[u8], meta: &Meta) -> Result<Option<String>> {
        let headers = meta_headers(meta)?;
        let resp = self.call("PUT", key, data.len() as u64, |b| {
            b.put_object_with_content_type_and_headers(full, data, CONTENT_TYPE, Some(headers.clone()))
        })?;
        Ok(resp
            .as_str()
            .ok()
            .map(|s| s.trim_matches('"').to_string())
            .filter(|s| !s.is_empty()))
    }

    /// Aborts multipart uploads of `full` left by an earlier run that died: the key is
    /// deterministic, so they can only be ours, and they would otherwise stay billed forever.
    fn abort_stale_uploads(&self, full: &str, key: &str) -> Result<()> {
        let stale = with_retries(self.retries, "s3", || {
            self.attempt("list multipart uploads", key, 0, || self.pending_uploads(full))
        })?;
        for upload_id in stale {
            crate::log::info(
                "upload",
                None,
                &format!("aborting stale multipart upload of {}", self.url(key)),
                &[],
            );
            self.call("abort multipart upload", key, 0, |b| b.abort_upload(full, &upload_id))?;
        }
        Ok(())
    }

    /// Upload ids of the multipart uploads in progress for exactly `full`. rust-s3's own listing
    /// cannot parse SeaweedFS's answer (it has no StorageClass), so this sends a presigned
    /// ListMultipartUploads request and reads the XML here.
    pub fn pending_uploads(&self, full: &str) -> Result<Vec<String>> {
        let query = [("uploads", ""), ("prefix", full)].map(|(k, v)| (k.to_string(), v.to_string()));
        let url = self
            .bucket
            .presign_get("/", 300, Some(query.into_iter().collect()))
            .map_err(|e| anyhow::anyhow!("signing the request: {}", describe(&e, &self.creds_from)))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(self.timeout))
            .build()
            .into();
        // The presigned URL carries the access key id and a signature: never quote it.
        let mut resp = agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Timeout(t) => Transient(crate::net::describe_timeout(t, "--s3-timeout", self.timeout)),
            e => Transient(format!("request failed: {e}")),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| Transient(format!("reading the answer: {e}")))?;
        if status != 200 {
            let msg = http_failure(status, &body, &self.creds_from);
            return Err(if status >= 500 || status == 429 {
                Transient(msg).into()
            } else {
                anyhow::anyhow!(msg)
            });
        }
        if xml_field(&body, "IsTruncated").as_deref() == Some("true") {
            bail!("more multipart uploads in progress for {full} than one answer lists");
        }
        Ok(body
            .split("<Upload>")
            .skip(1)
            .filter(|u| xml_field(u, "Key").as_deref() == Some(full))
            .filter_map(|u| xml_field(u, "UploadId"))
            .collect())
    }

    fn put_multipart(&self, full: &str, key: &str, mut src: std::fs::File, meta: &Meta) -> Result<Option<String>> {
        self.abort_stale_uploads(full, key)?;
        // Metadata goes on the initiate request; rust-s3 drops x-amz-meta-* from part requests.
        let with_meta = self
            .bucket
            .with_extra_headers(meta_headers(meta)?)
            .map_err(|e| anyhow::anyhow!("preparing metadata headers: {}", describe(&e, &self.creds_from)))?;
        let init = with_retries(self.retries, "s3", || {
            self.attempt("initiate multipart upload", key, 0, || {
                with_meta
                    .initiate_multipart_upload(full, CONTENT_TYPE)
                    .map_err(|e| classify(e, &self.creds_from))
            })
        })?;
        let upload_id = init.upload_id;
        let result = self.send_parts(full, key, &mut src, &upload_id);
        if result.is_ok() {
            return result;
        }
        // Best effort: the error that made us stop matters more than a failed abort, and the
        // next run aborts stale uploads of this key anyway.
        if let Err(e) = self.call("abort multipart upload", key, 0, |b| b.abort_upload(full, &upload_id)) {
            crate::log::warn(&format!("{e:#}"));
        }
        // A completion whose answer was lost, and whose retry then met NoSuchUpload, did
        // happen: the object with this content is there.
        if let (Some(want), Ok(Some(have))) = (meta.get(META_BLAKE3), self.head(key))
            && have.meta.get(META_BLAKE3) == Some(want)
            && src.metadata().is_ok_and(|m| m.len() == have.size)
        {
            return Ok(None);
        }
        result
    }

    fn send_parts(&self, full: &str, key: &str, src: &mut std::fs::File, upload_id: &str) -> Result<Option<String>> {
        let mut parts = Vec::new();
        let mut buf = Vec::with_capacity(self.part_size as usize);
        loop {
            buf.clear();
            src.by_ref()
                .take(self.part_size)
                .read_to_end(&mut buf)
                .with_context(|| format!("reading part {} for {}", parts.len() + 1, self.url(key)))?;
            if buf.is_empty() && !parts.is_empty() {
                break;
            }
            let number = parts.len() as u32 + 1;
            let part: Part = self.call(&format!("PUT part {number}"), key, buf.len() as u64, |b| {
                b.put_multipart_chunk(&buf, full, number, upload_id, CONTENT_TYPE)
            })?;
            parts.push(part);
            crate::exit::failpoint("upload-after-part");
            if (buf.len() as u64) < self.part_size {
                break;
            }
        }
        // rust-s3 0.38 turns a 200 whose body is an <Error> into an error (S3 reports late
        // completion failures that way); a lost response to a completion that did happen
        // comes back as NoSuchUpload on retry and is settled by the HEAD the caller does.
        let done = self.call("complete multipart upload", key, 0, |b| {
            b.complete_multipart_upload(full, upload_id, parts.clone())
        })?;
        let body = done.as_str().unwrap_or_default();
        if body.contains("<Error>") {
            bail!(
                "S3 complete multipart upload {}: the store answered with an error: {}",
                self.url(key),
                error_code(body).unwrap_or_else(|| "(no S3 error code in it)".into())
            );
        }
        Ok(xml_field(body, "ETag").map(|e| e.trim_matches('"').to_string()))
    }
}

impl Store for S3Store {
    fn destination(&self) -> super::Destination {
        super::Destination::S3 {
            bucket: self.bucket.name(),
            prefix: self.prefix.clone(),
        }
    }

    fn url(&self, key: &str) -> String {
        let full = self.full_key(key);
        format!("s3://{}/{}", self.bucket.name(), full.trim_end_matches('/'))
    }

    fn put_file(&self, key: &str, path: &Path, meta: &Meta) -> Result<Option<String>> {
        super::check_key(key)?;
        let full = self.full_key(key);
        let src = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let size = src
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if size <= self.part_size {
            let mut data = Vec::with_capacity(size as usize);
            src.take(size + 1)
                .read_to_end(&mut data)
                .with_context(|| format!("reading {}", path.display()))?;
            return self.put_single(&full, key, &data, meta);
        }
        if size.div_ceil(self.part_size) > MAX_PARTS {
            bail!(
                "{} is {size} bytes: more than {MAX_PARTS} parts of --part-size {}; raise --part-size",
                path.display(),
                self.part_size
            );
        }
        self.put_multipart(&full, key, src, meta)
    }

    fn put_bytes(&self, key: &str, data: &[u8], meta: &Meta) -> Result<()> {
        super::check_key(key)?;
        self.put_single(&self.full_key(key), key, data, meta).map(|_| ())
    }

    fn get(&self, key: &str) -> Result<Box<dyn Read + Send + '_>> {
        let info = self
            .head(key)?
            .with_context(|| format!("S3 GET {}: no such object", self.url(key)))?;
        Ok(Box::new(RangeReader {
            store: self,
            key: key.to_string(),
            size: info.size,
            pos: 0,
            buf: Vec::new(),
            at: 0,
        }))
    }

    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        super::check_key(key)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        let last = offset
            .checked_add(len - 1)
            .with_context(|| format!("S3 GET {}: range {offset}+{len} overflows", self.url(key)))?;
        let full = self.full_key(key);
        let data = self
            .call("GET", key, len, |b| b.get_object_range(&full, offset, Some(last)))?
            .to_vec();
        if data.len() as u64 != len {
            bail!(
                "S3 GET {}: range {offset}-{last} returned {} bytes (the object is shorter, or changed while being read)",
                self.url(key),
                data.len()
            );
        }
        Ok(data)
    }

    fn head(&self, key: &str) -> Result<Option<ObjectInfo>> {
        super::check_key(key)?;
        let full = self.full_key(key);
        let head = with_retries(self.retries, "s3", || {
            self.attempt("HEAD", key, 0, || match self.bucket.head_object(&full) {
                Ok((h, _)) => Ok(Some(h)),
                Err(S3Error::HttpFailWithBody(404, _)) => Ok(None),
                Err(e) => Err(classify(e, &self.creds_from)),
            })
        })?;
        let Some(head) = head else { return Ok(None) };
        let size = head
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .with_context(|| format!("S3 HEAD {}: no Content-Length", self.url(key)))?;
        let meta = head
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        Ok(Some(ObjectInfo { size, meta }))
    }

    fn delete(&self, key: &str) -> Result<()> {
        super::check_key(key)?;
        let full = self.full_key(key);
        self.call("DELETE", key, 0, |b| b.delete_object(&full)).map(drop)
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let full = self.full_key(prefix);
        let pages = self.call("LIST", prefix, 0, |b| b.list(full.clone(), None))?;
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut out: Vec<(String, u64)> = pages
            .into_iter()
            .flat_map(|p| p.contents)
            .filter(|o| o.key.starts_with(&full))
            .map(|o| (o.key[strip..].to_string(), o.size))
            .collect();
        out.sort();
        Ok(out)
    }
}

/// Streams an object with range requests, each retried on its own.
struct RangeReader<'a> {
    store: &'a S3Store,
    key: String,
    size: u64,
    /// Offset of the next range to fetch.
    pos: u64,
    buf: Vec<u8>,
    /// Read position in `buf`.
    at: usize,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            if self.pos >= self.size {
                return Ok(0);
            }
            let last = (self.pos + READ_CHUNK).min(self.size) - 1;
            let full = self.store.full_key(&self.key);
            let data = self
                .store
                .call("GET", &self.key, last - self.pos + 1, |b| {
                    b.get_object_range(&full, self.pos, Some(last))
                })
                .map_err(|e| std::io::Error::other(format!("{e:#}")))?
                .to_vec();
            // The store answered, with other bytes than it said it holds: what was read back
            // does not match, like a flipped bit would not.
            if data.len() as u64 != last - self.pos + 1 {
                return Err(std::io::Error::other(crate::error::Mismatch(format!(
                    "S3 GET {}: range {}-{last} returned {} bytes (object changed while being read?)",
                    self.store.url(&self.key),
                    self.pos,
                    data.len()
                ))));
            }
            self.pos = last + 1;
            self.buf = data;
            self.at = 0;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn meta_headers(meta: &Meta) -> Result<http::HeaderMap> {
    let mut headers = http::HeaderMap::new();
    for (k, v) in meta {
        let name = http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes())
            .with_context(|| format!("invalid metadata name {k:?}"))?;
        let value = http::HeaderValue::from_str(v).with_context(|| format!("invalid metadata value for {k}"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// Turns a rust-s3 error into ours: the S3 error code and message instead of the raw body, and
/// `Transient` for what a retry may fix (5xx, 408, 429, SlowDown, timeouts, resets).
fn classify(e: S3Error, creds: &str) -> anyhow::Error {
    let transient = match &e {
        S3Error::HttpFailWithBody(status, body) => {
            *status >= 500
                || *status == 408
                || *status == 429
                || ["SlowDown", "RequestTimeout", "InternalError"]
                    .iter()
                    .any(|c| body.contains(&format!("<Code>{c}</Code>")))
        }
        // Connection trouble is worth another try; a certificate the client rejects is not.
        S3Error::Atto(e) => match e.kind() {
            attohttpc::ErrorKind::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
            attohttpc::ErrorKind::ConnectError { .. } => true,
            _ => false,
        },
        S3Error::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
        _ => false,
    };
    let msg = describe(&e, creds);
    if transient {
        Transient(msg).into()
    } else {
        anyhow::anyhow!(msg)
    }
}

/// `creds` names where the credentials came from, for a 403.
fn describe(e: &S3Error, creds: &str) -> String {
    let timed_out = match e {
        S3Error::Atto(a) => {
            matches!(a.kind(), attohttpc::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
        }
        S3Error::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
        _ => false,
    };
    match e {
        _ if timed_out => "the request did not complete within --s3-timeout (store too slow)".to_string(),
        S3Error::HttpFailWithBody(status, body) => http_failure(*status, body, creds),
        other => other.to_string(),
    }
}

/// An HTTP error answer: its status, the S3 error code and message when the body has them (a
/// HEAD answer has no body), and for a 403 what it likely means and where the credentials came
/// from (`creds`: a variable, or a profile and its file; never a value).
fn http_failure(status: u16, body: &str, creds: &str) -> String {
    let code = xml_field(body, "Code");
    let detail = match error_code(body) {
        Some(c) => format!("HTTP {status} {c}"),
        None => format!("HTTP {status}, no S3 error code in the response"),
    };
    if status != 403 {
        return detail;
    }
    let (what, check) = match code.as_deref() {
        Some("SignatureDoesNotMatch") => ("signature does not match", "the secret key"),
        Some("InvalidAccessKeyId") => ("unknown access key id", "the access key id"),
        Some("AccessDenied") => ("access denied", "the rights of the credentials"),
        None => ("access denied or signature does not match", "the credentials"),
        Some(_) => return detail,
    };
    format!("{what} ({detail}): check {check} from {creds}")
}

/// `Code: Message` from an S3 XML error body.
fn error_code(body: &str) -> Option<String> {
    let code = xml_field(body, "Code")?;
    Some(match xml_field(body, "Message") {
        Some(m) => format!("{code}: {m}"),
        None => code,
    })
}

/// The text of the first `<tag>` element, unescaped, at most 300 characters.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    let text: String = body[start..end].chars().take(300).collect();
    Some(
        text.replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&apos;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_quote_code_and_message_not_the_body() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message><AWSAccessKeyId>AKIACANARY</AWSAccessKeyId></Error>";
        let e = classify(
            S3Error::HttpFailWithBody(403, body.into()),
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        );
        let text = format!("{e:#}");
        assert_eq!(
            text,
            "signature does not match (HTTP 403 SignatureDoesNotMatch: bad sig): check the secret key from \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        );
        assert!(!text.contains("AKIACANARY"));
        assert!(!crate::error::is_transient(&e));
        let slow = classify(
            S3Error::HttpFailWithBody(503, "<Error><Code>SlowDown</Code></Error>".into()),
            "",
        );
        assert!(crate::error::is_transient(&slow));
        assert!(crate::error::is_transient(&classify(
            S3Error::HttpFailWithBody(429, String::new()),
            ""
        )));
        assert!(!crate::error::is_transient(&classify(
            S3Error::HttpFailWithBody(404, String::new()),
            ""
        )));
    }

    #[test]
    fn a_403_says_what_it_likely_means_and_where_the_credentials_came_from() {
        let from = "profile \"prod\" in /h/.aws/credentials";
        // HEAD answers carry no body: the status alone must still point at the credentials.
        assert_eq!(
            http_failure(403, "", from),
            "access denied or signature does not match (HTTP 403, no S3 error code in the response): \
             check the credentials from profile \"prod\" in /h/.aws/credentials"
        );
        let body = |code: &str| format!("<Error><Code>{code}</Code><Message>m</Message></Error>");
        assert_eq!(
            http_failure(403, &body("InvalidAccessKeyId"), from),
            format!("unknown access key id (HTTP 403 InvalidAccessKeyId: m): check the access key id from {from}")
        );
        assert_eq!(
            http_failure(403, &body("AccessDenied"), from),
            format!("access denied (HTTP 403 AccessDenied: m): check the rights of the credentials from {from}")
        );
        // Other 403s (a skewed clock) are not about the keys: their code says it.
        assert_eq!(
            http_failure(403, &body("RequestTimeTooSkewed"), from),
            "HTTP 403 RequestTimeTooSkewed: m"
        );
        assert_eq!(
            http_failure(404, "", from),
            "HTTP 404, no S3 error code in the response"
        );
    }
}
