//! `restore`: argument handling; the stage is `stage::restore`.

use crate::archive::crypt::MasterKey;
use crate::cli::{GlobalOpts, HttpOpts, S3Opts, parse_size};
use crate::exit::Tally;
use crate::stage::restore::{Restore, Tokens, named_segments, segments_in_window, window};
use crate::stage::{Action, Order, Outcome, Stage, run_segments};
use crate::store;
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Put archived segments back into Warp 10, then check that every point came back
#[derive(Args, Debug)]
#[command(
    after_help = "Prints one record per segment with a `restore` section (points sent, points found by
the re-fetch, extra points in the window). Missing points fail the segment with exit code 4.
Restoring into a Warp 10 that still holds the data is safe: equal timestamps overwrite.
--allow-insecure-http applies to the Warp 10 URL as well as to the S3 endpoint.

Examples:
  export WARP10_WRITE_TOKEN=... WARP10_READ_TOKEN=...   # or --write-token-file / --read-token-file
  warp-offload restore --dest s3://metrics-archive/warp10 --segment 20261001T000000Z-1d-0123456789ab
  # the cpu series of two days, out of every archived segment overlapping them, into another Warp 10
  warp-offload restore --dest /srv/warp-archive --selector 'os.cpu{host=web01}' \\
      --start 2026-10-03T00:00:00Z --end 2026-10-05T00:00:00Z --warp10-url http://127.0.0.1:8081
  warp-offload restore --dry-run --dest s3://metrics-archive/warp10 --segment ID
  # the ids from ls (or from records) on stdin
  warp-offload ls --dest /srv/warp-archive | jq -c 'select(.start >= \"2026-10\")' |
      warp-offload restore --dest /srv/warp-archive --segment -"
)]
pub struct RestoreArgs {
    /// Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)
    #[arg(long, alias = "from")]
    pub dest: String,
    /// Segment to restore, whole (repeatable); - reads ids from stdin, one a line: bare, or the
    /// JSON lines of `ls` or of records
    #[arg(
        long = "segment",
        value_name = "ID",
        required_unless_present = "selector",
        conflicts_with = "selector"
    )]
    pub segments: Vec<String>,
    /// Restore only the archived series matching this selector, from every segment overlapping --start/--end
    #[arg(long, requires_all = ["start", "end"])]
    pub selector: Option<String>,
    /// Start of the window to restore (RFC 3339, now or now-30d)
    #[arg(long, requires = "selector")]
    pub start: Option<String>,
    /// End of the window to restore, exclusive
    #[arg(long, requires = "selector")]
    pub end: Option<String>,
    /// Warp 10 to write to (never taken from the archive's records)
    #[arg(long, alias = "to-warp10", value_name = "URL", env = "WARP10_URL")]
    pub warp10_url: String,
    /// File holding the Warp 10 write token; or set WARP10_WRITE_TOKEN
    #[arg(long)]
    pub write_token_file: Option<PathBuf>,
    /// File holding the Warp 10 read token (for the check); or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Largest request body sent to /api/v0/update (each starts with a full line)
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Segments restored concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Decode and count, print what would be sent; send nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(g: &GlobalOpts, a: RestoreArgs) -> Result<Tally> {
    if std::fs::metadata(&a.dest).is_ok_and(|m| m.is_file()) {
        bail!(
            "--dest {} is a file: restore reads a destination (a directory or s3://bucket/prefix as given to \
             upload); to replay one archive file by hand use `warp-offload cat FILE | curl --data-binary @- \
             .../api/v0/update`",
            a.dest
        );
    }
    let client = Client::new(&a.warp10_url, &a.http.config()).context("--warp10-url")?;
    let window = a
        .selector
        .as_ref()
        .map(|text| window(text, a.start.as_deref(), a.end.as_deref()))
        .transpose()?;
    let tokens = if a.dry_run {
        None
    } else {
        Some(Tokens {
            write: crate::secret::write_token(a.write_token_file.as_deref())?,
            read: crate::secret::read_token(a.read_token_file.as_deref())?,
        })
    };
    let key = a.key_file.as_deref().map(MasterKey::load).transpose()?;
    let store = store::open(&store::Destination::parse(&a.dest)?, &a.s3.config())?;
    let (segments, unreadable) = match &window {
        Some(w) => segments_in_window(store.as_ref(), w)?,
        None if a.segments.iter().any(|s| s == "-") => {
            let mut ids: Vec<String> = a.segments.iter().filter(|s| *s != "-").cloned().collect();
            ids.extend(ids_from(crate::stage::stdin())?);
            named_segments(store.as_ref(), &ids)?
        }
        None => named_segments(store.as_ref(), &a.segments)?,
    };
    let stage = Restore {
        store: store.as_ref(),
        window: window.as_ref(),
        tokens,
        key,
        client,
        max_body: usize::try_from(a.max_body).context("--max-body")?.max(1),
        work: WorkDir::new(&g.work_dir),
    };
    // The segments come from the destination, not stdin; the driver is the one every stage uses.
    let run = crate::stage::Run {
        what: "restore",
        total: Some(segments.len()),
        jobs: a.jobs,
        order: Order::Input,
        resume: "run the same command again (points sent twice are only overwritten with themselves)",
    };
    let mut tally = run_segments(
        segments.into_iter().map(Ok),
        run,
        |_| Action::Work,
        |seg| {
            let id = seg.id.to_string();
            Outcome::Done(Box::new(crate::interrupt::working(&id, "restore", || stage.apply(seg))))
        },
        |_| {},
    )?;
    for e in &unreadable {
        if e.downcast_ref::<crate::error::Mismatch>().is_some() {
            tally.mismatched += 1;
        } else {
            tally.failed += 1;
        }
    }
    Ok(tally)
}

/// Segment ids for `--segment -`: one a line, bare or as the `id` of a JSON object (a line of
/// `ls`, a record); blank lines are skipped.
fn ids_from(input: impl std::io::BufRead) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading segment ids on stdin, line {}", n + 1))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let id = if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line).with_context(|| {
                format!(
                    "stdin line {}: not a JSON object on one line (pretty-printed? use jq -c)",
                    n + 1
                )
            })?;
            v["id"]
                .as_str()
                .with_context(|| format!("stdin line {}: no \"id\" field", n + 1))?
                .to_string()
        } else {
            line.to_string()
        };
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(crate::error::Usage("--segment -: no segment id on stdin".into()).into());
    }
    Ok(ids)
}
