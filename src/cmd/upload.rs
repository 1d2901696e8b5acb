//! `upload`: puts each archive under a key derived from the segment id, with its BLAKE3, size
//! and point count as object metadata, then the segment's manifest object — written last, it
//! is the commit marker `ls` and `restore` trust. Re-running is a no-op for objects already
//! there with the same BLAKE3; an object with other content is only replaced with `--force`.

use crate::cli::{GlobalOpts, UploadArgs};
use crate::cmd::{decide_default, run_stage};
use crate::digest::Digest;
use crate::exit::{Mismatch, Tally};
use crate::manifest::{self, ArchiveInfo, Segment, SegmentId, UploadInfo, VerifyInfo};
use crate::store::{self, HashingReader, META_BLAKE3, Meta, Store};
use crate::warp10::is_transient;
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::time::Instant;

pub fn run(g: &GlobalOpts, a: UploadArgs) -> Result<Tally> {
    store::init_tls(&a.s3)?;
    let store = store::open(&a.dest, &a.s3)?;
    let work = WorkDir::new(&g.work_dir);
    let dest = store.url("");
    let bar = crate::log::bar(None, "upload");
    let tally = run_stage(
        crate::cmd::stdin(),
        a.jobs,
        // Uploaded elsewhere is not done: the record then moves to this destination.
        |seg| decide_default(seg, seg.upload.as_ref().is_some_and(|u| u.dest == dest), a.force),
        |seg| {
            let seg = upload_segment(seg, store.as_ref(), &a, &work);
            bar.inc(1);
            seg
        },
    );
    bar.finish_and_clear();
    tally
}

/// Key of a segment's archive: `segments/<id>/<archive file name>`.
pub fn data_key(id: &SegmentId, archive: &ArchiveInfo) -> Result<String> {
    let name = std::path::Path::new(&archive.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("archive path {:?} has no file name", archive.path))?;
    let key = format!("segments/{id}/{name}");
    store::check_key(&key)?;
    Ok(key)
}

/// Key of a segment's manifest object, the commit marker.
pub fn manifest_key(id: &SegmentId) -> String {
    format!("segments/{id}/manifest.json")
}

fn upload_segment(mut seg: Segment, store: &dyn Store, a: &UploadArgs, work: &WorkDir) -> Segment {
    let started = Instant::now();
    match upload_one(&seg, store, a, work) {
        Ok(Some(info)) => {
            let ms = started.elapsed().as_millis() as u64;
            crate::log::info(
                "upload",
                Some(seg.id.as_str()),
                &format!("uploaded to {}", store.url(&info.key)),
                &[("bytes", info.size.into()), ("duration_ms", ms.into())],
            );
            seg.upload = Some(info);
            // A remote verification described the object this upload may have replaced.
            if seg.verify.as_ref().is_some_and(|v| v.scope == "remote") {
                seg.verify = None;
            }
        }
        Ok(None) => {}
        Err(e) => {
            let e = e.context(format!("uploading segment {} to {}", seg.id, store.url("")));
            crate::log::event(
                crate::log::Level::Warn,
                "upload",
                Some(seg.id.as_str()),
                &format!("{e:#}"),
                &[],
            );
            let retryable = is_transient(&e);
            seg.fail("upload", &e, retryable);
        }
    }
    seg
}

/// Uploads one segment; `None` on a dry run.
fn upload_one(seg: &Segment, store: &dyn Store, a: &UploadArgs, work: &WorkDir) -> Result<Option<UploadInfo>> {
    let archive = seg
        .archive
        .as_ref()
        .context("the segment has no archive yet (run compress first)")?;
    let fetch = seg.fetch.as_ref().context("the segment has no fetch section")?;
    let path = work.path(&archive.path);
    let key = data_key(&seg.id, archive)?;
    let mkey = manifest_key(&seg.id);
    if a.dry_run {
        crate::log::info(
            "upload",
            Some(seg.id.as_str()),
            &format!("dry run: would upload {} then {}", store.url(&key), store.url(&mkey)),
            &[("bytes", archive.size.into())],
        );
        return Ok(None);
    }
    let (size, blake3) = store::hash_file(&path)?;
    if size != archive.size || blake3 != archive.blake3 {
        return Err(Mismatch(format!(
            "archive {} is {size} bytes with BLAKE3 {blake3}, the record says {} bytes with BLAKE3 {}",
            path.display(),
            archive.size,
            archive.blake3
        ))
        .into());
    }
    let meta: Meta = [
        (META_BLAKE3, blake3.clone()),
        ("size", size.to_string()),
        ("points", fetch.points.to_string()),
        ("segment", seg.id.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let etag = match store.head(&key)? {
        Some(have) if have.size == size && have.meta.get(META_BLAKE3) == Some(&blake3) => {
            crate::log::debug(
                "upload",
                Some(seg.id.as_str()),
                "archive already there with the same BLAKE3",
            );
            None
        }
        Some(have) if !a.force && !same_content(store, &key, have.meta.get(META_BLAKE3), &blake3)? => bail!(
            "{} already exists with other content (BLAKE3 {}); not replacing it without --force",
            store.url(&key),
            have.meta.get(META_BLAKE3).map_or("unknown", String::as_str)
        ),
        _ => store.put_file(&key, &path, &meta)?,
    };
    store::failpoint("upload-after-data");

    // What landed must be what we sent before the commit marker says so (verify reads it all).
    let landed = store
        .head(&key)?
        .with_context(|| format!("{} is missing right after upload", store.url(&key)))?;
    if landed.size != size || landed.meta.get(META_BLAKE3) != Some(&blake3) {
        return Err(Mismatch(format!(
            "{} reads back as {} bytes with BLAKE3 {:?}, uploaded {size} bytes with BLAKE3 {blake3}",
            store.url(&key),
            landed.size,
            landed.meta.get(META_BLAKE3)
        ))
        .into());
    }
    let info = UploadInfo {
        dest: store.url(""),
        key,
        manifest_key: mkey.clone(),
        size,
        blake3,
        etag,
        at: jiff::Timestamp::now(),
    };
    let mut record = seg.clone();
    record.upload = Some(info.clone());
    record.verify = None;
    let mut body = Vec::new();
    manifest::write_record(&mut body, &record)?;
    store.put_bytes(&mkey, &body, &Meta::new())?;
    Ok(Some(info))
}

/// Whether an existing object holds `blake3`: from its metadata, or by reading it when it has
/// none (an earlier run died between writing the object and its metadata).
fn same_content(store: &dyn Store, key: &str, have: Option<&String>, blake3: &str) -> Result<bool> {
    if let Some(h) = have {
        return Ok(h == blake3);
    }
    let (_, hash) = HashingReader::new(store.get(key)?)
        .finish()
        .with_context(|| format!("reading {}", store.url(key)))?;
    Ok(hash == blake3)
}

/// Remote verification of an uploaded segment: HEAD size, the whole object read back and its
/// BLAKE3 compared with the record, the stream decoded by `decode` (points, series, digest) and
/// compared with what `fetch` recorded. Never trusts an ETag. Mismatches are `exit::Mismatch`.
pub fn verify_remote(
    store: &dyn Store,
    seg: &Segment,
    decode: impl FnOnce(&mut dyn Read) -> Result<(u64, u64, Digest)>,
) -> Result<VerifyInfo> {
    let up = seg.upload.as_ref().context("the segment was not uploaded")?;
    let fetch = seg.fetch.as_ref().context("the segment has no fetch section")?;
    let url = store.url(&up.key);
    let head = store
        .head(&up.key)?
        .ok_or_else(|| Mismatch(format!("{url} is missing")))?;
    if head.size != up.size {
        return Err(Mismatch(format!("{url} is {} bytes, uploaded {}", head.size, up.size)).into());
    }
    let mut reader = HashingReader::new(store.get(&up.key)?);
    let decoded = decode(&mut reader);
    let (size, blake3) = reader.finish().with_context(|| format!("reading {url}"))?;
    // A corrupted object usually fails to decode too: report the BLAKE3 mismatch, the cause.
    if size != up.size || blake3 != up.blake3 {
        return Err(Mismatch(format!(
            "{url} reads back as {size} bytes with BLAKE3 {blake3}, uploaded {} bytes with BLAKE3 {}",
            up.size, up.blake3
        ))
        .into());
    }
    let (points, series, digest) = decoded.with_context(|| format!("decoding {url}"))?;
    if (points, series, &digest) != (fetch.points, fetch.series, &fetch.digest) {
        return Err(Mismatch(format!(
            "{url} decodes to {points} points, {series} series, digest {digest}; fetch recorded {} points, {} series, digest {}",
            fetch.points, fetch.series, fetch.digest
        ))
        .into());
    }
    Ok(VerifyInfo {
        scope: "remote".to_string(),
        points,
        series,
        digest,
        at: jiff::Timestamp::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Mismatch;
    use crate::manifest::{FetchInfo, TimeUnit};

    fn segment(data: &[u8]) -> Segment {
        let mut seg = Segment::new(
            "a{}",
            "2026-10-01T00:00:00Z".parse().unwrap(),
            "2026-10-02T00:00:00Z".parse().unwrap(),
            "http://127.0.0.1:1",
            TimeUnit::Us,
        );
        let at = jiff::Timestamp::now();
        seg.fetch = Some(FetchInfo {
            points: 7,
            series: 2,
            bytes: 100,
            digest: Digest::default(),
            spool: "spool/x".into(),
            at,
            duration_ms: 0,
        });
        seg.upload = Some(UploadInfo {
            dest: String::new(),
            key: "segments/x/x.wo".into(),
            manifest_key: "segments/x/manifest.json".into(),
            size: data.len() as u64,
            blake3: blake3::hash(data).to_hex().to_string(),
            etag: None,
            at,
        });
        seg
    }

    /// A stand-in decoder: reads half the stream (verify must hash the rest itself).
    fn decoder(points: u64) -> impl FnOnce(&mut dyn Read) -> Result<(u64, u64, Digest)> {
        move |r| {
            let mut half = vec![0; 4];
            r.read_exact(&mut half)?;
            Ok((points, 2, Digest::default()))
        }
    }

    fn is_mismatch(r: Result<VerifyInfo>) -> bool {
        r.unwrap_err().downcast_ref::<Mismatch>().is_some()
    }

    fn checks(store: &dyn Store) {
        let data = b"archive-bytes";
        let seg = segment(data);
        let key = &seg.upload.as_ref().unwrap().key;
        assert!(is_mismatch(verify_remote(store, &seg, decoder(7))), "missing object");
        store.put_bytes(key, data, &Meta::new()).unwrap();
        let info = verify_remote(store, &seg, decoder(7)).unwrap();
        assert_eq!((info.scope.as_str(), info.points, info.series), ("remote", 7, 2));
        assert!(
            is_mismatch(verify_remote(store, &seg, decoder(8))),
            "decoded count differs"
        );
        // Same size, other bytes: only a full read-back notices.
        store.put_bytes(key, b"archive-bytez", &Meta::new()).unwrap();
        assert!(is_mismatch(verify_remote(store, &seg, decoder(7))), "content differs");
        store.put_bytes(key, b"short", &Meta::new()).unwrap();
        assert!(is_mismatch(verify_remote(store, &seg, decoder(7))), "size differs");
    }

    #[test]
    fn remote_verification_reads_everything_back_in_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        checks(&store::fs::FsStore::new(dir.path()).unwrap());
    }

    #[test]
    fn remote_verification_reads_everything_back_from_s3() {
        let Some((bucket, opts, env)) = store::contract::test_s3() else {
            return;
        };
        let prefix = format!(
            "verify-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        );
        checks(&store::s3::S3Store::new(&bucket, &prefix, &opts, &env).unwrap());
    }
}
