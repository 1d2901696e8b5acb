//! Command-line interface: global options and one Args struct per subcommand.

use crate::log::{LogFormat, ProgressMode};
use crate::manifest::TimeUnit;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Every stage reads segment records (NDJSON) on stdin and writes them, enriched, on stdout; logs and
progress go to stderr. Secrets come from files or environment variables, never from arguments.

Exit codes: 0 ok, 1 error, 2 usage, 3 some segments failed, 4 integrity mismatch.";

/// Flags people try for secrets, and where the secret goes instead. Refused before parsing so
/// that the value is never echoed back in a clap error.
const SECRET_FLAGS: &[(&str, &str)] = &[
    (
        "--token",
        "--read-token-file FILE or WARP10_READ_TOKEN (--write-token-file / WARP10_WRITE_TOKEN to write)",
    ),
    ("--read-token", "--read-token-file FILE or WARP10_READ_TOKEN"),
    ("--write-token", "--write-token-file FILE or WARP10_WRITE_TOKEN"),
    ("--key", "--key-file FILE or WARP_OFFLOAD_KEY_FILE"),
    ("--secret-key", "AWS_SECRET_ACCESS_KEY"),
    ("--s3-secret-key", "AWS_SECRET_ACCESS_KEY"),
    ("--secret-access-key", "AWS_SECRET_ACCESS_KEY"),
    ("--aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"),
    ("--access-key", "AWS_ACCESS_KEY_ID"),
    ("--s3-access-key", "AWS_ACCESS_KEY_ID"),
    ("--access-key-id", "AWS_ACCESS_KEY_ID"),
    ("--aws-access-key-id", "AWS_ACCESS_KEY_ID"),
    ("--slack-webhook", "--slack-webhook-file FILE or SLACK_WEBHOOK_URL"),
    ("--webhook", "--webhook-file FILE or WARP_OFFLOAD_WEBHOOK_URL"),
];

/// Returns an error message when a secret is passed as an argument (visible to every user
/// through `ps` and kept in shell history).
pub fn secret_in_argv(args: impl Iterator<Item = std::ffi::OsString>) -> Option<String> {
    for arg in args.skip(1) {
        let arg = arg.to_string_lossy();
        let name = arg.split('=').next().unwrap_or_default();
        if let Some((flag, instead)) = SECRET_FLAGS.iter().find(|(f, _)| *f == name) {
            return Some(format!(
                "secrets are not accepted as arguments ({flag}): they show in ps and shell history; use {instead}"
            ));
        }
    }
    None
}

#[derive(Parser, Debug)]
#[command(
    name = "warp-offload",
    version,
    about = "Move old Warp 10 data to object storage, prove the copy, purge the source, restore it",
    long_about = None,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Only print errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (repeat for debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Format of log lines on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Progress bars on stderr: auto draws them only on a terminal
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    /// Allow plain http:// to hosts other than loopback (Warp 10, S3, webhooks): tokens, keys
    /// and webhook URLs would travel in clear
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
    /// Work directory for spooled fetches and local archives
    #[arg(
        long,
        global = true,
        env = "WARP_OFFLOAD_WORK_DIR",
        default_value = "warp-offload-work"
    )]
    pub work_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Plan(PlanArgs),
    Fetch(FetchArgs),
    Compress(CompressArgs),
    Verify(VerifyArgs),
    Cat(CatArgs),
    Notify(NotifyArgs),
    Upload(UploadArgs),
    Purge(PurgeArgs),
    All(AllArgs),
    Ls(LsArgs),
    Restore(RestoreArgs),
    FakeWarp10(FakeWarp10Args),
    #[command(hide = true)]
    GenDocs(GenDocsArgs),
    #[command(hide = true)]
    BenchCodec(BenchCodecArgs),
}

/// Write man pages and shell completions generated from these definitions
#[derive(Args, Debug)]
pub struct GenDocsArgs {
    #[arg(long, default_value = "man")]
    pub man_dir: PathBuf,
    #[arg(long, default_value = "completions")]
    pub completions_dir: PathBuf,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitBy {
    /// One segment per selector and window
    None,
    /// One segment per class matched by the selector (via /api/v0/find)
    Class,
    /// One segment per series matched by the selector (via /api/v0/find)
    Series,
}

/// Turn selectors and a time range into segments (one NDJSON record each)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan --warp10-url http://127.0.0.1:8080 --selector '~os\\..*{dc=par1}' \\
      --start 2026-10-01T00:00:00Z --end 2026-11-01T00:00:00Z --segment 1d > october.ndjson
  # cron, first day of the month: everything older than 30 days, in 6 h segments
  warp-offload plan --selector 'os.cpu{}' --start now-60d --end now-30d --segment 6h")]
pub struct PlanArgs {
    /// Warp 10 base URL (no token in it)
    #[arg(long, env = "WARP10_URL")]
    pub warp10_url: String,
    /// Warp 10 selector, e.g. '~os\..*{dc=par1}' (repeatable; each gets its own segments)
    #[arg(long = "selector", required = true)]
    pub selectors: Vec<String>,
    /// Start of the range: RFC 3339, now or now-30d; rounded down to a segment boundary
    #[arg(long)]
    pub start: String,
    /// End of the range (exclusive): RFC 3339, now or now-30d; rounded down to a segment boundary
    #[arg(long)]
    pub end: String,
    /// Segment length: 1h, 6h, 1d, 7d, ... (windows are aligned to multiples of it in UTC)
    #[arg(long = "segment", default_value = "1d")]
    pub segment: String,
    /// Split segments per class or per series found with /api/v0/find
    #[arg(long, value_enum, default_value_t = SplitBy::None)]
    pub split_by: SplitBy,
    /// Refuse windows that end less than this long ago (late writes may still arrive)
    #[arg(long, default_value = "1d")]
    pub min_age: String,
    /// Platform time unit of the Warp 10 instance (warp.timeunits)
    #[arg(long, value_enum, default_value_t = TimeUnit::Us)]
    pub time_unit: TimeUnit,
    /// File holding the Warp 10 read token (needed by --split-by); or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// Stop if the local clock and Warp 10's (its Date header) differ by more than this
    #[arg(long, default_value = "5m")]
    pub max_clock_skew: String,
    #[command(flatten)]
    pub http: HttpOpts,
}

/// Fetch each segment from Warp 10, check it strictly and spool it to the work directory
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch --read-token-file /etc/warp-offload/read.token --jobs 4
  # retry one failed segment by hand
  jq -c 'select(.id == \"20261001T000000Z-1d-0123456789ab\") | del(.error)' run.ndjson | warp-offload fetch")]
pub struct FetchArgs {
    /// File holding the Warp 10 read token; or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// Segments fetched concurrently
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Fetch again segments that were already fetched
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub http: HttpOpts,
}

/// When `notify` posts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum NotifyOn {
    /// Only when a segment failed or the records could not all be read
    Failure,
    /// After every run
    Always,
}

/// Post a run summary to Slack and/or a JSON webhook; records pass through unchanged
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch | ... | warp-offload purge \\
      | warp-offload notify --slack-webhook-file /etc/warp-offload/slack.url > run.ndjson
  # see what would be posted, without posting
  warp-offload notify --dry-run --on always < run.ndjson > /dev/null

Segments: failed = the record carries an error (mismatch: an integrity mismatch); skipped = no error
but the record stopped before the furthest stage another successful record reached; ok = the rest.
Bytes in are the Warp 10 text fetched, bytes out the archive sizes. The wall time runs from the
earliest to the latest time recorded in the records.

Each failed segment comes with a command that runs it again, from the failed stage to the run's
last, on the records saved in --manifest-hint; add the options the stages need (token files,
--s3-endpoint) or set their environment variables. Use `set -o pipefail` in scripts: notify's exit
code reflects the records it read (0, 3 or 4; 1 if they could not all be read), never a webhook
failure, which is only a warning.")]
pub struct NotifyArgs {
    /// File holding the Slack incoming-webhook URL; or set SLACK_WEBHOOK_URL
    #[arg(long)]
    pub slack_webhook_file: Option<PathBuf>,
    /// File holding the URL of a webhook that receives the summary as JSON; or set WARP_OFFLOAD_WEBHOOK_URL
    #[arg(long)]
    pub webhook_file: Option<PathBuf>,
    /// When to post
    #[arg(long, value_enum, default_value_t = NotifyOn::Failure)]
    pub on: NotifyOn,
    /// The file this run's records are saved to, as named in the retry commands
    #[arg(long, default_value = "run.ndjson")]
    pub manifest_hint: String,
    /// Seconds allowed per webhook request (a failed request is retried once)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Print the payloads on stderr instead of posting them
    #[arg(long)]
    pub dry_run: bool,
}

/// Timeouts and retries for requests to Warp 10.
#[derive(Args, Debug, Clone)]
pub struct HttpOpts {
    /// Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Seconds without progress before a request is abandoned
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

/// Upload archives, then their manifest objects (written last: the commit markers)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # or from your secret store
  warp-offload upload --dest s3://metrics-archive/warp10 --s3-endpoint https://cellar-c2.services.clever-cloud.com \\
      < compressed.ndjson > uploaded.ndjson
  # a local directory (demos, single machine)
  warp-offload upload --dest /srv/warp-archive < compressed.ndjson
  warp-offload upload --dry-run --dest s3://metrics-archive/warp10 < compressed.ndjson")]
pub struct UploadArgs {
    /// Destination: s3://bucket/prefix, file:///dir or a directory path
    #[arg(long)]
    pub dest: String,
    /// Segments uploaded concurrently
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Upload again, and replace an object whose content differs from the archive
    #[arg(long)]
    pub force: bool,
    /// Print what would be uploaded; write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub s3: S3Opts,
}

/// List the segments archived in a destination (NDJSON, read from the manifest objects)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload ls --dest s3://metrics-archive/warp10 | jq -r 'select(.points > 0) | .id'
  # also data objects whose upload never wrote its manifest object
  warp-offload ls --all --dest /srv/warp-archive")]
pub struct LsArgs {
    /// Destination: s3://bucket/prefix, file:///dir or a directory path
    #[arg(long)]
    pub dest: String,
    /// Also list incomplete uploads (objects without a manifest object)
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub s3: S3Opts,
}

/// Put archived segments back into Warp 10, then check that every point came back
#[derive(Args, Debug)]
#[command(
    after_help = "Prints one record per segment with a `restore` section (points sent, points found by
the re-fetch, extra points in the window). Missing points fail the segment with exit code 4.
Restoring into a Warp 10 that still holds the data is safe: equal timestamps overwrite.
--allow-insecure-http applies to the Warp 10 URL as well as to the S3 endpoint.

Examples:
  export WARP10_WRITE_TOKEN=... WARP10_READ_TOKEN=...   # or --write-token-file / --read-token-file
  warp-offload restore --from s3://metrics-archive/warp10 --segment 20261001T000000Z-1d-0123456789ab
  # the cpu series of two days, out of every archived segment overlapping them, into another Warp 10
  warp-offload restore --from /srv/warp-archive --selector 'os.cpu{host=web01}' \\
      --start 2026-10-03T00:00:00Z --end 2026-10-05T00:00:00Z --to-warp10 http://127.0.0.1:8081
  warp-offload restore --dry-run --from s3://metrics-archive/warp10 --segment ID"
)]
pub struct RestoreArgs {
    /// Where the archives are: s3://bucket/prefix, file:///dir or a directory path (as given to upload)
    #[arg(long, value_name = "DEST")]
    pub from: String,
    /// Segment to restore, whole (repeatable)
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
    /// Warp 10 to write to [default: the warp10_url recorded in each segment]
    #[arg(long, value_name = "URL")]
    pub to_warp10: Option<String>,
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
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

/// How to reach an S3-compatible store. Credentials come only from AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); the region from AWS_REGION or
/// AWS_DEFAULT_REGION (default us-east-1).
#[derive(Args, Debug, Clone)]
pub struct S3Opts {
    /// S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS]
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Bucket addressing: auto is virtual-host for *.amazonaws.com and path-style elsewhere
    #[arg(long, value_enum, default_value_t = Addressing::Auto)]
    pub s3_addressing: Addressing,
    /// Multipart part size (at least 5MiB); smaller objects go in one PUT
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub part_size: u64,
    /// Attempts per S3 request on 5xx, throttling, timeouts and resets (other 4xx are never retried)
    #[arg(long, default_value_t = 5)]
    pub s3_retries: u32,
    /// Seconds before an S3 request is abandoned
    #[arg(long, default_value_t = 300)]
    pub s3_timeout: u64,
    /// PEM file of CA certificates to trust for the S3 endpoint, besides the public and system
    /// ones (sets SSL_CERT_FILE for this process)
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Addressing {
    Auto,
    Path,
    Virtual,
}

/// A byte size: a number with an optional KiB/MiB/GiB (or K/M/G) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(format!("invalid size {s:?}: use e.g. 16MiB, 8M or 5242880")),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: use e.g. 16MiB, 8M or 5242880"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// Encode each fetched segment into an archive, decode it again and check it against the fetch
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload plan ... | warp-offload fetch | warp-offload compress --jobs 2 | warp-offload verify
  # encrypted, plain Warp 10 text that zstd -d can read back
  warp-offload compress --codec gts.zst --key-file /etc/warp-offload/archive.key < fetched.ndjson")]
pub struct CompressArgs {
    /// Archive format
    #[arg(long, value_enum, default_value_t = crate::archive::Codec::Columnar)]
    pub codec: crate::archive::Codec,
    /// zstd level (1-19; 3 is the sweet spot, higher levels buy ~3 % for many times the CPU)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Segments compressed concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Encrypt archives with the master key in this file (32 bytes, raw or hex)
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Compress again segments that already have an archive
    #[arg(long)]
    pub force: bool,
    /// Delete the spooled fetch once its archive is written and checked
    #[arg(long)]
    pub remove_spool: bool,
}

/// Check archives (local, or uploaded: read back) against what fetch recorded
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload compress < fetched.ndjson | warp-offload verify > verified.ndjson
  # uploaded segments are read back from their destination, every byte
  warp-offload upload --dest s3://metrics-archive/warp10 < verified.ndjson | warp-offload verify
  # exit code 4 and the segment's error name an archive that does not match its fetch")]
pub struct VerifyArgs {
    /// Master key file for encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Segments verified concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Verify again segments that were already verified
    #[arg(long)]
    pub force: bool,
    /// How to reach S3 for uploaded segments (their destination is in the record)
    #[command(flatten)]
    pub s3: S3Opts,
}

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
}

/// Serve an in-memory Warp 10 for demos, tests and benchmarks
#[derive(Args, Debug)]
#[command(
    after_help = "Tokens: the read token (find, fetch) and write token (update, delete) come from files or
WARP10_READ_TOKEN / WARP10_WRITE_TOKEN. Data written gets .app=<--app> and hidden .owner/.producer labels.

Faults (--faults JSON at start, or at run time: curl -X POST --data JSON http://ADDR/admin/faults;
GET /admin/faults shows them; {} clears them). Fields, all optional:
  fetch_cut: {\"after_points\": N, \"mode\": \"error\"|\"mid_line\"|\"boundary\"|\"reset\"}
      end every fetch after N points: error = clean 200 then, with showerrors, an empty line and
      '# ERROR: ...'; mid_line = clean 200 cut inside the next line (no final newline);
      boundary = clean 200 after a whole line; reset = connection reset, no chunked terminator
  fetch_append: \"TEXT\"            raw text added at the end of every fetch body
  read_scope_hides: \"SELECTOR\"   find and fetch (read token) do not show these series; delete does
  fail_next: {\"fetch\": K, ...}   answer 500 to the next K requests of find|fetch|delete|update
  latency_ms: MS                  wait before the response headers
  chunk_latency_ms: MS            wait before each body chunk (64 KiB of fetch, one delete line)
  delete_abort_after: K           delete K series, list them, then reset the connection
  delete_disabled: \"config\"|\"manager\"   delete answers 400 / 403
  clock_skew_s: S                 shift the Date header of every response by S seconds
Admin (no token; keep --listen on loopback): GET /admin/count?selector=S[&start=A&end=B]
  -> {\"series\": N, \"points\": M}.

Not emulated (400 or ignored): fetch formats other than text/fulltext, dedup, step, timestep,
sample, boundary.*, gskip/gcount; /api/v0/meta and /exec; attribute blocks in /update lines are
skipped (Warp 10's default); labels always come out sorted.

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

/// Delete archived segments from Warp 10, after proving the archive equals the source
#[derive(Args, Debug)]
#[command(after_help = "Every gate must pass, per segment, right before its delete:
  1. the archive object is read back from --dest and verified (size, BLAKE3, decoded points and digest);
  2. the source range is fetched again and still equals the archive (a late write stops the purge);
  3. a dryrun delete lists only archived series (or series without points in the range);
  4. --max-delete-points / --max-delete-series are not exceeded for the run.
Then the delete, its listing read to the end (a cut response leaves the segment purge-unknown; a
re-run completes it once every point left is shown to be archived), and a fetch of the range that
must come back empty (polled up to --settle-timeout, for asynchronous deletes).

Examples:
  warp-offload purge --dest s3://metrics-archive/warp10 --dry-run < verified.ndjson
  warp-offload purge --dest s3://metrics-archive/warp10 --write-token-file /etc/warp-offload/write.token \\
      --read-token-file /etc/warp-offload/read.token --max-delete-points 50000000 < verified.ndjson")]
pub struct PurgeArgs {
    /// Destination the segments were uploaded to (the archives are read back from it)
    #[arg(long)]
    pub dest: String,
    /// File holding the Warp 10 read token (re-fetch); or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// File holding the Warp 10 write token (delete); or set WARP10_WRITE_TOKEN
    #[arg(long)]
    pub write_token_file: Option<PathBuf>,
    /// Key file of encrypted archives
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub gates: PurgeOpts,
    /// Segments purged concurrently
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Stop if the local clock and Warp 10's (its Date header) differ by more than this
    #[arg(long, default_value = "5m")]
    pub max_clock_skew: String,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

/// The purge limits and locks, shared by `purge` and `all --purge`.
#[derive(Args, Debug, Clone)]
pub struct PurgeOpts {
    /// Most points this run may delete, over all segments
    #[arg(long)]
    pub max_delete_points: Option<u64>,
    /// Most series this run may delete from, over all segments
    #[arg(long)]
    pub max_delete_series: Option<u64>,
    /// Seconds to wait for the range to read back empty after the delete
    #[arg(long, default_value_t = 60)]
    pub settle_timeout: u64,
    /// Check every purge gate and show what would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Per-segment lock objects in the destination (`locks/<id>.lock`).
#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// How long a segment lock lives without renewal (a crashed run's lock expires after it)
    #[arg(long, default_value = "30m")]
    pub lock_ttl: String,
    /// Milliseconds to wait after writing a lock before reading it back (the store has no
    /// conditional writes; whoever wrote last holds the lock)
    #[arg(long, default_value_t = 300)]
    pub lock_settle_ms: u64,
}

impl LockArgs {
    pub fn opts(&self) -> anyhow::Result<crate::lock::LockOpts> {
        use anyhow::Context;
        let ttl = crate::time::parse_duration_secs(&self.lock_ttl).context("--lock-ttl")?;
        Ok(crate::lock::LockOpts {
            ttl: std::time::Duration::from_secs(ttl as u64),
            settle: std::time::Duration::from_millis(self.lock_settle_ms),
        })
    }
}

/// The whole chain in one process: plan, fetch, compress, verify, upload, verify, [purge, notify]
#[derive(Args, Debug)]
#[command(
    after_help = "Segments are fetched and uploaded concurrently (--jobs) and compressed on a thread
pool; each one goes through the chain on its own, so memory stays bounded whatever the range.
The state of every segment is saved in the work directory after each stage: re-running the same
command after a crash (or a kill -9) resumes where each segment stopped and retries the failed
ones. A lock object per segment in the destination keeps concurrent runs apart.

Records go to stdout as segments finish, a summary to stderr. Exit codes: 0 ok, 1 error, 2 usage,
3 some segments failed, 4 integrity mismatch.

Examples:
  warp-offload all --warp10-url https://warp.example --selector '~os\\..*{dc=par1}' \\
      --start now-60d --end now-30d --segment-length 1d --dest s3://metrics-archive/warp10 \\
      --read-token-file read.token --write-token-file write.token --purge --notify > run.ndjson
  # retry one failed segment by hand
  warp-offload all ...same flags... --segment 20261001T000000Z-1d-0123456789ab"
)]
pub struct AllArgs {
    /// Warp 10 base URL (no token in it)
    #[arg(long, env = "WARP10_URL")]
    pub warp10_url: String,
    /// Warp 10 selector (repeatable; each gets its own segments)
    #[arg(long = "selector", required = true)]
    pub selectors: Vec<String>,
    /// Start of the range: RFC 3339, now or now-30d; rounded down to a segment boundary
    #[arg(long)]
    pub start: String,
    /// End of the range (exclusive): RFC 3339, now or now-30d; rounded down to a segment boundary
    #[arg(long)]
    pub end: String,
    /// Segment length: 1h, 6h, 1d, 7d, ... (plan's --segment)
    #[arg(long, default_value = "1d")]
    pub segment_length: String,
    /// Split segments per class or per series found with /api/v0/find
    #[arg(long, value_enum, default_value_t = SplitBy::None)]
    pub split_by: SplitBy,
    /// Refuse windows that end less than this long ago
    #[arg(long, default_value = "1d")]
    pub min_age: String,
    /// Platform time unit of the Warp 10 instance
    #[arg(long, value_enum, default_value_t = TimeUnit::Us)]
    pub time_unit: TimeUnit,
    /// Run only the segment with this id (repeatable)
    #[arg(long = "segment", value_name = "ID")]
    pub only: Vec<String>,
    /// File holding the Warp 10 read token; or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// File holding the Warp 10 write token (needed by --purge); or set WARP10_WRITE_TOKEN
    #[arg(long)]
    pub write_token_file: Option<PathBuf>,
    /// Destination: s3://bucket/prefix, file:///dir or a directory
    #[arg(long)]
    pub dest: String,
    /// Archive codec
    #[arg(long, value_enum, default_value_t = crate::archive::Codec::Columnar)]
    pub codec: crate::archive::Codec,
    /// zstd level
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Encrypt archives with the 32-byte key in this file
    #[arg(long, env = "WARP_OFFLOAD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Segments in flight at once (fetches and uploads run concurrently)
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Purge each segment from Warp 10 once its archive is verified in the destination
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub gates: PurgeOpts,
    /// Stop if the local clock and Warp 10's (its Date header) differ by more than this
    #[arg(long, default_value = "5m")]
    pub max_clock_skew: String,
    /// Post the run summary (see `notify`) when the run ends
    #[arg(long)]
    pub notify: bool,
    /// With --notify: file holding the Slack incoming-webhook URL; or set SLACK_WEBHOOK_URL
    #[arg(long)]
    pub slack_webhook_file: Option<PathBuf>,
    /// With --notify: file holding a JSON webhook URL; or set WARP_OFFLOAD_WEBHOOK_URL
    #[arg(long)]
    pub webhook_file: Option<PathBuf>,
    /// With --notify: when to post
    #[arg(long, value_enum, default_value_t = NotifyOn::Failure)]
    pub notify_on: NotifyOn,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

impl AllArgs {
    pub fn plan_args(&self) -> PlanArgs {
        PlanArgs {
            warp10_url: self.warp10_url.clone(),
            selectors: self.selectors.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            segment: self.segment_length.clone(),
            split_by: self.split_by,
            min_age: self.min_age.clone(),
            time_unit: self.time_unit,
            read_token_file: self.read_token_file.clone(),
            max_clock_skew: self.max_clock_skew.clone(),
            http: self.http.clone(),
        }
    }

    pub fn upload_args(&self) -> UploadArgs {
        UploadArgs {
            dest: self.dest.clone(),
            jobs: self.jobs,
            force: false,
            dry_run: false,
            s3: self.s3.clone(),
        }
    }

    pub fn purge_args(&self) -> PurgeArgs {
        PurgeArgs {
            dest: self.dest.clone(),
            read_token_file: self.read_token_file.clone(),
            write_token_file: self.write_token_file.clone(),
            key_file: self.key_file.clone(),
            gates: self.gates.clone(),
            jobs: self.jobs,
            max_clock_skew: self.max_clock_skew.clone(),
            http: self.http.clone(),
            s3: self.s3.clone(),
        }
    }

    pub fn notify_args(&self) -> NotifyArgs {
        NotifyArgs {
            slack_webhook_file: self.slack_webhook_file.clone(),
            webhook_file: self.webhook_file.clone(),
            on: self.notify_on,
            manifest_hint: "run.ndjson".to_string(),
            timeout: 10,
            dry_run: false,
        }
    }
}
