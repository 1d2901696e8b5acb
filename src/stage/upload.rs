//! `upload`: puts each archive under a key derived from the segment id, with its BLAKE3, size
//! and point count as object metadata, then the segment's manifest object — written last, it
//! is the commit marker `ls` and `restore` trust. Re-running is a no-op for objects already
//! there with the same BLAKE3; an object with other content is only replaced with `--force`.

use super::Stage;
use crate::archive::Hashed;
use crate::error::Mismatch;
use crate::layout::{data_key, manifest_key};
use crate::manifest::{self, Segment, UploadInfo};
use crate::store::{META_BLAKE3, Meta, Store};
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};
use std::time::Instant;

/// The upload stage, into `store`. With `force`, an object with other content is replaced
/// (never the archive of a purged segment); with `dry_run`, nothing is written.
pub struct Upload {
    pub store: Box<dyn Store>,
    pub work: WorkDir,
    pub force: bool,
    pub dry_run: bool,
}

impl Stage for Upload {
    fn name(&self) -> &'static str {
        "upload"
    }

    /// Uploaded elsewhere is not done: the record then moves to this destination.
    fn needed(&self, seg: &Segment) -> bool {
        seg.upload.as_ref().is_none_or(|u| u.dest != self.store.url(""))
    }

    fn apply(&self, seg: Segment) -> Segment {
        upload_segment(seg, self)
    }

    fn uses_destination(&self) -> bool {
        true
    }
}

fn upload_segment(mut seg: Segment, up: &Upload) -> Segment {
    let (store, work) = (up.store.as_ref(), &up.work);
    let started = Instant::now();
    match upload_one(&seg, store, up, work) {
        Ok(Some(info)) => {
            let ms = started.elapsed().as_millis() as u64;
            crate::log::info(
                "upload",
                Some(seg.id.as_str()),
                &format!("uploaded to {}", store.url(&info.key)),
                &[("bytes", info.size.into()), ("duration_ms", ms.into())],
            );
            seg.set_upload(info);
        }
        Ok(None) => {}
        Err(e) => {
            let e = e.context(format!("uploading segment {} to {}", seg.id, store.url("")));
            crate::stage::record_failure(&mut seg, "upload", &e);
        }
    }
    seg
}

/// Uploads one segment; `None` on a dry run.
fn upload_one(seg: &Segment, store: &dyn Store, a: &Upload, work: &WorkDir) -> Result<Option<UploadInfo>> {
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
    let marker = crate::layout::marker_key(&seg.id);
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
