//! Command-line options shared by several subcommands: the global options, the argument groups
//! (`RangeOpts`, `TokenOpts`, `WebhookOpts`, HTTP, S3, purge limits, locks) and their conversion
//! into the domain modules' own config types. Each subcommand's own arguments live beside it in
//! `cmd/`.

use crate::id::TimeUnit;
use crate::log::{LogFormat, ProgressMode};
use crate::plan::SplitBy;
use crate::store::{Addressing, S3Config};
use crate::warp10::HttpConfig;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

pub const AFTER_HELP: &str = "\
Every stage reads segment records (NDJSON) on stdin and writes them, enriched, on stdout; logs and
progress go to stderr. Secrets come from files or environment variables, never from arguments.

Exit codes: 0 ok; 1 the run stopped (its records are incomplete); 2 usage: the command line cannot
run as written (unknown flag, a value that does not parse, start after end), nothing was done; 3 the
run went through but some segments failed, whatever the cause (their records carry `error`; a re-run
retries them); 4 integrity mismatch; 130 interrupted (Ctrl-C, SIGTERM): the records of the finished
segments were written and our locks released, run the same command again to resume.";

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

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Only print errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr: -v one line per request (method, URL, status, bytes, ms), -vv debug
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Format of log lines on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Progress on stderr: auto draws bars on a terminal only; always draws them on a terminal
    /// and prints a one-line status every --stats-interval elsewhere (a file, a pipe)
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto, overrides_with = "progress")]
    pub progress: ProgressMode,
    /// With --progress always and stderr not a terminal: time between status lines (e.g. 10s, 1m)
    #[arg(long, global = true, default_value = "10s", value_name = "DURATION", value_parser = parse_interval)]
    pub stats_interval: std::time::Duration,
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

/// What to plan, shared by `plan` and `all`: the Warp 10, its selectors and the range.
#[derive(Args, Debug, Clone)]
pub struct RangeOpts {
    /// Warp 10 base URL (no token in it); tokens and deletes go only here
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
    /// Split segments per class or per series found with /api/v0/find
    #[arg(long, value_enum, default_value_t = SplitBy::None)]
    pub split_by: SplitBy,
    /// Refuse windows that end less than this long ago (late writes may still arrive)
    #[arg(long, default_value = "1d")]
    pub min_age: String,
    /// Platform time unit of the Warp 10 instance (warp.timeunits)
    #[arg(long, value_enum, default_value_t = TimeUnit::Us)]
    pub time_unit: TimeUnit,
    /// Stop if the local clock and Warp 10's (its Date header) differ by more than this
    #[arg(long, default_value = "5m")]
    pub max_clock_skew: String,
}

impl RangeOpts {
    /// The plan these options describe, with segments of `segment_length`.
    pub fn spec<'a>(
        &'a self,
        segment_length: &'a str,
        read_token_file: Option<&'a std::path::Path>,
        http: &HttpOpts,
    ) -> crate::plan::PlanSpec<'a> {
        crate::plan::PlanSpec {
            warp10_url: &self.warp10_url,
            time_unit: self.time_unit,
            selectors: &self.selectors,
            start: &self.start,
            end: &self.end,
            segment_length,
            split_by: self.split_by,
            min_age: &self.min_age,
            read_token_file,
            max_clock_skew: &self.max_clock_skew,
            http: http.config(),
        }
    }
}

/// When `notify` posts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum NotifyOn {
    /// Only when a segment failed or the records could not all be read
    Failure,
    /// After every run
    Always,
}

/// Timeouts and retries for requests to Warp 10 (see `net::MinRate` for the rate check).
#[derive(Args, Debug, Clone)]
pub struct HttpOpts {
    /// Attempts per Warp 10 request on connection errors, 5xx and 429 (4xx are never retried)
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Seconds allowed to connect, to send a request, to receive the response headers, and
    /// for each read of a response body; also the window --min-rate is measured over
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Slowest acceptable answer, in bytes per second (e.g. 1KiB), averaged over every --timeout
    /// seconds of waiting: a body arriving slower is abandoned (and retried), so a stalled or
    /// trickling server fails in bounded time. An update may take --timeout plus its size at
    /// this rate. 0 turns the check off
    #[arg(long, default_value = "1KiB", value_parser = parse_size, value_name = "BYTES")]
    pub min_rate: u64,
}

impl HttpOpts {
    /// The Warp 10 client's own settings (`warp10` knows nothing of the command line).
    pub fn config(&self) -> HttpConfig {
        HttpConfig {
            retries: self.retries,
            timeout: self.timeout,
            min_rate: self.min_rate,
        }
    }
}

/// How to reach an S3-compatible store. Credentials, region and endpoint are found as the AWS
/// tools find them (environment, then ~/.aws files, then container or instance credentials; see
/// `store::aws`): the flags here only override.
#[derive(Args, Debug, Clone)]
pub struct S3Opts {
    /// S3 endpoint URL [default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then the profile's
    /// endpoint_url in ~/.aws/config, then AWS]
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Profile of ~/.aws/credentials and ~/.aws/config for S3 keys, region and endpoint; its keys
    /// win over AWS_ACCESS_KEY_ID [default: AWS_PROFILE, then default]
    #[arg(long, value_name = "NAME")]
    pub s3_profile: Option<String>,
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

impl S3Opts {
    /// The store's own settings (`store` knows nothing of the command line).
    pub fn config(&self) -> S3Config {
        S3Config {
            s3_endpoint: self.s3_endpoint.clone(),
            s3_addressing: self.s3_addressing,
            s3_profile: self.s3_profile.clone(),
            part_size: self.part_size,
            s3_retries: self.s3_retries,
            s3_timeout: self.s3_timeout,
            ca_cert: self.ca_cert.clone(),
        }
    }
}

/// A duration flag (`10s`, `1m`): s, m, h, d or w.
fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    crate::time::parse_duration_secs(s)
        .map(|n| std::time::Duration::from_secs(n as u64))
        .map_err(|e| format!("{e:#}"))
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
    /// Write nothing anywhere, delete nothing: say what would be done (each purge gate is
    /// checked and what would be deleted is listed)
    #[arg(long, short = 'n')]
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

/// The Warp 10 tokens, from files or the environment (never argv).
#[derive(Args, Debug, Clone)]
pub struct TokenOpts {
    /// File holding the Warp 10 read token (fetch, checks); or set WARP10_READ_TOKEN
    #[arg(long)]
    pub read_token_file: Option<PathBuf>,
    /// File holding the Warp 10 write token (delete); or set WARP10_WRITE_TOKEN
    #[arg(long)]
    pub write_token_file: Option<PathBuf>,
}

/// Where a run summary is posted, shared by `notify` and `all --notify`.
#[derive(Args, Debug, Clone)]
pub struct WebhookOpts {
    /// File holding the Slack incoming-webhook URL; or set SLACK_WEBHOOK_URL
    #[arg(long)]
    pub slack_webhook_file: Option<PathBuf>,
    /// File holding a JSON webhook URL; or set WARP_OFFLOAD_WEBHOOK_URL
    #[arg(long)]
    pub webhook_file: Option<PathBuf>,
}

impl WebhookOpts {
    /// Posting to these webhooks: `always` or on failure only, for real or as a dry run.
    pub fn delivery(
        &self,
        always: bool,
        dry_run: bool,
        timeout: std::time::Duration,
    ) -> anyhow::Result<crate::notify::Delivery> {
        crate::notify::Delivery::new(
            (self.slack_webhook_file.as_deref(), self.webhook_file.as_deref()),
            always,
            dry_run,
            timeout,
        )
    }
}

/// The purge stage for this run's Warp 10 and destination, shared by `purge` and `all --purge`.
pub struct PurgeSetup<'a> {
    pub warp10_url: &'a str,
    pub dest: &'a str,
    pub tokens: &'a TokenOpts,
    pub key_file: Option<&'a std::path::Path>,
    pub gates: &'a PurgeOpts,
    pub max_clock_skew: &'a str,
    pub http: &'a HttpOpts,
    pub s3: &'a S3Opts,
}

impl PurgeSetup<'_> {
    pub fn purger(&self) -> anyhow::Result<crate::stage::purge::Purger> {
        crate::store::init_tls(&self.s3.config())?;
        let limits = crate::stage::purge::Limits {
            max_delete_points: self.gates.max_delete_points,
            max_delete_series: self.gates.max_delete_series,
            settle_timeout: self.gates.settle_timeout,
            dry_run: self.gates.dry_run,
            max_clock_skew_s: crate::time::parse_duration_secs(self.max_clock_skew)
                .map_err(crate::error::bad_flag("--max-clock-skew"))?,
        };
        Ok(crate::stage::purge::Purger::new(
            crate::store::open(&crate::store::Destination::parse(self.dest)?, &self.s3.config())?,
            crate::warp10::Client::new(self.warp10_url, &self.http.config())?,
            (
                crate::secret::read_token(self.tokens.read_token_file.as_deref())?,
                crate::secret::write_token(self.tokens.write_token_file.as_deref())?,
            ),
            self.key_file.map(crate::archive::crypt::MasterKey::load).transpose()?,
            self.gates.lock.opts()?,
            limits,
        ))
    }
}

impl LockArgs {
    pub fn opts(&self) -> anyhow::Result<crate::lock::LockOpts> {
        let ttl = crate::time::parse_duration_secs(&self.lock_ttl).map_err(crate::error::bad_flag("--lock-ttl"))?;
        Ok(crate::lock::LockOpts {
            ttl: std::time::Duration::from_secs(ttl as u64),
            settle: std::time::Duration::from_millis(self.lock_settle_ms),
        })
    }
}
