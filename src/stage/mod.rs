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

/// What a run over segments is, for its progress and the message of an interruption.
pub struct Run {
    /// The command, as progress and messages name it.
    pub what: &'static str,
    /// How many segments there are, when known before the first is read.
    pub total: Option<usize>,
    /// Segments in flight at once.
    pub jobs: usize,
    pub order: Order,
    /// How to resume after an interruption, completing "To resume, ...".
    pub resume: &'static str,
}

/// What a worker did with a segment.
pub enum Outcome {
    Done(Box<Segment>),
    /// Stopped between two stages on an interruption: nothing to write.
    Stopped,
    /// Taken from the queue after an interruption (or interrupted before its first stage), not
    /// started.
    NotStarted,
}

impl Outcome {
    fn segment(&self) -> Option<&Segment> {
        match self {
            Outcome::Done(seg) => Some(seg),
            _ => None,
        }
    }
}

/// Runs a stage over `segments`, from stdin or any other source. `work` says what it did: a
/// segment stopped part-way on an interruption has its state saved elsewhere; `observe` sees
/// each finished segment before it is written (`all` keeps its summary with it). On Ctrl-C or
/// SIGTERM no new segment is started, the records of the finished ones are all written (in
/// input order, gaps skipped), and [`crate::error::Interrupted`] is returned.
pub fn run_segments<I, D, W>(
    segments: I,
    run: Run,
    decide: D,
    work: W,
    mut observe: impl FnMut(&Segment),
) -> Result<Tally>
where
    I: Iterator<Item = Result<Segment>> + Send,
    D: Fn(&Segment) -> Action + Sync,
    W: Fn(Segment) -> Outcome + Sync,
{
    let _graceful = crate::interrupt::Graceful::enter();
    let progress = crate::progress::Progress::start(run.what, run.total.map(|n| n as u64));
    let jobs = run.jobs.max(1);
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
    let (done_tx, done_rx) = mpsc::channel::<(usize, Outcome)>();
    std::thread::scope(|scope| {
        let workers_tx = done_tx.clone();
        let (task_rx, work, progress) = (&task_rx, &work, &progress);
        scope.spawn(move || {
            pool.broadcast(|_| {
                let tx = workers_tx.clone();
                loop {
                    let next = task_rx.lock().expect("task queue lock").recv();
                    let Ok((i, seg)) = next else { break };
                    let outcome = if crate::interrupt::requested() {
                        Outcome::NotStarted
                    } else {
                        progress.started();
                        let id = seg.id.to_string();
                        let outcome = crate::log::in_segment(&id, || work(seg));
                        progress.finished(outcome.segment());
                        outcome
                    };
                    if tx.send((i, outcome)).is_err() {
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
                    if crate::interrupt::requested() {
                        break;
                    }
                    let seg = seg?;
                    match decide(&seg) {
                        Action::Work => task_tx.send((i, seg)).expect("workers outlive the reader"),
                        Action::Pass => {
                            progress.passed(&seg);
                            done_tx
                                .send((i, Outcome::Done(Box::new(seg))))
                                .expect("writer outlives the reader")
                        }
                    }
                }
                Ok(())
            })
        };
        drop(done_tx);
        let mut tally = Tally::default();
        let mut stopped = 0;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut write_err = None;
        let mut write = |seg: &Segment| {
            if write_err.is_none()
                && let Err(e) = manifest::write_record(&mut out, seg)
            {
                write_err = Some(e);
            }
        };
        let mut held = std::collections::BTreeMap::new();
        let mut next = 0;
        for (i, outcome) in done_rx {
            let seg = match outcome {
                Outcome::Done(seg) => {
                    tally.record(&seg);
                    observe(&seg);
                    Some(*seg)
                }
                Outcome::Stopped => {
                    stopped += 1;
                    None
                }
                Outcome::NotStarted => None,
            };
            held.insert(if run.order == Order::Input { i } else { next }, seg);
            while let Some(seg) = held.remove(&next) {
                next += 1;
                if let Some(seg) = seg {
                    write(&seg);
                }
            }
        }
        // After an interruption, segments that never came back leave gaps: what finished after
        // them is written all the same.
        held.into_values().flatten().for_each(|seg| write(&seg));
        reader.join().expect("reader thread panicked")?;
        if let Some(e) = write_err {
            return Err(e);
        }
        if crate::interrupt::requested() {
            return Err(crate::error::Interrupted {
                what: run.what,
                done: tally.total(),
                stopped,
                not_started: run.total.map(|t| t.saturating_sub(tally.total() + stopped)),
                resume: run.resume,
            }
            .into());
        }
        Ok(tally)
    })
}

/// Counts, while an archive is decoded, its points outside the segment's range: a record whose
/// range was edited would otherwise vouch for an archive of other data.
pub struct InRange {
    start: i64,
    end: i64,
    outside: u64,
}

impl InRange {
    pub fn of(seg: &Segment) -> Result<InRange> {
        let (start, end) = seg.warp10_range()?;
        Ok(InRange { start, end, outside: 0 })
    }

    pub fn see(&mut self, ts: i64) {
        self.outside += u64::from(ts < self.start || ts > self.end);
    }

    /// A `Mismatch` naming the archive (`what`) if any point was outside.
    pub fn check(&self, seg: &Segment, what: &str) -> Result<()> {
        if self.outside == 0 {
            return Ok(());
        }
        Err(crate::error::Mismatch(format!(
            "{what} holds {} points outside the segment's range [{}, {})",
            self.outside, seg.start, seg.end
        ))
        .into())
    }
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
    let name = stage.name().name();
    let records = manifest::Reader::new(stdin()).map(|seg| {
        seg.map(|mut seg| {
            if seg.error.is_some() {
                crate::rerun::on_pass(&mut seg, stage.name());
            }
            seg
        })
    });
    let run = Run {
        what: name,
        total: None,
        jobs,
        order: Order::Completion,
        resume: "run the same command again on the same input",
    };
    let tally = run_segments(
        records,
        run,
        |seg| {
            if seg.error.is_none() && (force || stage.needed(seg)) {
                Action::Work
            } else {
                Action::Pass
            }
        },
        |seg| {
            let id = seg.id.to_string();
            Outcome::Done(Box::new(crate::interrupt::working(&id, name, || stage.apply(seg))))
        },
        |_| {},
    );
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
