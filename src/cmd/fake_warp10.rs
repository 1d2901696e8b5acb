//! `warp-offload fake-warp10`: loads or generates data, listens, prints its URL and serves
//! until killed.

use crate::cli::FakeWarp10Args;
use crate::exit::Tally;
use crate::fake::Fake;
use crate::fake::faults::Faults;
use crate::fake::generate::{self, Spec};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

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
