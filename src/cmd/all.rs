//! `all`: the whole chain in one process. Each segment goes through fetch → compress (which
//! decodes and checks what it wrote) → upload → verify (read back) → purge on one of `--jobs` workers, so fetches and uploads of
//! different segments overlap and memory is bounded by the segments in flight, not the range.
//! The segment's record is saved to the work directory after every stage (the journal): a
//! re-run resumes each segment where it stopped and retries failed ones. A lock object per
//! segment in the destination keeps concurrent runs apart.

use crate::archive::crypt::MasterKey;
use crate::cli::{AllArgs, GlobalOpts, PurgeArgs, UploadArgs};
use crate::cmd::{Action, compress, fetch, plan, purge, run_segments, upload, verify};
use crate::exit::{Tally, Usage};
use crate::journal::Journal;
use crate::lock::{Lock, LockOpts};
use crate::manifest::{Segment, SegmentId};
use crate::notify::Summary;
use crate::secret::Secret;
use crate::store::{self, Store, Stores};
use crate::warp10::Client;
use crate::workdir::WorkDir;
use anyhow::Result;

/// Everything the workers share.
struct Ctx<'a> {
    work: WorkDir,
    journal: Journal,
    store: Box<dyn Store>,
    stores: Stores<'a>,
    dest: String,
    read_token: Secret,
    /// This run's Warp 10 (`--warp10-url`/`WARP10_URL`); saved state is checked against it.
    client: Client,
    force: bool,
    compress: compress::Options,
    upload: &'a UploadArgs,
    purger: Option<purge::Purger<'a>>,
    lock: LockOpts,
}

pub fn run(g: &GlobalOpts, a: AllArgs) -> Result<Tally> {
    let started = std::time::Instant::now();
    store::init_tls(&a.s3)?;
    let segments = select(plan::segments(&a.plan_args())?, &a.only)?;
    let upload_args = a.upload_args();
    let purge_args: PurgeArgs = a.purge_args();
    let work = WorkDir::new(&g.work_dir);
    let store = store::open(&a.dest, &a.s3)?;
    let ctx = Ctx {
        journal: Journal::new(&work),
        work,
        dest: store.url(""),
        store,
        stores: Stores::new(&a.s3),
        read_token: crate::secret::read_token(a.read_token_file.as_deref())?,
        client: Client::new(&a.warp10_url, &a.http)?,
        force: a.force,
        compress: compress::Options {
            codec: a.codec,
            level: a.level,
            key: a.key_file.as_deref().map(MasterKey::load).transpose()?,
            remove_spool: true,
        },
        upload: &upload_args,
        purger: a.purge.then(|| purge::Purger::new(&purge_args)).transpose()?,
        lock: a.gates.lock.opts()?,
    };
    let delivery = a
        .notify
        .then(|| crate::cmd::notify::Delivery::new(&a.notify_args()))
        .transpose()?;

    let bar = crate::log::bar(Some(segments.len() as u64), "all");
    let mut summary = Summary::default();
    let tally = run_segments(
        segments.into_iter().map(Ok),
        a.jobs,
        |_| Action::Work,
        |seg| process(&ctx, seg),
        |seg| {
            summary.add(seg);
            bar.set_message(summary.progress_line());
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    let mut report = summary.report("run.ndjson", None);
    // The records' times span every run that worked on them; the wall time is this run's.
    report.wall_ms = Some(started.elapsed().as_millis() as u64);
    match delivery {
        Some(d) => d.deliver(&report),
        None => crate::log::info("all", None, &report.line(), &[]),
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

/// A stage of the chain: its name, whether a segment still needs it, and the stage itself.
type Step<'c> = (
    &'static str,
    &'c dyn Fn(&Segment) -> bool,
    &'c dyn Fn(Segment) -> Segment,
);

/// Runs one segment through every stage it has not reached yet, saving it after each.
fn process(ctx: &Ctx, planned: Segment) -> Segment {
    let id = planned.id.clone();
    let lock = match Lock::acquire(ctx.store.as_ref(), &id, ctx.lock) {
        Ok(lock) => lock,
        Err(e) => return failed(planned, "lock", e),
    };
    let mut seg = match resume(ctx, &planned) {
        Ok(seg) => seg,
        Err(e) => return failed(planned, "resume", e),
    };
    if let Some(err) = seg.error.take() {
        crate::log::info(
            "all",
            Some(id.as_str()),
            &format!("retrying after a failure at {}", err.stage),
            &[],
        );
    }
    // No local verify step: compress has just decoded the archive it wrote and checked it
    // against the fetch, and the remote verify reads it back again after the upload.
    let steps: [Step; 5] = [
        ("fetch", &|s| s.fetch.is_none(), &|s| {
            fetch::fetch_segment(
                s,
                &ctx.client,
                &ctx.read_token,
                &ctx.work,
                &fetch::Target::Archive(&ctx.compress),
            )
        }),
        ("compress", &|s| s.archive.is_none(), &|s| {
            compress::compress_segment(s, &ctx.work, &ctx.compress)
        }),
        (
            "upload",
            &|s| s.upload.as_ref().is_none_or(|u| u.dest != ctx.dest),
            &|s| upload::upload_segment(s, ctx.store.as_ref(), ctx.upload, &ctx.work),
        ),
        (
            "verify-remote",
            &|s| s.verify.as_ref().is_none_or(|v| v.scope != "remote"),
            &|s| verify_segment(ctx, s),
        ),
        (
            "purge",
            &|s| ctx.purger.is_some() && s.purge.as_ref().is_none_or(|p| p.state != purge::PURGED),
            &|s| ctx.purger.as_ref().expect("only with --purge").purge_segment(s),
        ),
    ];
    for (name, needed, run) in steps {
        if !needed(&seg) {
            continue;
        }
        // Fetch and compress only write to the work directory: the lock's settle time runs
        // meanwhile, and it is confirmed before the first write to the destination.
        if !matches!(name, "fetch" | "compress")
            && let Err(e) = lock.keep_alive()
        {
            // Another run owns the segment: what was done here locally is not ours to commit.
            let e = match ctx.journal.forget(&id) {
                Ok(()) => e,
                Err(forget) => e.context(format!("{forget:#}")),
            };
            return failed(seg, name, e);
        }
        seg = run(seg);
        if let Err(e) = ctx.journal.save(&seg) {
            return failed(seg, name, e);
        }
        crate::exit::failpoint(&format!("all-after-{name}"));
        if seg.error.is_some() {
            break;
        }
    }
    seg
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
        None => match upload::read_manifest(ctx.store.as_ref(), &planned.id)? {
            Some(mut committed) => {
                // The manifest object was found here, so here is where its archive is, whatever
                // destination it was first uploaded to; the read-back below checks it.
                if let Some(up) = committed.upload.as_mut()
                    && up.dest != ctx.dest
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

fn verify_segment(ctx: &Ctx, seg: Segment) -> Segment {
    verify::verify_segment(seg, &ctx.work, &ctx.stores, ctx.compress.key.as_ref())
}

fn failed(mut seg: Segment, stage: &str, e: anyhow::Error) -> Segment {
    crate::cmd::record_failure(&mut seg, stage, &e);
    seg
}
