//! `cat`: prints an archive as Warp 10 text, streaming, so that `cat | curl .../update` is a
//! manual restore. Points come out as stored: series by series, newest first, in text that
//! Warp 10 reads back with the same bits (-0.0 as `-0.0E0`, see `gts/value.rs`).

use crate::archive::crypt::MasterKey;
use crate::archive::{Codec, Decoder};
use crate::cmd::write_stdout;
use crate::gts::SeriesKey;
use crate::gts::line::{render_cont_line, render_full_line};
use crate::id::SegmentId;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::path::PathBuf;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Class and labels on the first line of a series, `=` lines after (Warp 10 `text`)
    Text,
    /// Class and labels on every line (Warp 10 `fulltext`)
    Fulltext,
}

/// Print an archive as Warp 10 text on stdout
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload cat warp-offload-work/archive/20261001T000000Z-1d-0123456789ab.w10a | head
  # manual restore
  warp-offload cat X.w10a | curl -H \"X-Warp10-Token: $(cat write.token)\" --data-binary @- http://127.0.0.1:8080/api/v0/update")]
pub struct CatArgs {
    /// Archive file (columnar or gts.zst, encrypted or not)
    pub archive: PathBuf,
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Segment id the archive belongs to (default: its file name without extension); encrypted
    /// archives are bound to it
    #[arg(long)]
    pub segment_id: Option<String>,
}

pub fn run(a: CatArgs) -> Result<()> {
    let id = match &a.segment_id {
        Some(s) => SegmentId::new(s)?,
        None => id_from_path(&a.archive)?,
    };
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let file = File::open(&a.archive).with_context(|| format!("opening {}", a.archive.display()))?;
    let what = || format!("reading archive {}", a.archive.display());
    let mut dec = Decoder::open(BufReader::with_capacity(1 << 20, file), key.as_ref(), &id).with_context(what)?;
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::with_capacity(1 << 17);
    let mut prev: Option<SeriesKey> = None;
    while let Some(batch) = dec.next_batch().with_context(what)? {
        let continues = prev.as_ref() == Some(&batch.key);
        for (i, p) in batch.points.iter().enumerate() {
            if a.format == TextFormat::Fulltext || (i == 0 && !continues) {
                render_full_line(&mut buf, &batch.key, p);
            } else {
                render_cont_line(&mut buf, p);
            }
            if buf.len() >= 1 << 16 {
                if !write_stdout(&mut out, &buf)? {
                    return Ok(());
                }
                buf.clear();
            }
        }
        prev = Some(batch.key);
    }
    if write_stdout(&mut out, &buf)? {
        out.flush().context("writing to stdout")?;
    }
    Ok(())
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
                "cannot take a segment id from the file name {name:?} (expected ID.w10a or ID.gts.zst): give --segment-id"
            )
        })
}
