//! The `gts.zst` codec: Warp 10 text (`=` continuation form) in one checksummed zstd frame,
//! restorable without warp-offload: `zstd -d < X.gts.zst | curl --data-binary @- .../update`.
//! The text is rendered from the points, not copied from the fetch, so it keeps every value's
//! bits through `/update` (-0.0 as `-0.0E0`, see `gts/value.rs`).

use super::SeriesBatch;
use super::text::TextReader;
use crate::gts::line::{render_cont_line, render_full_line};
use crate::gts::{Point, SeriesKey};
use anyhow::{Context, Result};
use std::io::{BufReader, Read, Write};

/// Points per batch handed out by the decoder, to bound memory on long series.
const BATCH_POINTS: usize = 1 << 16;

pub struct Encoder<W: Write> {
    out: zstd::stream::write::Encoder<'static, W>,
    key: Option<SeriesKey>,
    first: bool,
    line: Vec<u8>,
}

impl<W: Write> Encoder<W> {
    pub fn new(out: W, level: i32) -> Result<Self> {
        let mut out = zstd::stream::write::Encoder::new(out, level).context("setting up zstd")?;
        out.include_checksum(true).context("setting up zstd")?;
        Ok(Encoder {
            out,
            key: None,
            first: false,
            line: Vec::with_capacity(256),
        })
    }

    pub fn begin_series(&mut self, key: &SeriesKey) -> Result<()> {
        self.key = Some(key.clone());
        self.first = true;
        Ok(())
    }

    pub fn push(&mut self, p: &Point) -> Result<()> {
        let key = self.key.as_ref().context("a point came before any series")?;
        self.line.clear();
        if self.first {
            render_full_line(&mut self.line, key, p);
            self.first = false;
        } else {
            render_cont_line(&mut self.line, p);
        }
        self.out.write_all(&self.line).context("writing gts.zst archive")
    }

    pub fn finish(self) -> Result<W> {
        self.out.finish().context("finishing gts.zst archive")
    }
}

pub struct Decoder<R: Read> {
    text: TextReader<BufReader<zstd::stream::read::Decoder<'static, BufReader<R>>>>,
    pending: Option<Point>,
}

impl<R: Read> Decoder<R> {
    pub fn new(input: R) -> Result<Self> {
        let zstd = zstd::stream::read::Decoder::new(input).context("setting up zstd")?;
        Ok(Decoder {
            text: TextReader::new(BufReader::with_capacity(1 << 16, zstd)),
            pending: None,
        })
    }

    pub fn next_batch(&mut self) -> Result<Option<SeriesBatch>> {
        let mut points = Vec::new();
        let first = match self.pending.take() {
            Some(p) => p,
            None => match self.text.next_point().context("gts.zst archive")? {
                Some((_, p)) => p,
                None => return Ok(None),
            },
        };
        points.push(first);
        let key = self.text.key().clone();
        while points.len() < BATCH_POINTS {
            match self.text.next_point().context("gts.zst archive")? {
                Some((true, p)) => {
                    self.pending = Some(p);
                    break;
                }
                Some((false, p)) => points.push(p),
                None => break,
            }
        }
        Ok(Some(SeriesBatch { key, points }))
    }
}
