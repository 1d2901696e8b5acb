//! Segment records: the NDJSON lines every stage reads on stdin and writes on stdout.
//!
//! Schema v1 is strict on read: unknown fields, an unknown `v`, an invalid or duplicate id are
//! errors naming the line. Each stage adds its own section; a failed segment carries `error`
//! and passes through later stages, which only add their command line to `error.rerun`.

use crate::digest::Digest;
use crate::id::{SegmentId, Source, TimeUnit};
use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, Write};

pub const VERSION: u32 = 1;
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub v: u32,
    pub id: SegmentId,
    /// One Warp 10 selector; a segment never mixes selectors (a series matched twice would be
    /// fetched twice).
    pub selector: String,
    /// Half-open `[start, end)` in UTC.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Where the data came from; never carries a token.
    pub warp10_url: String,
    pub time_unit: TimeUnit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<FetchInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge: Option<PurgeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SegmentError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchInfo {
    pub points: u64,
    pub series: u64,
    /// Bytes of Warp 10 text received.
    pub bytes: u64,
    pub digest: Digest,
    /// Spooled Warp 10 text, relative to the work directory.
    pub spool: String,
    pub at: Timestamp,
    pub duration_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveInfo {
    pub codec: String,
    /// Archive file, relative to the work directory.
    pub path: String,
    pub size: u64,
    pub blake3: String,
    pub bytes_per_point: f64,
    /// Key id (hex) when the archive is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub at: Timestamp,
    /// Set by [`crate::stage::compress::write_archive`] alone: this process decoded the bytes
    /// whose BLAKE3 is above and found the fetch's points, all inside the segment's range.
    /// Never read from nor written to a record, so no pipe, work directory or bucket can claim
    /// it; `all` then reads the uploaded object back by hash alone (see `stage::verify`).
    #[serde(skip)]
    pub checked_here: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadInfo {
    pub dest: String,
    pub key: String,
    pub manifest_key: String,
    pub size: u64,
    pub blake3: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyInfo {
    pub scope: VerifyScope,
    pub points: u64,
    pub series: u64,
    pub digest: Digest,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeInfo {
    pub state: PurgeState,
    /// Exact selectors of the series deleted (or, on a dry run, that would be).
    pub series: Vec<String>,
    pub points: u64,
    /// Series left in Warp 10, with the reason: they have points in the range but are not in
    /// the archive, or deleting them exactly would also reach a series that is not archived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_archived: Vec<String>,
    pub at: Timestamp,
}

/// Where a segment failed (`error.stage`): a stage, or `all`'s lock and resume steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    Fetch,
    Compress,
    Upload,
    Verify,
    Purge,
    Restore,
    /// `all` could not take the segment's lock.
    Lock,
    /// `all` could not read the segment's saved state.
    Resume,
}

impl StageName {
    pub fn name(self) -> &'static str {
        match self {
            StageName::Fetch => "fetch",
            StageName::Compress => "compress",
            StageName::Upload => "upload",
            StageName::Verify => "verify",
            StageName::Purge => "purge",
            StageName::Restore => "restore",
            StageName::Lock => "lock",
            StageName::Resume => "resume",
        }
    }
}

impl std::fmt::Display for StageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a verification read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyScope {
    /// The archive file in the work directory, decoded.
    Local,
    /// The object read back from the destination and decoded.
    Remote,
}

impl VerifyScope {
    pub fn name(self) -> &'static str {
        match self {
            VerifyScope::Local => "local",
            VerifyScope::Remote => "remote",
        }
    }
}

/// Where a segment's purge stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PurgeState {
    /// Every archived series deleted, nothing unarchived left.
    Purged,
    /// The archived series deleted; series not archived left in Warp 10 (`not_archived`).
    Partial,
    /// Every gate checked, nothing deleted.
    DryRun,
    /// A delete was sent and may have been applied in part: the next run checks what is left.
    PurgeUnknown,
}

impl PurgeState {
    pub fn name(self) -> &'static str {
        match self {
            PurgeState::Purged => "purged",
            PurgeState::Partial => "partial",
            PurgeState::DryRun => "dry-run",
            PurgeState::PurgeUnknown => "purge-unknown",
        }
    }
}

/// What `restore` put back into Warp 10, and what the re-fetch of the window found there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreInfo {
    /// Warp 10 written to (never a token).
    pub to: String,
    /// Window restored: the segment's range, or its part inside `restore --start/--end`.
    pub start: Timestamp,
    pub end: Timestamp,
    /// `restore --selector`: only the archived series it matches were restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Archived points sent (or, on a dry run, that would be sent).
    pub points: u64,
    /// Bytes of GTS text in `requests` POSTs to `/api/v0/update`.
    pub bytes: u64,
    pub requests: u64,
    /// Archived points the re-fetch of the window found (absent on a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<u64>,
    /// Points in the window that are not in the archive (newer data, other series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<u64>,
    /// Digest of what the re-fetch found (the segment's selector, or `restore --selector`, over
    /// the window): equal to `fetch.digest` when Warp 10 holds exactly the archived segment there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    pub at: Timestamp,
    pub duration_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentError {
    pub stage: StageName,
    pub message: String,
    pub retryable: bool,
    /// True when the failure is an integrity mismatch (exit code 4).
    #[serde(default)]
    pub mismatch: bool,
    /// The command lines that run the segment again (see `rerun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<crate::rerun::Rerun>,
}

impl Segment {
    pub fn new(source: &Source, selector: &str, start: Timestamp, end: Timestamp) -> Segment {
        Segment {
            v: VERSION,
            id: SegmentId::derive(source, selector, start, end),
            selector: selector.to_string(),
            start,
            end,
            warp10_url: source.url.clone(),
            time_unit: source.time_unit,
            fetch: None,
            archive: None,
            upload: None,
            verify: None,
            purge: None,
            restore: None,
            error: None,
        }
    }

    /// Records a new fetch, and the archive `all` wrote while fetching. Here, and in the two
    /// below, lives the rule that a stage's new section makes the later ones stale: they
    /// described an older fetch, archive or object.
    pub fn set_fetch(&mut self, fetch: FetchInfo, archive: Option<ArchiveInfo>) {
        self.fetch = Some(fetch);
        self.archive = archive;
        self.upload = None;
        self.verify = None;
        // Only a dry run's purge section can be there (fetch refuses a purged segment), and a
        // restore described an older archive.
        self.purge = None;
        self.restore = None;
    }

    pub fn set_archive(&mut self, archive: ArchiveInfo) {
        self.archive = Some(archive);
        self.upload = None;
        self.verify = None;
    }

    /// A remote verification described the object this upload may have replaced; a local one
    /// still describes the archive.
    pub fn set_upload(&mut self, upload: UploadInfo) {
        self.upload = Some(upload);
        if self.verify.as_ref().is_some_and(|v| v.scope == VerifyScope::Remote) {
            self.verify = None;
        }
    }

    /// Refuses a segment that does not come from `url` (this run's Warp 10), or whose id is not
    /// the one derived from its own source, selector and range (a record, state file or manifest
    /// object edited by hand or by an attacker). Every stage that sends a token calls it first.
    pub fn check_source(&self, url: &str) -> Result<()> {
        let url = url.trim_end_matches('/');
        if self.warp10_url.trim_end_matches('/') != url {
            bail!(
                "segment {} was planned against Warp 10 {}, this run talks to {url}: not sending a token or a \
                 delete for it (plan it again with --warp10-url {url})",
                self.id,
                self.warp10_url
            );
        }
        let source = Source::new(url, self.time_unit)?;
        let derived = SegmentId::derive(&source, &self.selector, self.start, self.end);
        if derived != self.id {
            bail!(
                "segment {}: its id is not the one derived from its Warp 10 URL, time unit, selector and range \
                 ({derived}): the record was edited; plan it again",
                self.id
            );
        }
        Ok(())
    }

    /// Records a failure; the segment then passes through later stages untouched.
    pub fn fail(&mut self, stage: StageName, err: &anyhow::Error, retryable: bool) {
        self.error = Some(SegmentError {
            stage,
            message: format!("{err:#}"),
            retryable,
            mismatch: err.downcast_ref::<crate::error::Mismatch>().is_some(),
            rerun: None,
        });
    }

    /// The inclusive Warp 10 range `[start, end - 1 unit]` in platform units.
    pub fn warp10_range(&self) -> Result<(i64, i64)> {
        let s = self.time_unit.units_of(self.start)?;
        let e = self.time_unit.units_of(self.end)?;
        if e <= s {
            bail!(
                "segment {} has an empty or reversed range {} .. {}",
                self.id,
                self.start,
                self.end
            );
        }
        Ok((s, e - 1))
    }

    fn validate(&self) -> Result<()> {
        if self.v != VERSION {
            bail!("unsupported record version v={} (this build reads v={VERSION})", self.v);
        }
        if self.end <= self.start {
            bail!(
                "segment {}: end {} is not after start {}",
                self.id,
                self.end,
                self.start
            );
        }
        if self.selector.trim().is_empty() {
            bail!("segment {}: empty selector", self.id);
        }
        crate::net::check_base_url(&self.warp10_url).with_context(|| format!("segment {}", self.id))?;
        // Paths in records are informative only; they must be exactly the ones derived from the
        // id, so a tampered record can never point a stage at another file.
        if let Some(f) = &self.fetch
            && f.spool != crate::workdir::WorkDir::spool_rel(&self.id)
        {
            bail!(
                "segment {}: fetch.spool {:?} is not the path derived from its id",
                self.id,
                f.spool
            );
        }
        if let Some(a) = &self.archive {
            let ext = a.path.strip_prefix(&format!("archive/{}.", self.id)).unwrap_or("");
            if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
                bail!(
                    "segment {}: archive.path {:?} is not the path derived from its id",
                    self.id,
                    a.path
                );
            }
        }
        Ok(())
    }
}

/// Strict NDJSON reader: yields one segment per line, errors name the line number.
pub struct Reader<R> {
    input: R,
    line_no: usize,
    seen: HashSet<SegmentId>,
    buf: String,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Self {
        Reader {
            input,
            line_no: 0,
            seen: HashSet::new(),
            buf: String::new(),
        }
    }

    fn read_one(&mut self) -> Result<Option<Segment>> {
        self.buf.clear();
        let n = self
            .input
            .read_line(&mut self.buf)
            .with_context(|| format!("reading manifest line {}", self.line_no + 1))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        let line_no = self.line_no;
        if !self.buf.ends_with('\n') {
            bail!("manifest line {line_no}: truncated (no end of line)");
        }
        let text = self.buf.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            bail!("manifest line {line_no}: empty line");
        }
        if let Some(hint) = multi_line_hint(text) {
            bail!("manifest line {line_no}: {hint}");
        }
        let seg = parse_line(text).with_context(|| format!("manifest line {line_no}"))?;
        if !self.seen.insert(seg.id.clone()) {
            bail!("manifest line {line_no}: duplicate segment id {}", seg.id);
        }
        Ok(Some(seg))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Segment>;
    fn next(&mut self) -> Option<Result<Segment>> {
        self.read_one().transpose()
    }
}

/// `jq .` (without `-c`) prints `{` alone on the first line, `jq -s` an array: both get a hint.
/// Records are read one per line, so that a cut-off stream is always noticed.
fn multi_line_hint(text: &str) -> Option<&'static str> {
    let t = text.trim();
    (t == "{" || t.starts_with('['))
        .then_some("pretty-printed JSON or an array: records are one JSON object per line (use jq -c)")
}

/// Parses and validates one record (the text of one NDJSON line).
pub fn parse_line(text: &str) -> Result<Segment> {
    let value: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
    match value.get("v") {
        Some(v) if v.as_u64() == Some(u64::from(VERSION)) => {}
        Some(v) => bail!("unsupported record version v={v} (this build reads v={VERSION})"),
        None => bail!("missing record version field \"v\""),
    }
    let seg: Segment = serde_json::from_value(value).context("invalid segment record")?;
    seg.validate()?;
    Ok(seg)
}

/// Writes one record per line and flushes, so that the next stage of a pipeline starts at once.
pub fn write_record(out: &mut impl Write, seg: &Segment) -> Result<()> {
    serde_json::to_writer(&mut *out, seg).context("serialising segment record")?;
    out.write_all(b"\n").context("writing segment record to stdout")?;
    out.flush().context("flushing stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg() -> Segment {
        let s: Timestamp = "2026-10-01T00:00:00Z".parse().unwrap();
        let e: Timestamp = "2026-10-02T00:00:00Z".parse().unwrap();
        Segment::new(
            &Source::new("http://127.0.0.1:8080", TimeUnit::Us).unwrap(),
            "~os.*{}",
            s,
            e,
        )
    }

    fn read_all(text: &str) -> Result<Vec<Segment>> {
        Reader::new(text.as_bytes()).collect()
    }

    #[test]
    fn a_new_section_makes_the_later_ones_stale() {
        let at = Timestamp::now();
        let fetch = FetchInfo {
            points: 1,
            series: 1,
            bytes: 1,
            digest: Digest::default(),
            spool: "spool/x.gts".into(),
            at,
            duration_ms: 0,
        };
        let archive = ArchiveInfo {
            codec: "columnar".into(),
            path: "archive/x.w10a".into(),
            size: 1,
            blake3: "b".into(),
            bytes_per_point: 1.0,
            key_id: None,
            checked_here: false,
            at,
        };
        let upload = UploadInfo {
            dest: "file:///d".into(),
            key: "k".into(),
            manifest_key: "m".into(),
            size: 1,
            blake3: "b".into(),
            etag: None,
            at,
        };
        let verify = |scope| VerifyInfo {
            scope,
            points: 1,
            series: 1,
            digest: Digest::default(),
            at,
        };
        let mut s = seg();
        s.set_fetch(fetch.clone(), Some(archive.clone()));
        s.verify = Some(verify(VerifyScope::Local));
        s.set_upload(upload.clone());
        assert!(s.verify.is_some(), "a local verification still describes the archive");
        s.verify = Some(verify(VerifyScope::Remote));
        s.set_upload(upload.clone());
        assert!(s.verify.is_none(), "a remote one described the replaced object");
        s.set_archive(archive.clone());
        assert!(s.upload.is_none() && s.verify.is_none());
        s.set_upload(upload);
        s.purge = Some(PurgeInfo {
            state: PurgeState::DryRun,
            series: Vec::new(),
            points: 0,
            not_archived: Vec::new(),
            at,
        });
        s.set_fetch(fetch, None);
        assert!(s.archive.is_none() && s.upload.is_none() && s.verify.is_none() && s.purge.is_none());
    }

    /// Only this process's own check sets `checked_here`: a record never carries it, and one
    /// that claims it is refused.
    #[test]
    fn no_record_can_claim_an_archive_was_checked_here() {
        let mut s = seg();
        s.archive = Some(ArchiveInfo {
            codec: "columnar".into(),
            path: crate::workdir::WorkDir::archive_rel(&s.id, "w10a"),
            size: 1,
            blake3: "b".into(),
            bytes_per_point: 1.0,
            key_id: None,
            at: Timestamp::now(),
            checked_here: true,
        });
        let mut line = Vec::new();
        write_record(&mut line, &s).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert!(!text.contains("checked_here"), "{text}");
        assert!(!parse_line(&text).unwrap().archive.unwrap().checked_here);
        let claim = text.replace("\"bytes_per_point\"", "\"checked_here\":true,\"bytes_per_point\"");
        assert!(claim.contains("checked_here"), "{claim}");
        let err = format!("{:#}", parse_line(&claim).unwrap_err());
        assert!(err.contains("unknown field `checked_here`"), "{err}");
    }

    #[test]
    fn ids_are_deterministic_and_safe() {
        let a = seg();
        assert_eq!(a.id, seg().id);
        assert!(a.id.as_str().starts_with("20261001T000000Z-1d-"), "{}", a.id);
        SegmentId::new(a.id.as_str()).unwrap();
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "%2e%2e",
            "a\0b",
            "a b",
            "é",
            &"x".repeat(201),
        ] {
            assert!(SegmentId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_and_strictness() {
        let mut out = Vec::new();
        write_record(&mut out, &seg()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(read_all(&text).unwrap(), vec![seg()]);

        let dup = format!("{text}{text}");
        let err = format!("{:#}", read_all(&dup).unwrap_err());
        assert!(err.contains("line 2") && err.contains("duplicate"), "{err}");

        let v2 = text.replace("\"v\":1", "\"v\":2");
        assert!(format!("{:#}", read_all(&v2).unwrap_err()).contains("version"));

        let unknown = text.replace("\"v\":1", "\"v\":1,\"extra\":0");
        assert!(format!("{:#}", read_all(&unknown).unwrap_err()).contains("extra"));

        let bad_id = text.replace(seg().id.as_str(), "../etc");
        assert!(format!("{:#}", read_all(&bad_id).unwrap_err()).contains("invalid segment id"));

        let truncated = &text[..text.len() - 5];
        let err = format!("{:#}", read_all(truncated).unwrap_err());
        assert!(err.contains("line 1"), "{err}");

        let err = format!("{:#}", read_all(&format!("{text}\n")).unwrap_err());
        assert!(err.contains("line 2") && err.contains("empty"), "{err}");

        let reversed = text.replace("2026-10-02", "2026-09-02");
        assert!(read_all(&reversed).is_err());

        let readme = include_str!("../README.md");
        let example = readme.lines().find(|l| l.starts_with("{\"v\":1")).unwrap();
        let tampered = example.replace("\"spool\":\"spool/", "\"spool\":\"../../etc/");
        let err = format!("{:#}", read_all(&format!("{tampered}\n")).unwrap_err());
        assert!(err.contains("not the path derived"), "{err}");
    }

    /// The README's record example: every section filled in.
    fn readme_example() -> &'static str {
        let readme = include_str!("../README.md");
        let block = readme
            .split("<!-- record-example -->")
            .nth(1)
            .expect("README has the record example");
        block
            .split("```json\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("json block")
    }

    #[test]
    fn readme_example_parses() {
        let segs = read_all(readme_example()).expect("README example is a valid record");
        assert_eq!(segs.len(), 1);
        assert!(segs[0].fetch.is_some());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Reader::new(&bytes[..]).collect::<Result<Vec<_>>>();
        }

        /// A full record with one byte changed: refused, or a record that writes back and
        /// reads again as itself (nothing accepted half-way).
        #[test]
        fn mutated_records_are_refused_or_whole(
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut text = readme_example().as_bytes().to_vec();
            let i = at.index(text.len() - 1);
            text[i] = byte;
            if let Ok(segs) = Reader::new(&text[..]).collect::<Result<Vec<_>>>() {
                let mut out = Vec::new();
                for s in &segs {
                    write_record(&mut out, s).unwrap();
                }
                proptest::prop_assert_eq!(read_all(std::str::from_utf8(&out).unwrap()).unwrap(), segs);
            }
        }

        #[test]
        fn every_truncation_is_refused(at in proptest::prelude::any::<proptest::sample::Index>()) {
            let text = readme_example();
            let cut = &text.as_bytes()[..1 + at.index(text.len() - 1)];
            proptest::prop_assert!(Reader::new(cut).collect::<Result<Vec<_>>>().is_err());
        }
    }

    #[test]
    fn warp10_range_is_inclusive_of_end_minus_one() {
        let s = seg();
        let (a, b) = s.warp10_range().unwrap();
        assert_eq!(b - a + 1, 86_400_000_000);
    }
}
