//! `cat`: prints an archive, a local file or an object of a destination, as Warp 10 text,
//! streaming, so that `cat | curl .../update` is a manual restore. Points come out as stored: series by series, newest first, in text that
//! Warp 10 reads back with the same bits (-0.0 as `-0.0E0`, see `gts/value.rs`).

use crate::archive::crypt::MasterKey;
use crate::archive::{Codec, Decoder, Hashed};
use crate::cli::S3Opts;
use crate::cmd::write_stdout;
use crate::error::{Mismatch, Usage};
use crate::gts::SeriesKey;
use crate::gts::line::{render_cont_line, render_full_line};
use crate::id::SegmentId;
use crate::layout::committed;
use crate::store;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Class and labels on the first line of a series, `=` lines after (Warp 10 `text`)
    Text,
    /// Class and labels on every line (Warp 10 `fulltext`)
    Fulltext,
}

/// Print an archive as Warp 10 text on stdout, from a file or a destination
#[derive(Args, Debug)]
#[command(
    after_help = "The archive is a local file, or is read from a destination: the archive of a committed
segment (--dest D --segment ID; its size and BLAKE3 are checked against the manifest object once
printed, exit code 4 if they differ), or any object by its key (--dest D KEY, the key `ls` prints,
also for incomplete uploads).

Examples:
  warp-offload cat warp-offload-work/archive/20261001T000000Z-1d-0123456789ab.w10a | head
  warp-offload cat --dest s3://metrics-archive/warp10 --segment 20261001T000000Z-1d-0123456789ab | head
  # manual restore
  warp-offload cat X.w10a | curl -H \"X-Warp10-Token: $(cat write.token)\" --data-binary @- http://127.0.0.1:8080/api/v0/update"
)]
pub struct CatArgs {
    /// Archive file (columnar or gts.zst, encrypted or not); with --dest, the key of an object in it
    #[arg(required_unless_present = "dest")]
    pub archive: Option<PathBuf>,
    /// Read the archive from this destination: s3://bucket/prefix, file:///dir or a directory path
    #[arg(long)]
    pub dest: Option<String>,
    /// Segment id: with --dest and no key, the committed segment to print; otherwise the segment
    /// the archive belongs to (default: its file name without extension), as encrypted archives
    /// are bound to it
    #[arg(long, alias = "segment-id", value_name = "ID")]
    pub segment: Option<String>,
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(a: CatArgs) -> Result<()> {
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let Some(dest) = &a.dest else {
        let path = a.archive.as_deref().expect("clap requires the archive without --dest");
        if path.to_str().is_some_and(|p| p.contains("://")) {
            return Err(Usage(format!(
                "{}: cat reads a local file; to read from a destination give --dest s3://bucket/prefix (or a \
                 directory) and --segment ID, or --dest and the object key `ls` prints",
                path.display()
            ))
            .into());
        }
        let id = segment_id(&a.segment, path)?;
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        return print(file, key.as_ref(), &id, a.format, &path.display().to_string()).map(drop);
    };
    if a.archive.is_none() && a.segment.is_none() {
        return Err(Usage(format!(
            "--dest {dest}: say what to print, --segment ID (a committed segment) or the object key"
        ))
        .into());
    }
    store::init_tls(&a.s3.config())?;
    let store = store::open(&store::Destination::parse(dest)?, &a.s3.config())?;
    if let Some(object) = &a.archive {
        let object = object.to_string_lossy();
        store::check_key(&object)?;
        let id = segment_id(&a.segment, Path::new(object.as_ref()))?;
        let url = store.url(&object);
        return print(store.get(&object)?, key.as_ref(), &id, a.format, &url).map(drop);
    }
    let id = a.segment.as_deref().expect("checked above: a key or a segment");
    let seg = committed(store.as_ref(), &SegmentId::new(id)?)?;
    let up = seg.upload.as_ref().expect("committed() checked the upload section");
    let url = store.url(&up.key);
    let mut object = Hashed::new(store.get(&up.key)?);
    if !print(&mut object, key.as_ref(), &seg.id, a.format, &url)? {
        return Ok(());
    }
    let (size, blake3) = object.finish().with_context(|| format!("reading {url}"))?;
    if size != up.size || blake3 != up.blake3 {
        return Err(Mismatch(format!(
            "{url} is {size} bytes with BLAKE3 {blake3}, its manifest object says {} bytes with BLAKE3 {}",
            up.size, up.blake3
        ))
        .into());
    }
    Ok(())
}

/// `--segment`, else the id in the archive's file name.
fn segment_id(given: &Option<String>, path: &Path) -> Result<SegmentId> {
    match given {
        Some(s) => SegmentId::new(s),
        None => id_from_path(path),
    }
}

/// Prints the archive read from `input` (`what` names it); false when stdout's reader went
/// away before the end.
fn print(input: impl Read, key: Option<&MasterKey>, id: &SegmentId, format: TextFormat, what: &str) -> Result<bool> {
    let what = || format!("reading archive {what}");
    let mut dec = Decoder::open(BufReader::with_capacity(1 << 20, input), key, id).with_context(what)?;
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::with_capacity(1 << 17);
    let mut prev: Option<SeriesKey> = None;
    while let Some(batch) = dec.next_batch().with_context(what)? {
        let continues = prev.as_ref() == Some(&batch.key);
        for (i, p) in batch.points.iter().enumerate() {
            if format == TextFormat::Fulltext || (i == 0 && !continues) {
                render_full_line(&mut buf, &batch.key, p);
            } else {
                render_cont_line(&mut buf, p);
            }
            if buf.len() >= 1 << 16 {
                if !write_stdout(&mut out, &buf)? {
                    return Ok(false);
                }
                buf.clear();
            }
        }
        prev = Some(batch.key);
    }
    if !write_stdout(&mut out, &buf)? {
        return Ok(false);
    }
    out.flush().context("writing to stdout")?;
    Ok(true)
}

/// `dir/ID.w10a` or `dir/ID.gts.zst` → ID.
fn id_from_path(path: &Path) -> Result<SegmentId> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    [Codec::Columnar, Codec::GtsZst]
        .iter()
        .find_map(|c| name.strip_suffix(c.extension())?.strip_suffix('.'))
        .and_then(|id| SegmentId::new(id).ok())
        .with_context(|| {
            format!(
                "cannot take a segment id from the file name {name:?} (expected ID.w10a or ID.gts.zst): give --segment"
            )
        })
}
