//! Hidden `bench-codec`: size and per-core speed of a codec on a file of Warp 10 text, for
//! `scripts/bench.sh`. Encode = parse the text + encode; decode = decode + render `=` text.
//! Times are CPU time of this thread. Every run checks that the decoded digest equals the
//! digest of the input.

use crate::archive::{Decoder, Encoder, summarize};

use crate::gts::line::{render_cont_line, render_full_line};
use crate::id::SegmentId;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Measure a codec on a file of Warp 10 text: size, encode and decode CPU time
#[derive(Args, Debug)]
pub struct BenchCodecArgs {
    pub text: PathBuf,
    #[arg(long, value_enum, default_value_t = crate::archive::Codec::Columnar)]
    pub codec: crate::archive::Codec,
    #[arg(long, default_value_t = 3)]
    pub level: i32,
}

pub fn run(a: BenchCodecArgs) -> Result<()> {
    let text = std::fs::read(&a.text).with_context(|| format!("reading {}", a.text.display()))?;
    let id = SegmentId::new("bench")?;
    let expected =
        crate::gts::stream::check_stream(text.as_slice(), i64::MIN, i64::MAX, &mut std::io::sink(), |_, _, _| {
            Ok(())
        })?;

    let t0 = thread_cpu_secs()?;
    let mut enc = Encoder::new(a.codec, a.level, Vec::new())?;
    let points = enc.encode_text(text.as_slice())?;
    let archive = enc.finish()?;
    let t1 = thread_cpu_secs()?;
    let mut dec = Decoder::open(archive.as_slice(), None, &id)?;
    let mut out = Vec::with_capacity(1 << 20);
    let mut rendered = 0u64;
    while let Some(batch) = dec.next_batch()? {
        for (i, p) in batch.points.iter().enumerate() {
            if i == 0 {
                render_full_line(&mut out, &batch.key, p);
            } else {
                render_cont_line(&mut out, p);
            }
        }
        rendered += out.len() as u64;
        out.clear();
    }
    let t2 = thread_cpu_secs()?;

    let sum = summarize(archive.as_slice(), None, &id)?;
    if (sum.points, sum.series, sum.digest) != (expected.points, expected.series.len() as u64, expected.digest) {
        bail!("decoded archive differs from the input: {sum:?} vs {expected:?}");
    }
    let mpts = |secs: f64| points as f64 / secs.max(1e-9) / 1e6;
    println!(
        "{{\"codec\":\"{}\",\"level\":{},\"points\":{points},\"series\":{},\"text_bytes\":{},\"archive_bytes\":{},\
         \"bytes_per_point\":{:.4},\"encode_cpu_s\":{:.3},\"encode_mpts_per_core\":{:.2},\"decode_cpu_s\":{:.3},\
         \"decode_mpts_per_core\":{:.2},\"rendered_bytes\":{rendered},\"digest\":\"{}\",\"lossless\":true}}",
        a.codec.name(),
        a.level,
        sum.series,
        text.len(),
        archive.len(),
        archive.len() as f64 / points.max(1) as f64,
        t1 - t0,
        mpts(t1 - t0),
        t2 - t1,
        mpts(t2 - t1),
        sum.digest,
    );
    Ok(())
}

/// CPU time of the calling thread (user + system), from /proc, in seconds (10 ms resolution).
fn thread_cpu_secs() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").context("reading /proc/thread-self/stat")?;
    let after_name = &stat[stat.rfind(')').context("malformed /proc stat")? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}
