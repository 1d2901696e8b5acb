//! The per-segment stages (fetch, compress, upload, verify, purge, restore), below the commands:
//! each is one type implementing `Stage` (its name, whether a segment still needs it, how it
//! applies), used by its single-stage command and by `all`. Here too is the driver they share:
//! read records, work on the segments that need it with a bounded number of workers, write
//! records as each finishes.

pub mod compress;
pub mod fetch;
pub mod purge;
pub mod restore;
pub mod upload;
pub mod verify;

use crate::exit::Tally;
use crate::manifest::{self, Segment, StageName};
use anyhow::{Context, Result};
use std::io::BufRead;
use std::sync::Mutex;
use std::sync::mpsc;

/// What the driver does with one input segment.
pub enum Action {
    /// Hand it to a worker.
    Work,
    /// Write it out unchanged (failed earlier, or this stage already done and no `--force`).
    Pass,
}

/// The order records are written in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As each segment finishes: a single stage's records are its only state, so none is held
    /// back where a crash would lose it.
    Completion,
    /// As the segments came in (plan order), each held until those before it are written: for
    /// `all` and `restore`, whose state is elsewhere (the journal, the destination).
    Input,
}

/// Runs a stage over `segments`: `decide` picks what happens to each, `work` does the stage on
/// one (recording failures in `Segment::error`, never returning them), `observe` sees each
/// finished segment before it is written (`all` keeps its summary and progress bar with it). A
/// segment that cannot be read stops the reading; segments already read still finish, then the
/// error is returned.
pub fn run_segments<I, D, W>(
    segments: I,
    jobs: usize,
    order: Order,
    decide: D,
    work: W,
    mut observe: impl FnMut(&Segment),
) -> Result<Tally>
where
    I: Iterator<Item = Result<Segment>> + Send,
    D: Fn(&Segment) -> Action + Sync,
    W: Fn(Segment) -> Segment + Sync,
{
    let jobs = jobs.max(1);
    // The workers are a rayon pool of `jobs` threads, each pulling segments from a bounded
    // queue: the CPU-heavy stages (compress, `all`'s fetch into the archive) run on rayon, and
    // at most `jobs` segments are in flight.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("segment-worker-{i}"))
        .build()
        .context("starting the worker threads")?;
    // Segments travel with their input position, for `Order::Input`.
    let (task_tx, task_rx) = mpsc::sync_channel::<(usize, Segment)>(jobs);
    let task_rx = Mutex::new(task_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Segment)>();
    std::thread::scope(|scope| {
        let workers_tx = done_tx.clone();
        let (task_rx, work) = (&task_rx, &work);
        scope.spawn(move || {
            pool.broadcast(|_| {
                let tx = workers_tx.clone();
                loop {
                    let next = task_rx.lock().expect("task queue lock").recv();
                    let Ok((i, seg)) = next else { break };
                    if tx.send((i, work(seg))).is_err() {
                        break;
                    }
                }
            })
        });
        let reader = {
            let done_tx = done_tx.clone();
            let decide = &decide;
            scope.spawn(move || -> Result<()> {
                for (i, seg) in segments.enumerate() {
                    let seg = seg?;
                    match decide(&seg) {
                        Action::Work => task_tx.send((i, seg)).expect("workers outlive the reader"),
                        Action::Pass => done_tx.send((i, seg)).expect("writer outlives the reader"),
                    }
                }
                Ok(())
            })
        };
        drop(done_tx);
        let mut tally = Tally::default();
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut write_err = None;
        let mut held = std::collections::BTreeMap::new();
        let mut next = 0;
        for (i, seg) in done_rx {
            tally.record(&seg);
            observe(&seg);
            held.insert(if order == Order::Input { i } else { next }, seg);
            while let Some(seg) = held.remove(&next) {
                next += 1;
                if write_err.is_none()
                    && let Err(e) = manifest::write_record(&mut out, &seg)
                {
                    write_err = Some(e);
                }
            }
        }
        reader.join().expect("reader thread panicked")?;
        match write_err {
            Some(e) => Err(e),
            None => Ok(tally),
        }
    })
}

/// Records a stage's failure in the segment (retryable when the cause is transient), with the
/// command line that runs it again, and logs it: the segment then passes through later stages,
/// which only add theirs (`rerun`).
pub fn record_failure(seg: &mut Segment, stage: StageName, e: &anyhow::Error) {
    crate::log::event(
        crate::log::Level::Warn,
        stage.name(),
        Some(seg.id.as_str()),
        &format!("{e:#}"),
        &[],
    );
    seg.fail(stage, e, crate::error::is_transient(e));
    crate::rerun::on_failure(seg, stage);
}

/// Standard input as the records source of a stage.
pub fn stdin() -> impl BufRead + Send {
    std::io::BufReader::new(std::io::stdin())
}

/// One stage of the chain, applied to one segment at a time by its single-stage command and by
/// `all`. Adding a stage: a type implementing this in its own module here, a command in `cmd`
/// running it with `run_command`, and a place in `all`'s list.
pub trait Stage: Sync {
    /// Its name in records (`error.stage`), logs and progress bars.
    fn name(&self) -> StageName;
    /// Whether `seg` still needs this stage (a failed segment is never handed to it).
    fn needed(&self, seg: &Segment) -> bool;
    /// Does the stage on one segment; a failure is recorded in the segment, never returned.
    fn apply(&self, seg: Segment) -> Segment;
    /// Whether it reads or writes the destination: `all` confirms its segment lock first.
    fn uses_destination(&self) -> bool;
}

/// A single-stage command: the records of stdin through `stage` on `jobs` workers; segments
/// that reached it already pass through unless `force`; failed ones always do.
pub fn run_command(stage: &dyn Stage, jobs: usize, force: bool) -> Result<Tally> {
    let bar = crate::log::bar(None, stage.name().name());
    let records = manifest::Reader::new(stdin()).map(|seg| {
        seg.map(|mut seg| {
            if seg.error.is_some() {
                crate::rerun::on_pass(&mut seg, stage.name());
            }
            seg
        })
    });
    let tally = run_segments(
        records,
        jobs,
        Order::Completion,
        |seg| {
            if seg.error.is_none() && (force || stage.needed(seg)) {
                Action::Work
            } else {
                Action::Pass
            }
        },
        |seg| {
            let seg = stage.apply(seg);
            bar.inc(1);
            seg
        },
        |_| {},
    );
    bar.finish_and_clear();
    let tally = tally?;
    if tally.total() == 0 {
        warn_no_records(stage.name().name());
    }
    Ok(tally)
}

/// The warning of a command that reads records and got none.
pub fn warn_no_records(command: &str) {
    crate::log::warn(&format!(
        "no records on stdin: {command} reads the records of plan or of an earlier stage, \
         e.g. warp-offload plan ... | warp-offload {command}"
    ));
}
