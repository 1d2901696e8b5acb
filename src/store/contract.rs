//! The store contract, one test body run against both destinations. The S3 half runs against
//! the SeaweedFS that `scripts/test.sh` starts (`scripts/seaweedfs.sh`).

use super::fs::FsStore;
use super::s3::{MIN_PART_SIZE, S3Store};
use super::{META_BLAKE3, Meta, Store};
use crate::store::{Addressing, S3Config};
use std::io::Read;
use std::path::Path;

/// Deterministic bytes that do not repeat at part boundaries.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut i = seed << 32;
    while out.len() < len {
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()).to_le_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

fn read_all(store: &dyn Store, key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    store.get(key).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn meta(pairs: &[(&str, &str)]) -> Meta {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn contract(store: &dyn Store, scratch: &Path) {
    assert_eq!(store.head("a/none").unwrap(), None);
    assert!(store.get("a/none").is_err());
    assert!(store.list("a/").unwrap().is_empty());

    store
        .put_bytes("a/small", b"hello", &meta(&[("blake3", "x1"), ("points", "5")]))
        .unwrap();
    let head = store.head("a/small").unwrap().unwrap();
    assert_eq!(head.size, 5);
    assert_eq!(head.meta, meta(&[("blake3", "x1"), ("points", "5")]));
    assert_eq!(read_all(store, "a/small"), b"hello");

    // Overwrite replaces content and metadata together.
    store.put_bytes("a/small", b"bye", &meta(&[("blake3", "x2")])).unwrap();
    let head = store.head("a/small").unwrap().unwrap();
    assert_eq!((head.size, head.meta), (3, meta(&[("blake3", "x2")])));
    assert_eq!(read_all(store, "a/small"), b"bye");

    store.put_bytes("a/empty", b"", &Meta::new()).unwrap();
    assert_eq!(store.head("a/empty").unwrap().unwrap().size, 0);
    assert!(read_all(store, "a/empty").is_empty());

    // A file larger than two parts (multipart on S3), read back in several range requests.
    let big = data(2 * MIN_PART_SIZE as usize + 12_345, 1);
    let file = scratch.join("big");
    std::fs::write(&file, &big).unwrap();
    let hash = blake3::hash(&big).to_hex().to_string();
    store
        .put_file("a/b/big.bin", &file, &meta(&[(META_BLAKE3, &hash)]))
        .unwrap();
    let head = store.head("a/b/big.bin").unwrap().unwrap();
    assert_eq!(head.size, big.len() as u64);
    assert_eq!(head.meta.get(META_BLAKE3), Some(&hash));
    let back = crate::archive::Hashed::new(store.get("a/b/big.bin").unwrap())
        .finish()
        .unwrap();
    assert_eq!(back, (big.len() as u64, hash));
    let mid = MIN_PART_SIZE - 10;
    assert_eq!(
        store.get_range("a/b/big.bin", mid, 20).unwrap(),
        &big[mid as usize..mid as usize + 20]
    );
    let end = big.len() as u64;
    assert_eq!(
        store.get_range("a/b/big.bin", end - 3, 3).unwrap(),
        &big[big.len() - 3..]
    );
    assert!(store.get_range("a/b/big.bin", 0, 0).unwrap().is_empty());
    for (offset, len) in [(end - 3, 4), (end, 1), (end + 10, 5)] {
        let err = store.get_range("a/b/big.bin", offset, len).unwrap_err();
        assert!(format!("{err:#}").contains("a/b/big.bin"), "{offset}+{len}: {err:#}");
    }
    assert!(store.get_range("a/none", 0, 1).is_err());

    let small_file = scratch.join("small");
    std::fs::write(&small_file, b"in one put").unwrap();
    store.put_file("b/one", &small_file, &Meta::new()).unwrap();
    assert_eq!(read_all(store, "b/one"), b"in one put");

    assert_eq!(
        store.list("a/").unwrap(),
        vec![
            ("a/b/big.bin".to_string(), big.len() as u64),
            ("a/empty".to_string(), 0),
            ("a/small".to_string(), 3),
        ]
    );
    assert_eq!(store.list("a/b/").unwrap().len(), 1);
    assert_eq!(store.list("b/").unwrap(), vec![("b/one".to_string(), 10)]);

    store.delete("a/small").unwrap();
    assert_eq!(store.head("a/small").unwrap(), None);
    store
        .delete("a/small")
        .expect("deleting a missing object is not an error");
    assert_eq!(store.list("a/").unwrap().len(), 2);

    for bad in ["", "../x", "a/../../x", "a//b", "/a", "a/.hidden", "a b", "a/é"] {
        assert!(store.put_bytes(bad, b"x", &Meta::new()).is_err(), "{bad:?} accepted");
        assert!(store.head(bad).is_err(), "{bad:?} accepted");
        assert!(store.delete(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn directory_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::new(&dir.path().join("dest")).unwrap();
    contract(&store, dir.path());
    // Nothing escaped the directory and no temp file was left.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["big", "dest", "small"]);
    let leftovers = std::fs::read_dir(dir.path().join("dest/a"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".tmp-"));
    assert_eq!(leftovers.count(), 0);
}

#[test]
fn directory_store_never_pairs_an_object_with_stale_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::new(dir.path()).unwrap();
    store.put_bytes("k", b"one", &meta(&[("blake3", "h1")])).unwrap();
    // As after a crash between the data rename and the sidecar rename of another version of
    // the same size: the old sidecar is gone, the new one not there yet.
    std::fs::remove_file(dir.path().join(".k.meta.json")).unwrap();
    std::fs::write(dir.path().join("k"), b"two").unwrap();
    assert_eq!(store.head("k").unwrap().unwrap().meta, Meta::new());
    assert_eq!(store.url("k"), format!("file://{}/k", dir.path().display()));
}

/// SeaweedFS settings from `scripts/seaweedfs.sh`. The tests that use them are `#[ignore]`d
/// (reported skipped by a plain `cargo test`); scripts/test.sh runs them with `--include-ignored`,
/// and without the settings they fail, never pass.
pub fn test_s3() -> (String, S3Config, impl Fn(&str) -> Option<String>) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the tests through scripts/test.sh (it starts SeaweedFS)")
        })
    };
    let endpoint = var("WARP_OFFLOAD_TEST_S3_ENDPOINT");
    let bucket = var("WARP_OFFLOAD_TEST_S3_BUCKET");
    let (access, secret) = (
        var("WARP_OFFLOAD_TEST_S3_ACCESS_KEY"),
        var("WARP_OFFLOAD_TEST_S3_SECRET_KEY"),
    );
    let opts = S3Config {
        s3_endpoint: Some(endpoint),
        s3_addressing: Addressing::Auto,
        s3_profile: None,
        part_size: MIN_PART_SIZE,
        s3_retries: 3,
        s3_timeout: 60,
        ca_cert: None,
    };
    let env = move |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some(access.clone()),
        "AWS_SECRET_ACCESS_KEY" => Some(secret.clone()),
        _ => None,
    };
    (bucket, opts, env)
}

/// A prefix no other test run uses.
fn unique_prefix(dir: &Path) -> String {
    let name = dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "");
    format!("contract-{}-{name}", std::process::id())
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn s3_store_meets_the_contract() {
    let (bucket, opts, env) = test_s3();
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix(dir.path());
    let store = S3Store::new(&bucket, &prefix, &opts, &env).unwrap();
    contract(&store, dir.path());
    assert_eq!(store.url("a/small"), format!("s3://{bucket}/{prefix}/a/small"));
    assert!(!format!("{store:?}").contains("secret"), "{store:?}");
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn s3_multipart_aborts_stale_uploads_and_leaves_none() {
    let (bucket, opts, env) = test_s3();
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix(dir.path());
    let store = S3Store::new(&bucket, &prefix, &opts, &env).unwrap();
    let raw = s3::bucket::Bucket::new(
        &bucket,
        s3::Region::Custom {
            region: "us-east-1".into(),
            endpoint: opts.s3_endpoint.clone().unwrap(),
        },
        s3::creds::Credentials::new(
            env("AWS_ACCESS_KEY_ID").as_deref(),
            env("AWS_SECRET_ACCESS_KEY").as_deref(),
            None,
            None,
            None,
        )
        .unwrap(),
    )
    .unwrap()
    .with_path_style();
    let full = format!("{prefix}/seg/data");
    let pending = || store.pending_uploads(&full).unwrap().len();
    // A dead run's upload: initiated, one part sent, never completed.
    let init = raw
        .initiate_multipart_upload(&full, "application/octet-stream")
        .unwrap();
    raw.put_multipart_chunk(
        &data(MIN_PART_SIZE as usize, 2),
        &full,
        1,
        &init.upload_id,
        "application/octet-stream",
    )
    .unwrap();
    assert_eq!(pending(), 1);

    let big = data(MIN_PART_SIZE as usize + 1, 3);
    let file = dir.path().join("big");
    std::fs::write(&file, &big).unwrap();
    store.put_file("seg/data", &file, &Meta::new()).unwrap();
    assert_eq!(pending(), 0);
    assert_eq!(read_all(&store, "seg/data"), big);
}

#[test]
#[ignore = "needs S3: scripts/test.sh starts SeaweedFS and runs it with --include-ignored"]
fn s3_wrong_credentials_name_endpoint_and_bucket_not_the_secret() {
    let (bucket, opts, env) = test_s3();
    let wrong = |name: &str| match name {
        "AWS_SECRET_ACCESS_KEY" => Some("canary-wrong-secret".to_string()),
        other => env(other),
    };
    let store = S3Store::new(&bucket, "p", &opts, &wrong).unwrap();
    let err = format!("{:#}", store.put_bytes("k", b"x", &Meta::new()).unwrap_err());
    assert!(err.contains(&format!("s3://{bucket}/p/k")), "{err}");
    assert!(err.contains(opts.s3_endpoint.as_deref().unwrap()), "{err}");
    assert!(err.contains("403"), "{err}");
    assert!(!err.contains("canary"), "{err}");
}
