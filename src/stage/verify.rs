//! `verify`: proves an archive holds exactly what `fetch` received. Locally, the archive in
//! the work directory must have the size and BLAKE3 `compress` recorded and decode to the same
//! points, series and digest as the fetch. Remotely (segments with an `upload` section), the
//! object is read back from its destination: HEAD size, every byte hashed and compared with
//! the upload record (an ETag proves nothing), decoded and compared with the fetch again. In
//! `all`, an object whose bytes this process decoded and checked before uploading them (same
//! size and BLAKE3, see `ArchiveInfo::checked_here`) is read back and hashed, not decoded a
//! second time; `purge` decodes it again whatever the record says.
//!
//! Every segment without an error is verified, even one whose record says it already was: a
//! user runs `verify` to learn what the archive holds now. (`all` skips stages already done
//! on resume; that is its own decision, not this stage's.)

use super::{InRange, Stage};
use crate::archive::crypt::MasterKey;
use crate::archive::{Hashed, Summary, summarize_with};
use crate::digest::SeriesHash;
use crate::error::Mismatch;
use crate::gts::{Point, SeriesKey};
use crate::manifest::{Segment, StageName, VerifyInfo, VerifyScope};
use crate::store::{Store, Stores};
use crate::workdir::WorkDir;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufReader, Read};

/// The verify stage: the local archive, or the uploaded object read back from its destination.
pub struct Verify {
    pub work: WorkDir,
    pub stores: Stores,
    pub key: Option<MasterKey>,
}

impl Stage for Verify {
    fn name(&self) -> StageName {
        StageName::Verify
    }

    /// Only for `all`'s resume: the `verify` command re-reads every segment.
    fn needed(&self, seg: &Segment) -> bool {
        seg.verify.as_ref().is_none_or(|v| v.scope != VerifyScope::Remote)
    }

    fn apply(&self, seg: Segment) -> Segment {
        verify_segment(seg, &self.work, &self.stores, self.key.as_ref())
    }

    fn uses_destination(&self) -> bool {
        true
    }
}

fn verify_segment(mut seg: Segment, work: &WorkDir, stores: &Stores, key: Option<&MasterKey>) -> Segment {
    let result = match &seg.upload {
        Some(up) => crate::store::Destination::parse(&up.dest)
            .and_then(|dest| stores.get(&dest))
            .and_then(|store| {
                // The object must be the very bytes this process decoded and checked before
                // uploading them (same size and BLAKE3): decoding them again would prove nothing
                // more. Any other archive, from a record or a work directory, is decoded.
                let checked = seg
                    .archive
                    .as_ref()
                    .is_some_and(|a| a.checked_here && (a.size, &a.blake3) == (up.size, &up.blake3));
                let reading = if checked {
                    Reading::HashOnly
                } else {
                    Reading::Decode(key)
                };
                remote(&seg, store.as_ref(), reading, |_, _, _| {})
            }),
        None => verify_local(&seg, work, key),
    };
    match result {
        Ok(info) => {
            crate::log::info(
                "verify",
                Some(seg.id.as_str()),
                "verified",
                &[("scope", info.scope.name().into()), ("points", info.points.into())],
            );
            seg.verify = Some(info);
        }
        Err(e) => {
            let e = e.context(format!("verifying segment {}", seg.id));
            crate::stage::record_failure(&mut seg, StageName::Verify, &e);
        }
    }
    seg
}

/// Checks the local archive file against the `archive` and `fetch` sections.
pub fn verify_local(seg: &Segment, work: &WorkDir, key: Option<&MasterKey>) -> Result<VerifyInfo> {
    let archive = seg
        .archive
        .as_ref()
        .context("the segment has no archive section: run compress first")?;
    let path = work.path(&archive.path);
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    let expected = (archive.size, archive.blake3.as_str(), "compress recorded");
    check(
        seg,
        reader,
        &path.display().to_string(),
        expected,
        Reading::Decode(key),
        VerifyScope::Local,
        |_, _, _| {},
    )
}

/// Reads an uploaded object back from its destination and checks it against the `upload` and
/// `fetch` sections.
pub fn verify_remote(
    seg: &Segment,
    store: &dyn Store,
    key: Option<&MasterKey>,
    visit: impl FnMut(&SeriesKey, &SeriesHash, &Point),
) -> Result<VerifyInfo> {
    remote(seg, store, Reading::Decode(key), visit)
}

/// How [`check`] reads an archive.
#[derive(Clone, Copy)]
enum Reading<'a> {
    /// Hashes and decodes every byte (with this key, if the archive is encrypted).
    Decode(Option<&'a MasterKey>),
    /// Hashes every byte but does not decode: the caller knows them to be the bytes this
    /// process decoded and checked.
    HashOnly,
}

/// [`verify_remote`], reading the object as `reading` says.
fn remote(
    seg: &Segment,
    store: &dyn Store,
    reading: Reading,
    visit: impl FnMut(&SeriesKey, &SeriesHash, &Point),
) -> Result<VerifyInfo> {
    let up = seg.upload.as_ref().context("the segment has no upload section")?;
    let url = store.url(&up.key);
    let head = store
        .head(&up.key)?
        .ok_or_else(|| Mismatch(format!("{url} is missing")))?;
    if head.size != up.size {
        return Err(Mismatch(format!("{url} is {} bytes, upload recorded {}", head.size, up.size)).into());
    }
    let expected = (up.size, up.blake3.as_str(), "upload recorded");
    if let Reading::HashOnly = reading {
        crate::log::debug(
            "verify",
            Some(seg.id.as_str()),
            &format!("{url}: reading back and hashing; not decoding again the bytes this process checked"),
        );
    }
    check(
        seg,
        store.get(&up.key)?,
        &url,
        expected,
        reading,
        VerifyScope::Remote,
        visit,
    )
}

/// An I/O error, or the `Mismatch` inside it (a store whose answer contradicts itself).
fn read_error(e: std::io::Error) -> anyhow::Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Mismatch>()) {
        Some(m) => Mismatch(m.0.clone()).into(),
        None => e.into(),
    }
}

/// Hashes every byte of `reader`, decoding it unless `reading` is [`Reading::HashOnly`]: size
/// and BLAKE3 must be `expected` (size, BLAKE3, who recorded them), the decoded points, series
/// and digest those of `fetch`, every point inside the segment's range (a record whose range
/// was edited would otherwise vouch for an archive of other data).
fn check(
    seg: &Segment,
    reader: impl Read,
    what: &str,
    expected: (u64, &str, &str),
    reading: Reading,
    scope: VerifyScope,
    mut visit: impl FnMut(&SeriesKey, &SeriesHash, &Point),
) -> Result<VerifyInfo> {
    let fetch = seg.fetch.as_ref().context("the segment has no fetch section")?;
    let mut in_range = InRange::of(seg)?;
    let mut reader = Hashed::new(reader);
    let decoded: Result<Summary> = match reading {
        Reading::Decode(key) => summarize_with(&mut reader, key, &seg.id, |k, h, p| {
            in_range.see(p.ts);
            visit(k, h, p)
        }),
        Reading::HashOnly => Ok(Summary {
            points: fetch.points,
            series: fetch.series,
            digest: fetch.digest,
        }),
    };
    let (size, blake3) = reader
        .finish()
        .map_err(read_error)
        .with_context(|| format!("reading {what}"))?;
    let (want_size, want_blake3, recorder) = expected;
    if (size, blake3.as_str()) != (want_size, want_blake3) {
        let mut msg = format!("{what} has size {size} and BLAKE3 {blake3}, {recorder} {want_size} and {want_blake3}");
        // A corrupted archive usually fails to decode too; the hash is the cause to report.
        if let Err(d) = &decoded {
            msg += &format!("; it does not decode either: {d:#}");
        }
        return Err(Mismatch(msg).into());
    }
    let summary = decoded.with_context(|| format!("decoding {what}"))?;
    in_range.check(seg, what)?;
    summary.check_against(fetch, what)?;
    Ok(VerifyInfo {
        scope,
        points: summary.points,
        series: summary.series,
        digest: summary.digest,
        at: jiff::Timestamp::now(),
    })
}
