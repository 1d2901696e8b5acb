//! `all`: the whole chain in one process. Each segment goes through fetch → compress (which
//! decodes and checks what it wrote) → upload → verify (read back) → purge on a worker; up to
//! `--jobs` segments fetch, encode or purge at once and as many more upload or are read back
//! (see [`Slots`]), so memory is bounded by the segments in flight, not the range.
//! The segment's record is saved to the work directory after every stage (the journal): a
//! re-run resumes each segment where it stopped and retries failed ones. A lock object per
//! segment in the destination keeps concurrent runs apart.

use crate::archive::crypt::MasterKey;
use crate::cli::{GlobalOpts, HttpOpts, NotifyOn, PurgeOpts, PurgeSetup, RangeOpts, S3Opts, TokenOpts, WebhookOpts};
use crate::error::Usage;
use crate::exit::Tally;
use crate::id::SegmentId;
use crate::journal::Journal;
use crate::lock::{Lock, LockOpts};
use crate::manifest::{Segment, StageName};
use crate::notify::Summary;
use crate::stage::compress::{Compress, Options};
use crate::stage::fetch::{Fetch, Target};
use crate::stage::upload::Upload;
use crate::stage::verify::Verify;
use crate::stage::{Action, Order, Outcome, Stage, run_segments};
use crate::store::{self, Store, Stores};
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::Result;
use clap::Args;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

/// The whole chain in one process: plan, fetch, compress, verify, upload, verify, [purge, notify]
#[derive(Args, Debug)]
#[command(
    after_help = "Up to --jobs segments are fetched and encoded at once, and as many more uploaded and
read back meanwhile; each one goes through the chain on its own, so memory stays bounded
whatever the range.
The state of every segment is saved in the work directory after each stage: re-running the same
command after a crash (or a kill -9) resumes where each segment stopped and retries the failed
ones. A lock object per segment in the destination keeps concurrent runs apart.

Records go to stdout in plan order (each once those before it are done), a summary to stderr. Exit codes: 0 ok, 1 the run stopped,
2 usage, 3 some segments failed (an unreachable Warp 10 too; a re-run retries them), 4 integrity
mismatch.

Examples:
  warp-offload all --warp10-url https://warp.example --selector '~os\\..*{dc=par1}' \\
      --start now-60d --end now-30d --segment-length 1d --dest s3://metrics-archive/warp10 \\
      --read-token-file read.token --write-token-file write.token --purge --notify > run.ndjson
  # retry one failed segment by hand
  warp-offload all ...same flags... --segment 20261001T000000Z-1d-0123456789ab"
)]
pub struct AllArgs {
    #[command(flatten)]
    pub range: RangeOpts,
    #[command(flatten)]
    pub tokens: TokenOpts,
    #[command(flatten)]
    pub webhooks: WebhookOpts,
    /// Segment length: 1h, 6h, 1d, 7d, ... (windows are aligned to multiples of it in UTC)
    #[arg(long, default_value = "1d")]
    pub segment_length: String,
    /// Start every segment over from the fetch, ignoring the work directory's state and the
    /// destination's manifest objects (an archive whose segment was purged is never replaced)
    #[arg(long)]
    pub force: bool,
    /// Run only the segment with this id (repeatable)
    #[arg(long = "segment", value_name = "ID")]
    pub only: Vec<String>,
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
    /// Segments fetched, encoded or purged at once; as many more may be uploading or read back
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Purge each segment from Warp 10 once its archive is verified in the destination
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub gates: PurgeOpts,
    /// Post the run summary (see `notify`) when the run ends
    #[arg(long)]
    pub notify: bool,
    /// With --notify: when to post
    #[arg(long, value_enum, default_value_t = NotifyOn::Failure)]
    pub notify_on: NotifyOn,
    #[command(flatten)]
    pub http: HttpOpts,
    #[command(flatten)]
    pub s3: S3Opts,
}

/// Everything the workers share.
struct Ctx<'a> {
    journal: Journal,
    /// The destination (the upload stage's store): locks and committed manifests.
    store: &'a dyn Store,
    dest: String,
    force: bool,
    lock: LockOpts,
    /// The chain, in order. No local verify: compress (or the fetch into the archive) has just
    /// decoded the archive it wrote and checked it against the fetch, and the remote verify
    /// reads it back after the upload (hashing it; decoding it too unless it is the archive
    /// this process checked, see `stage::verify`).
    stages: Vec<&'a dyn Stage>,
    /// Locks claimed while their segment waits for a worker (see [`claim_ahead`]).
    claimed: Mutex<HashMap<SegmentId, Lock<'a>>>,
    /// `--jobs` slots for the stages that load Warp 10 and the CPU (see [`Slots`]).
    slots: Slots,
}

/// Fetch (with its parsing and encoding), compress and purge load Warp 10 and the CPU: at most
/// `--jobs` segments run them at once, each holding a slot. Upload and the read-back mostly
/// wait on the destination (and a new lock on its settle time), so they run without one, on as
/// many more workers: while a segment uploads, its worker's slot lets the next segment fetch.
/// (With one slot per worker, a worker's cores sat idle for every upload and read-back: 24 x 1h
/// of D1 at `--jobs 2` took 1.08x the wall time of `curl | zstd | curl` with less CPU.)
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Slot<'s>(&'s Slots);

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }

    fn take(&self) -> Slot<'_> {
        let mut free = self.free.lock().expect("slots");
        while *free == 0 {
            free = self.freed.wait(free).expect("slots");
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().expect("slots") += 1;
        self.0.freed.notify_one();
    }
}

/// See [`Slots`].
fn needs_slot(stage: StageName) -> bool {
    matches!(stage, StageName::Fetch | StageName::Compress | StageName::Purge)
}

pub fn run(g: &GlobalOpts, a: AllArgs) -> Result<Tally> {
    let started = std::time::Instant::now();
    store::init_tls(&a.s3.config())?;
    let segments = select(
        crate::plan::segments(
            &a.range
                .spec(&a.segment_length, a.tokens.read_token_file.as_deref(), &a.http),
        )?,
        &a.only,
    )?;
    let work = WorkDir::new(&g.work_dir);
    let key = || a.key_file.as_deref().map(MasterKey::load).transpose();
    let compress = Compress {
        work: work.clone(),
        options: Options {
            codec: a.codec,
            level: a.level,
            key: key()?,
            remove_spool: true,
        },
    };
    let fetch = Fetch::new(
        // Saved state is checked against this run's Warp 10 (`--warp10-url`/`WARP10_URL`).
        Client::new(&a.range.warp10_url, &a.http.config())?,
        crate::secret::read_token(a.tokens.read_token_file.as_deref())?,
        work.clone(),
        Target::Archive(&compress.options),
    );
    let upload = Upload {
        store: store::open(&store::Destination::parse(&a.dest)?, &a.s3.config())?,
        work: work.clone(),
        force: a.force,
        dry_run: false,
    };
    let verify = Verify {
        work: work.clone(),
        stores: Stores::new(a.s3.config()),
        key: key()?,
    };
    let purger = a
        .purge
        .then(|| {
            PurgeSetup {
                warp10_url: &a.range.warp10_url,
                dest: &a.dest,
                tokens: &a.tokens,
                key_file: a.key_file.as_deref(),
                gates: &a.gates,
                max_clock_skew: &a.range.max_clock_skew,
                http: &a.http,
                s3: &a.s3,
            }
            .purger()
        })
        .transpose()?;
    let mut stages: Vec<&dyn Stage> = vec![&fetch, &compress, &upload, &verify];
    stages.extend(purger.as_ref().map(|p| p as &dyn Stage));
    let ctx = Ctx {
        journal: Journal::new(&work),
        store: upload.store.as_ref(),
        dest: upload.store.url(""),
        force: a.force,
        lock: a.gates.lock.opts()?,
        stages,
        claimed: Mutex::default(),
        slots: Slots::new(a.jobs),
    };
    // A webhook slower than 10 s only delays the end of the run.
    let delivery = a
        .notify
        .then(|| {
            let always = a.notify_on == NotifyOn::Always;
            a.webhooks
                .delivery(always, a.gates.dry_run, std::time::Duration::from_secs(10))
        })
        .transpose()?;

    let mut summary = Summary::default();
    let run = crate::stage::Run {
        what: "all",
        total: Some(segments.len()),
        // Twice the slots: a segment uploading or being read back leaves its slot to another.
        jobs: 2 * a.jobs.max(1),
        order: Order::Input,
        resume: "run the same command again: each segment resumes from the work directory where it stopped",
    };
    let tally = run_segments(
        segments.into_iter().map(Ok),
        run,
        |seg| {
            if !a.gates.dry_run {
                claim_ahead(&ctx, seg);
            }
            Action::Work
        },
        |seg| {
            if a.gates.dry_run {
                Outcome::Done(Box::new(preview(&ctx, seg)))
            } else {
                process(&ctx, seg)
            }
        },
        |seg| summary.add(seg),
    )?;
    fetch.warn_empty();
    if a.gates.dry_run {
        crate::log::info(
            "all",
            None,
            &format!(
                "dry run: {} segments planned; nothing was fetched, written, uploaded, locked or deleted",
                tally.total()
            ),
            &[],
        );
    }
    let mut report = summary.report(crate::notify::records_file(None).as_deref(), None);
    // The records' times span every run that worked on them; the wall time is this run's.
    report.wall_ms = Some(started.elapsed().as_millis() as u64);
    match delivery {
        Some(d) => d.deliver(&report),
        None => crate::log::described(crate::log::Level::Info, "all", &report.line(), &report_fields(&report)),
    }
    Ok(tally)
}

/// Keeps only the segments named by `--segment` (all of them when none is named); an id that
/// is not in the plan is a usage error, not a silent no-op.
fn select(planned: Vec<Segment>, only: &[String]) -> Result<Vec<Segment>> {
    if only.is_empty() {
        return Ok(planned);
    }
    let ids: Vec<SegmentId> = only.iter().map(|s| SegmentId::new(s)).collect::<Result<_>>()?;
    if let Some(missing) = ids.iter().find(|id| !planned.iter().any(|s| &s.id == *id)) {
        return Err(Usage(format!(
            "--segment {missing} is not one of the segments these selectors and range plan \
             (run `warp-offload plan` with the same flags to list them)"
        ))
        .into());
    }
    Ok(planned.into_iter().filter(|s| ids.contains(&s.id)).collect())
}

/// The numbers of the run summary as log fields (JSON logs), beside its text.
fn report_fields(r: &crate::notify::Report) -> Vec<(&'static str, serde_json::Value)> {
    let c = &r.segments;
    let mut fields = vec![
        ("segments_total", c.total.into()),
        ("segments_ok", c.ok.into()),
        ("segments_failed", c.failed.into()),
        ("segments_mismatched", c.mismatched.into()),
        ("segments_skipped", c.skipped.into()),
        ("points", r.points.into()),
        ("bytes_in", r.bytes_in.into()),
        ("bytes_out", r.bytes_out.into()),
    ];
    if let Some(ms) = r.wall_ms {
        fields.push(("duration_ms", ms.into()));
    }
    fields
}

/// Claims the lock of a segment as it is queued for a worker, so that the lock's settle time
/// (`--lock-settle-ms`) passes while it waits instead of after it starts: with short segments
/// that wait was most of each segment's wall time. A claim that fails is left for the worker
/// to make again and report.
fn claim_ahead<'a>(ctx: &Ctx<'a>, seg: &Segment) {
    if let Ok(lock) = Lock::acquire(ctx.store, &seg.id, ctx.lock) {
        ctx.claimed.lock().expect("claimed locks").insert(seg.id.clone(), lock);
    }
}

/// The segment's lock: the one claimed ahead if it is still fresh (a claim older than a third
/// of the lock's lifetime is released and made again), else a new one.
fn take_lock<'a>(ctx: &Ctx<'a>, id: &SegmentId) -> Result<Lock<'a>> {
    let claimed = ctx.claimed.lock().expect("claimed locks").remove(id);
    match claimed {
        Some(lock) if lock.age() < ctx.lock.ttl / 3 => Ok(lock),
        stale => {
            drop(stale);
            Lock::acquire(ctx.store, id, ctx.lock)
        }
    }
}

/// Runs one segment through every stage it has not reached yet, saving it after each. An
/// interruption stops it before its next stage (its state is in the journal, its lock is
/// released on return): it was not started if no stage ran in this process.
fn process(ctx: &Ctx, planned: Segment) -> Outcome {
    let done = |seg| Outcome::Done(Box::new(seg));
    let id = planned.id.clone();
    crate::log::debug("all", None, "taking the segment lock");
    let lock = match take_lock(ctx, &id) {
        Ok(lock) => lock,
        Err(e) => return done(failed(planned, StageName::Lock, e)),
    };
    let mut seg = match resume(ctx, &planned) {
        Ok(seg) => seg,
        Err(e) => return done(failed(planned, StageName::Resume, e)),
    };
    if let Some(err) = seg.error.take() {
        crate::log::info(
            "all",
            Some(id.as_str()),
            &format!("retrying after a failure at {}", err.stage),
            &[],
        );
    }
    let mut ran = false;
    for stage in &ctx.stages {
        if !stage.needed(&seg) {
            continue;
        }
        let name = stage.name();
        // Taken before the interruption check: a worker may wait here a while.
        let slot = needs_slot(name).then(|| ctx.slots.take());
        if crate::interrupt::requested() {
            let (what, outcome) = if ran {
                (format!("stopped before {name}"), Outcome::Stopped)
            } else {
                ("not started".to_string(), Outcome::NotStarted)
            };
            crate::log::info("all", None, &format!("{what} (interrupted); lock released"), &[]);
            return outcome;
        }
        // Fetch and compress only write to the work directory: the lock's settle time runs
        // meanwhile, and it is confirmed before the first use of the destination.
        if stage.uses_destination()
            && let Err(e) = lock.keep_alive()
        {
            // Another run owns the segment: what was done here locally is not ours to commit.
            let e = match ctx.journal.forget(&id) {
                Ok(()) => e,
                Err(forget) => e.context(format!("{forget:#}")),
            };
            return done(failed(seg, name, e));
        }
        crate::log::debug("all", None, &format!("{name}: starting"));
        seg = crate::interrupt::working(id.as_str(), name.name(), || stage.apply(seg));
        drop(slot);
        ran = true;
        if let Err(e) = ctx.journal.save(&seg) {
            return done(failed(seg, name, e));
        }
        crate::log::debug("all", None, &format!("{name}: state saved in the work directory"));
        crate::exit::failpoint(&format!("all-after-{name}"));
        if seg.error.is_some() {
            break;
        }
    }
    done(seg)
}

/// `--dry-run`: where the segment stands and the stages it would go through. Reads the journal
/// and the destination, takes no lock and writes nothing; a segment that only awaits its purge
/// goes through the purge's own dry run (every gate checked, what would be deleted listed).
fn preview(ctx: &Ctx, planned: Segment) -> Segment {
    let id = planned.id.clone();
    let saved = if ctx.force {
        Ok(planned.clone())
    } else {
        resume(ctx, &planned)
    };
    let mut seg = match saved {
        Ok(seg) => seg,
        Err(e) => return failed(planned, StageName::Resume, e),
    };
    seg.error = None;
    let todo: Vec<&dyn Stage> = ctx.stages.iter().copied().filter(|s| s.needed(&seg)).collect();
    let names: Vec<&str> = todo.iter().map(|s| s.name().name()).collect();
    let msg = if names.is_empty() {
        "dry run: done already, nothing to do".to_string()
    } else {
        format!("dry run: would {}", names.join(", "))
    };
    crate::log::info("all", Some(id.as_str()), &msg, &[]);
    match todo.as_slice() {
        [purge] if purge.name() == StageName::Purge => purge.apply(seg),
        _ => seg,
    }
}

/// Where the segment stands: this work directory's journal, else the destination's manifest
/// object (committed by an earlier run, maybe on another machine, maybe into a destination
/// since copied here), else nowhere; with `--force`, nowhere. Saved state must describe the
/// planned segment exactly (same source, selector and range): its id says so, and a state file
/// or manifest object edited to say otherwise is refused, never followed.
fn resume(ctx: &Ctx, planned: &Segment) -> Result<Segment> {
    if ctx.force {
        ctx.journal.forget(&planned.id)?;
        return Ok(planned.clone());
    }
    let (saved, whence) = match ctx.journal.load(&planned.id)? {
        Some(saved) => (saved, "the work directory's state"),
        None => match crate::layout::read_manifest(ctx.store, &planned.id)? {
            Some(mut committed) => {
                // The manifest object was found here, so here is where its archive is, whatever
                // destination it was first uploaded to; the read-back below checks it.
                if let Some(up) = committed.upload.as_mut()
                    && !ctx.store.destination().is(&up.dest)
                {
                    up.dest = ctx.dest.clone();
                    committed.verify = None;
                }
                (committed, "the destination's manifest object")
            }
            None => return Ok(planned.clone()),
        },
    };
    let same = (
        &saved.selector,
        saved.start,
        saved.end,
        &saved.warp10_url,
        saved.time_unit,
    ) == (
        &planned.selector,
        planned.start,
        planned.end,
        &planned.warp10_url,
        planned.time_unit,
    );
    if !same {
        anyhow::bail!(
            "{whence} for segment {} describes another segment ({} {} .. {} from {}): refusing to resume from it \
             (run with --force to start the segment over)",
            planned.id,
            saved.selector,
            saved.start,
            saved.end,
            saved.warp10_url
        );
    }
    Ok(saved)
}

fn failed(mut seg: Segment, stage: StageName, e: anyhow::Error) -> Segment {
    crate::stage::record_failure(&mut seg, stage, &e);
    seg
}
