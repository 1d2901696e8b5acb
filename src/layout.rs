//! The destination layout, in one place: where a segment's archive, manifest object (the commit
//! marker), purge marker and lock live, and how a committed record is read back. Keys are
//! derived from validated segment ids only, never taken from a record.
//!
//! ```text
//! segments/<id>/<id>.<codec extension>   the archive, written first
//! segments/<id>/manifest.json            the segment's record, written last: the commit marker
//! segments/<id>/purge.json               written before a purge's first delete: the archive
//!                                        may now be the only copy and is never replaced
//! locks/<id>.lock                        a run's lock on the segment (owner, expiry)
//! ```

use crate::id::SegmentId;
use crate::manifest::{self, ArchiveInfo, Segment};
use crate::store::{self, Store};
use anyhow::{Context, Result, bail};
use std::io::BufReader;

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

/// The committed record of a segment named by the user: its manifest object, which must exist.
pub fn committed(store: &dyn Store, id: &SegmentId) -> Result<Segment> {
    read_manifest(store, id)?.with_context(|| {
        format!(
            "segment {id} is not archived in {}: no manifest object {} (warp-offload ls --dest ... lists what is there)",
            store.url(""),
            store.url(&manifest_key(id))
        )
    })
}

/// Key of the marker a purge writes into the destination before its first delete.
pub fn marker_key(id: &SegmentId) -> String {
    format!("segments/{id}/purge.json")
}

/// Key of a segment's lock object.
pub fn lock_key(id: &SegmentId) -> String {
    format!("locks/{id}.lock")
}
