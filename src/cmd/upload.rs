//! `upload`: puts each archive under a key derived from the segment id, with its BLAKE3, size
//! and point count as object metadata, then the segment's manifest object — written last, it
//! is the commit marker `ls` and `restore` trust. Re-running is a no-op for objects already
//! there with the same BLAKE3; an object with other content is only replaced with `--force`.

use crate::archive::Hashed;
use crate::cli::{GlobalOpts, UploadArgs};
use crate::cmd::{decide_default, run_stage};
use crate::exit::{Mismatch, Tally};
use crate::manifest::{self, ArchiveInfo, Segment, SegmentId, UploadInfo};
use crate::store::{self, META_BLAKE3, Meta, Store};
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};
use std::io::BufReader;
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

/// Reads and checks the manifest object of a segment (its committed record): one record, the
/// right id, the sections an archive needs, the data key derived from the id. `None` when there
/// is no such object.
pub fn read_manifest(store: &dyn Store, id: &SegmentId) -> Result<Option<Segment>> {
    let key = manifest_key(id);
    let url = store.url(&key);
    if store.head(&key)?.is_none() {
        return Ok(None);
    }
    let mut records = manifest::Reader::new(BufReader::new(store.get(&key)?));
    let seg = records
        .next()
        .with_context(|| format!("manifest object {url} is empty"))?
        .with_context(|| format!("reading manifest object {url}"))?;
    if records.next().is_some() {
        bail!("manifest object {url} holds more than one record");
    }
    if seg.id != *id {
        bail!("manifest object {url} describes segment {}, not {id}", seg.id);
    }
    let (Some(_), Some(archive), Some(upload)) = (&seg.fetch, &seg.archive, &seg.upload) else {
        bail!("manifest object {url} lacks its fetch, archive or upload section");
    };
    if upload.key != data_key(id, archive)? {
        bail!(
            "manifest object {url} points at {:?}, not at the key derived from its id",
            upload.key
        );
    }
    Ok(Some(seg))
}

pub fn upload_segment(mut seg: Segment, store: &dyn Store, a: &UploadArgs, work: &WorkDir) -> Segment {
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
            crate::cmd::record_failure(&mut seg, "upload", &e);
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
    let marker = crate::cmd::purge::marker_key(&seg.id);
    if store.head(&marker)?.is_some() {
        bail!(
            "segment {} was purged from Warp 10 (marker {}): the archive in {} may be the only copy of its points; \
             not replacing it, even with --force",
            seg.id,
            store.url(&marker),
            store.url("")
        );
    }
    let (size, blake3) = hash_file(&path)?;
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
    crate::exit::failpoint("upload-after-data");

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
    let (_, hash) = Hashed::new(store.get(key)?)
        .finish()
        .with_context(|| format!("reading {}", store.url(key)))?;
    Ok(hash == blake3)
}

/// BLAKE3 (hex) and size of a local file.
fn hash_file(path: &std::path::Path) -> Result<(u64, String)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Hashed::new(std::io::BufReader::with_capacity(1 << 20, file))
        .finish()
        .with_context(|| format!("reading {}", path.display()))
}
