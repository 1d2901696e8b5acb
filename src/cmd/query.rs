//! `query`: prints the archived points of the series matching a selector inside a window,
//! read straight from a destination (`crate::read`), in Warp 10's fetch output formats.

use crate::archive::crypt::MasterKey;
use crate::cli::S3Opts;
use crate::cmd::write_stdout;
use crate::error::Usage;
use crate::gts::output::{Format, Renderer};
use crate::gts::selector::parse_scoped;
use crate::read::{self, Catalog, Query, Stats};
use crate::store;
use anyhow::{Context, Result};
use clap::Args;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Print archived points of the series matching a selector, read straight from a destination
#[derive(Args, Debug)]
#[command(
    after_help = "Reads only the committed segments overlapping the window and, in archives with a block \
index, only the blocks holding a matching series (ranged reads). Points come out per series, newest first, \
as /api/v0/fetch prints them.

Examples:
  warp-offload query --dest s3://metrics-archive/warp10 --selector 'os.cpu{host=web01}' \\
      --start 2026-10-03T00:00:00Z --end 2026-10-04T00:00:00Z
  warp-offload query --dest /srv/warp-archive --selector '~os\\..*{dc~par.*}' --start now-400d --end now-365d --format json"
)]
pub struct QueryArgs {
    /// Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)
    #[arg(long, alias = "from")]
    pub dest: String,
    /// Warp 10 selector: class{labels}, =exact or ~regex (full match); .app/.owner/.producer
    /// constraints are ignored, as fetch does
    #[arg(long)]
    pub selector: String,
    /// Start of the window (RFC 3339, now or now-30d)
    #[arg(long)]
    pub start: String,
    /// End of the window, exclusive
    #[arg(long)]
    pub end: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Most points one query holds in memory; beyond it the query fails before printing
    #[arg(long, default_value_t = 50_000_000)]
    pub max_points: u64,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(a: QueryArgs) -> Result<()> {
    store::init_tls(&a.s3.config())?;
    let started = Instant::now();
    let selector = parse_scoped(&a.selector).map_err(|e| Usage(format!("--selector {:?}: {e:#}", a.selector)))?;
    let now = Timestamp::now();
    let start = crate::time::parse_instant(&a.start, now).context("--start")?;
    let end = crate::time::parse_instant(&a.end, now).context("--end")?;
    if end <= start {
        return Err(Usage(format!("--end {end} is not after --start {start}")).into());
    }
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let store = store::open(&store::Destination::parse(&a.dest)?, &a.s3.config())?;
    let segments = read::in_window(Catalog::default().segments(store.as_ref())?, start, end);
    let stats = Stats::default();
    let found = match read::common_unit(&segments)? {
        None => Default::default(),
        Some(unit) => {
            let q = Query {
                selector: &selector,
                lo: unit.units_of(start).context("--start")?,
                hi: unit.units_of(end).context("--end")? - 1,
                skip: 0,
                limit: usize::MAX,
                max_points: a.max_points,
            };
            read::read(store.as_ref(), &segments, &q, key.as_ref(), &stats)?
        }
    };
    let points: usize = found.values().map(Vec::len).sum();
    crate::log::info(
        "query",
        None,
        &format!(
            "{} series, {points} points from {} segments of {}",
            found.len(),
            segments.len(),
            store.url("")
        ),
        &[
            ("bytes_read", stats.bytes_read().into()),
            (
                "archived_bytes",
                stats.archived_bytes.load(std::sync::atomic::Ordering::Relaxed).into(),
            ),
            ("duration_ms", (started.elapsed().as_millis() as u64).into()),
        ],
    );
    let mut out = std::io::stdout().lock();
    let mut render = Renderer::new(a.format, false);
    let mut buf = Vec::with_capacity(1 << 17);
    render.begin(&mut buf);
    let no_attrs = BTreeMap::new();
    for (series, points) in &found {
        render.series(series, &no_attrs);
        for p in points {
            render.point(&mut buf, p, false);
            if buf.len() >= 1 << 16 {
                if !write_stdout(&mut out, &buf)? {
                    return Ok(());
                }
                buf.clear();
            }
        }
    }
    render.end(&mut buf);
    if write_stdout(&mut out, &buf)? {
        out.flush().context("writing to stdout")?;
    }
    Ok(())
}
