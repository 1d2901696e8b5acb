//! Hidden `bench-codec`: size and per-core speed of a codec on a file of Warp 10 text, for
//! `scripts/bench.sh`. parse = parse the text only; encode = parse + encode; decode = decode to
//! points; decode to text = decode + render `=` text. Times are CPU time of this thread, the
//! median (`--best`: the fastest) of `--repeat` runs. Every run checks that the decoded digest
//! equals the digest of the input.

use crate::archive::text::TextReader;
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
    /// Runs of each measured step; the median CPU time is reported
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Report the fastest run instead of the median: on a shared machine, the run least
    /// slowed by others (to compare two builds, alternate them)
    #[arg(long)]
    pub best: bool,
}

pub fn run(a: BenchCodecArgs) -> Result<()> {
    let text = std::fs::read(&a.text).with_context(|| format!("reading {}", a.text.display()))?;
    let id = SegmentId::new("bench")?;
    let expected =
        crate::gts::stream::check_stream(text.as_slice(), i64::MIN, i64::MAX, &mut std::io::sink(), |_, _, _| {
            Ok(())
        })?;

    let parse = cpu_secs(&a, || {
        let mut r = TextReader::new(text.as_slice());
        while r.next_point()?.is_some() {}
        Ok(())
    })?;
    let mut archive = Vec::new();
    let mut points = 0;
    let encode = cpu_secs(&a, || {
        let mut enc = Encoder::new(a.codec, a.level, Vec::new())?;
        points = enc.encode_text(text.as_slice())?;
        archive = enc.finish()?;
        Ok(())
    })?;
    let decode = cpu_secs(&a, || {
        let mut dec = Decoder::open(archive.as_slice(), None, &id)?;
        while dec.next_batch()?.is_some() {}
        Ok(())
    })?;
    let mut rendered = 0u64;
    let to_text = cpu_secs(&a, || {
        let mut dec = Decoder::open(archive.as_slice(), None, &id)?;
        let mut out = Vec::with_capacity(1 << 20);
        rendered = 0;
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
        Ok(())
    })?;

    let sum = summarize(archive.as_slice(), None, &id)?;
    if (sum.points, sum.series, sum.digest) != (expected.points, expected.series.len() as u64, expected.digest) {
        bail!("decoded archive differs from the input: {sum:?} vs {expected:?}");
    }
    let mpts = |secs: f64| points as f64 / secs.max(1e-9) / 1e6;
    println!(
        "{{\"codec\":\"{}\",\"level\":{},\"points\":{points},\"series\":{},\"text_bytes\":{},\"archive_bytes\":{},\
         \"bytes_per_point\":{:.4},\"parse_mpts_per_core\":{:.2},\"encode_cpu_s\":{encode:.3},\
         \"encode_mpts_per_core\":{:.2},\"decode_points_mpts_per_core\":{:.2},\"decode_cpu_s\":{to_text:.3},\
         \"decode_mpts_per_core\":{:.2},\"rendered_bytes\":{rendered},\"digest\":\"{}\",\"lossless\":true}}",
        a.codec.name(),
        a.level,
        sum.series,
        text.len(),
        archive.len(),
        archive.len() as f64 / points.max(1) as f64,
        mpts(parse),
        mpts(encode),
        mpts(decode),
        mpts(to_text),
        sum.digest,
    );
    Ok(())
}

/// CPU seconds of `f`, the median (or with `--best` the fastest) of `--repeat` runs.
fn cpu_secs(a: &BenchCodecArgs, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut secs = Vec::with_capacity(a.repeat.max(1));
    for _ in 0..a.repeat.max(1) {
        let t0 = thread_cpu_secs();
        f()?;
        secs.push(thread_cpu_secs() - t0);
    }
    secs.sort_by(f64::total_cmp);
    Ok(if a.best { secs[0] } else { secs[secs.len() / 2] })
}

/// CPU time of the calling thread (user + system) in seconds, to the nanosecond (the tick-based
/// counters of /proc are too coarse for a step of a few hundredths of a second).
fn thread_cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}
