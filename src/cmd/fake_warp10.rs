//! `warp-offload fake-warp10`: loads or generates data, listens, prints its URL and serves
//! until killed.

use crate::exit::Tally;
use crate::fake::Fake;
use crate::fake::faults::Faults;
use crate::fake::generate::{self, Spec};
use crate::id::TimeUnit;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Serve an in-memory Warp 10 for demos, tests and benchmarks
#[derive(Args, Debug)]
#[command(
    after_help = "Tokens: the read token (find, fetch) and write token (update, delete) come from files or
WARP10_READ_TOKEN / WARP10_WRITE_TOKEN. Data written gets .app=<--app> and hidden .owner/.producer labels.

Not emulated (400 or ignored): fetch formats other than text/fulltext/json, dedup, step, timestep,
sample, boundary.*, gskip/gcount; /api/v0/meta and /exec; attribute blocks in /update lines are
skipped (Warp 10's default); labels always come out sorted.

Faults are given as JSON with --faults at start, or at run time with curl -X POST --data JSON
http://ADDR/admin/faults; GET /admin/faults shows them and {} clears them. Admin endpoints take no
token (keep --listen on loopback): GET /admin/count?selector=S[&start=A&end=B] answers
{\"series\": N, \"points\": M}.

Faults:
  fetch_cut: {\"after_points\": N, \"mode\": \"error\"|\"mid_line\"|\"boundary\"|\"reset\"}
      end every fetch after N points: error = clean 200 then, with showerrors, an empty line and
      '# ERROR: ...'; mid_line = clean 200 cut inside the next line (no final newline);
      boundary = clean 200 after a whole line; reset = connection reset, no chunked terminator
  fetch_append: \"TEXT\"            raw text added at the end of every fetch body
  read_scope_hides: \"SELECTOR\"   find and fetch (read token) do not show these series; delete does
  fail_next: {\"fetch\": K, ...}   answer 500 to the next K requests of find|fetch|delete|update
  latency_ms: MS                  wait before the response headers
  chunk_latency_ms: MS            wait before each body chunk (64 KiB of fetch, one delete line)
  trickle_ms: {\"fetch\": MS, ...} send the bodies of find|fetch|delete|update one byte at a
                                  time, MS apart
  delete_abort_after: K           delete K series, list them, then reset the connection
  delete_disabled: \"config\"|\"manager\"   delete answers 400 / 403
  clock_skew_s: S                 shift the Date header of every response by S seconds

Examples:
  WARP10_READ_TOKEN=r WARP10_WRITE_TOKEN=w warp-offload fake-warp10 --port-file /tmp/port \\
      --generate infra --hosts 100 --days 1      # D1: 1000 series, ~8.64 M points
  warp-offload fake-warp10 --read-token-file r.tok --write-token-file w.tok --load tests/data/edge-cases.gts"
)]
pub struct FakeWarp10Args {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Write the port to this file (atomically) once listening
    #[arg(long)]
    pub port_file: Option<PathBuf>,
    /// File holding the read token; or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// File holding the write token; or set WARP10_WRITE_TOKEN
    #[arg(long)]
    pub write_token_file: Option<PathBuf>,
    /// Application name of the write token (the .app label of everything written)
    #[arg(long, default_value = "warp-offload-fake")]
    pub app: String,
    /// Platform time unit (warp.timeunits)
    #[arg(long, value_enum, default_value_t = TimeUnit::Us)]
    pub time_unit: TimeUnit,
    /// Load GTS input lines (the /api/v0/update format) from this file (repeatable)
    #[arg(long)]
    pub load: Vec<PathBuf>,
    /// Generate a synthetic data set
    #[arg(long, value_enum)]
    pub generate: Option<crate::fake::generate::Profile>,
    /// Seed of the generator (same seed, same data)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 100)]
    pub hosts: usize,
    /// Series per host: the first N of the profile's 10
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub series_per_host: u8,
    /// Days of data per series (fractions allowed)
    #[arg(long, default_value_t = 1.0)]
    pub days: f64,
    /// Sampling interval: 10s, 1m, ...
    #[arg(long, default_value = "10s")]
    pub interval: String,
    /// First sample time (RFC 3339)
    #[arg(long, default_value = "2024-01-15T00:00:00Z")]
    pub start: String,
    /// Faults to inject from the start, as JSON (see below)
    #[arg(long)]
    pub faults: Option<String>,
}

pub fn run(a: FakeWarp10Args) -> Result<Tally> {
    let read_token = crate::secret::read_token(a.read_token_file.as_deref())?;
    let write_token = crate::secret::write_token(a.write_token_file.as_deref())?;
    let faults = a.faults.as_deref().map(Faults::parse).transpose()?.unwrap_or_default();
    let fake = Arc::new(Fake::new(read_token, write_token, a.app.clone(), a.time_unit, faults));

    for path in &a.load {
        let t0 = Instant::now();
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        match fake
            .ingest(&mut reader)
            .with_context(|| format!("reading {}", path.display()))?
        {
            Ok(n) => crate::log::info(
                "fake-warp10",
                None,
                &format!("loaded {n} points from {} in {:.2?}", path.display(), t0.elapsed()),
                &[],
            ),
            Err((line, e)) => bail!("loading {} line {line}: {e:#}", path.display()),
        }
    }
    if let Some(profile) = a.generate {
        let t0 = Instant::now();
        let per_second = a.time_unit.per_second();
        let interval_secs = crate::time::parse_duration_secs(&a.interval).context("--interval")?;
        let start = a
            .time_unit
            .units_of(a.start.parse().with_context(|| format!("--start {:?}", a.start))?)?;
        if a.days.is_nan() || a.days <= 0.0 {
            bail!("--days must be positive");
        }
        let spec = Spec {
            profile,
            seed: a.seed,
            hosts: a.hosts,
            series_per_host: usize::from(a.series_per_host),
            samples: (a.days * 86_400.0 / interval_secs as f64) as usize,
            interval: interval_secs * per_second,
            interval_secs: interval_secs as f64,
            start,
            unit_per_ms: (per_second / 1000).max(1),
            token_labels: fake.token_labels().to_vec(),
        };
        let series = generate::generate(&spec);
        let points: usize = series.iter().map(|s| s.len()).sum();
        let count = series.len();
        series.into_iter().for_each(|s| fake.store.put(s));
        crate::log::info(
            "fake-warp10",
            None,
            &format!("generated {count} series, {points} points in {:.2?}", t0.elapsed()),
            &[],
        );
    }

    let listener = TcpListener::bind(&a.listen).with_context(|| format!("listening on {}", a.listen))?;
    let addr = listener.local_addr().context("reading the listening address")?;
    if let Some(path) = &a.port_file {
        write_port_file(path, addr.port())?;
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "http://{addr}")
        .and_then(|()| stdout.flush())
        .context("writing the URL to stdout")?;
    fake.serve(listener);
    Ok(Tally::default())
}

/// Writes the port next to `path` then renames it, so a watcher never reads a partial file.
fn write_port_file(path: &Path, port: u16) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{port}\n")).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}
