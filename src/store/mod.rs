//! Destinations: one small object-store contract, implemented by an S3 bucket (`s3.rs`) and a
//! local directory (`fs.rs`), checked by the same contract tests.
//!
//! Keys are relative to the destination (`s3://bucket/prefix` or the directory) and validated
//! here: `/`-separated components of `[A-Za-z0-9._-]`, none `.`/`..` or starting with `.` (the
//! directory store keeps its temp files and metadata sidecars under such names).

pub mod aws;
pub mod fs;
pub mod s3;

use crate::error::Usage;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How to reach an S3 store (from `--s3-*`, `--part-size`, `--ca-cert`); the rest comes from the
/// environment and the AWS shared files (`aws.rs`).
#[derive(Clone, Debug)]
pub struct S3Config {
    pub s3_endpoint: Option<String>,
    pub s3_addressing: Addressing,
    /// `--s3-profile`: the profile of the AWS shared files, winning over environment keys.
    pub s3_profile: Option<String>,
    pub part_size: u64,
    pub s3_retries: u32,
    pub s3_timeout: u64,
    pub ca_cert: Option<std::path::PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Addressing {
    Auto,
    Path,
    Virtual,
}

/// User metadata of an object (`x-amz-meta-*` on S3): lower-case names, ASCII values, never a
/// secret.
pub type Meta = BTreeMap<String, String>;

pub const META_BLAKE3: &str = "blake3";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub meta: Meta,
}

/// The contract both destinations fulfil. Writes are atomic: a reader sees the old object, the
/// new one, or none, never a part.
pub trait Store: Send + Sync {
    /// Where `key` lives, for records and messages: `s3://bucket/prefix/key`, `file:///dir/key`.
    fn url(&self, key: &str) -> String;
    /// The destination itself, to match the `upload.dest` of records against.
    fn destination(&self) -> Destination;
    /// Stores the file at `path` under `key`, streaming it. Returns the ETag when there is one.
    fn put_file(&self, key: &str, path: &Path, meta: &Meta) -> Result<Option<String>>;
    /// Stores a small object held in memory.
    fn put_bytes(&self, key: &str, data: &[u8], meta: &Meta) -> Result<()>;
    /// Reads an object as a stream.
    fn get(&self, key: &str) -> Result<Box<dyn Read + Send + '_>>;
    /// Reads exactly `len` bytes at `offset` (one ranged GET on S3). A range reaching past the
    /// end of the object is an error, never a short read.
    fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>>;
    /// Size and metadata, or `None` when there is no such object.
    fn head(&self, key: &str) -> Result<Option<ObjectInfo>>;
    /// Keys starting with `prefix`, with their sizes, in key order.
    fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>>;
    /// Removes an object; removing a missing one is not an error. Only lock objects are ever
    /// deleted: archives and manifest objects are write-once.
    fn delete(&self, key: &str) -> Result<()>;
}

/// Applies `--ca-cert`. Call it first thing in a command, before any thread is started.
///
/// rust-s3's sync client builds a fresh TLS configuration for every request from the public
/// (webpki) roots plus the system roots, and offers no way to add one; the system roots come
/// from `SSL_CERT_FILE` when it is set, so the only way in is that variable.
pub fn init_tls(s3: &S3Config) -> Result<()> {
    let Some(path) = &s3.ca_cert else { return Ok(()) };
    let pem = std::fs::read_to_string(path).with_context(|| format!("reading --ca-cert {}", path.display()))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        bail!("--ca-cert {}: no PEM certificate in it", path.display());
    }
    let path = std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
    // SAFETY: called before the command starts any thread, so nothing reads the environment
    // concurrently.
    unsafe { std::env::set_var("SSL_CERT_FILE", path) };
    Ok(())
}

/// A destination, parsed once from `--dest` or from a record's `upload.dest`: a bucket and
/// prefix, or a directory (absolute, normalised). Two spellings of one place compare equal
/// (`d`, `./d/`, `file:///abs/d`), so a record is matched with a destination by value, not text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    S3 { bucket: String, prefix: String },
    Dir(std::path::PathBuf),
}

impl Destination {
    /// Whether a record's `upload.dest` names this destination (a text that does not parse
    /// names none).
    pub fn is(&self, text: &str) -> bool {
        Destination::parse(text).is_ok_and(|d| &d == self)
    }

    /// `s3://bucket[/prefix]`, `file:///dir` or a plain directory path; anything else, including
    /// what looks like a mistyped URL, is a usage error.
    pub fn parse(dest: &str) -> Result<Destination> {
        let usage = |why: String| -> anyhow::Error { Usage(format!("invalid destination {dest:?}: {why}")).into() };
        if let Some(rest) = dest.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = prefix.trim_matches('/');
            if bucket.is_empty() {
                return Err(usage("no bucket".into()));
            }
            if !prefix.is_empty() {
                check_key(prefix).map_err(|e| usage(format!("invalid prefix: {e:#}")))?;
            }
            return Ok(Destination::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        let path = match dest.strip_prefix("file://") {
            Some(p) if p.starts_with('/') => p,
            Some(_) => return Err(usage("a file URL must be file:///absolute/path".into())),
            None if dest.contains("://") => {
                return Err(usage("use s3://bucket/prefix, file:///dir or a directory path".into()));
            }
            None if looks_like_url(dest) => {
                return Err(usage(format!(
                    "looks like a mistyped URL; use s3://bucket/prefix, file:///dir, or ./{dest} for a directory \
                     of that name"
                )));
            }
            None => dest,
        };
        if path.is_empty() {
            return Err(Usage("invalid destination: empty path".into()).into());
        }
        let abs = std::path::absolute(path).with_context(|| format!("resolving directory {path}"))?;
        Ok(Destination::Dir(abs.components().collect()))
    }
}

/// Opens a destination.
pub fn open(dest: &Destination, s3: &S3Config) -> Result<Box<dyn Store>> {
    Ok(match dest {
        Destination::S3 { bucket, prefix } => Box::new(s3::S3Store::new(bucket, prefix, s3, &s3::env_var)?),
        Destination::Dir(path) => Box::new(fs::FsStore::new(path)?),
    })
}

/// `s3:/bucket`, `s3:bucket`, `file:/dir`: a first path component with a scheme-like `name:`
/// prefix is almost always a mistyped URL, which would otherwise become a local directory.
fn looks_like_url(dest: &str) -> bool {
    let first = dest.split('/').next().unwrap_or_default();
    first.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    })
}

/// Checks that `key` is a safe relative object key (see the module comment).
pub fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.split('/').all(|c| {
            !c.is_empty() && !c.starts_with('.') && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    if !ok {
        bail!(
            "invalid object key {key:?}: must be /-separated names of [A-Za-z0-9._-], none empty or starting with '.'"
        );
    }
    Ok(())
}

/// Stores opened on demand, one per destination named in the records.
pub struct Stores {
    s3: S3Config,
    open: Mutex<HashMap<Destination, Arc<dyn Store>>>,
}

impl Stores {
    pub fn new(s3: S3Config) -> Stores {
        Stores {
            s3,
            open: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, dest: &Destination) -> Result<Arc<dyn Store>> {
        let mut open = self.open.lock().expect("store cache lock");
        if let Some(store) = open.get(dest) {
            return Ok(Arc::clone(store));
        }
        let store: Arc<dyn Store> = Arc::from(self::open(dest, &self.s3)?);
        open.insert(dest.clone(), Arc::clone(&store));
        Ok(store)
    }
}

#[cfg(test)]
pub(crate) mod contract;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_place_many_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().join("d");
        let d = Destination::parse(abs.to_str().unwrap()).unwrap();
        for same in [
            format!("{}/", abs.display()),
            format!("file://{}", abs.display()),
            format!("{}/./", abs.display()),
        ] {
            assert!(d.is(&same), "{same}");
        }
        assert!(!d.is(&format!("{}/e", abs.display())));
        assert!(!d.is("s3://d"));
        let s3 = Destination::parse("s3://bucket/a/b/").unwrap();
        assert!(s3.is("s3://bucket/a/b") && !s3.is("s3://bucket/a"));
        for bad in ["s3://", "file://relative", "", "s3://b/../x"] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
    }
}
