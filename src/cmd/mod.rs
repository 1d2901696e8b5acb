//! One module per subcommand, plus the driver every stage shares: read records on stdin, work
//! on the segments that need it with a bounded number of workers, write records on stdout as
//! each finishes.

pub mod all;
pub mod bench_codec;
pub mod cat;
pub mod compress;
pub mod fake_warp10;
pub mod fetch;
pub mod gen_docs;
pub mod ls;
pub mod notify;
pub mod plan;
pub mod purge;
pub mod query;
pub mod restore;
pub mod serve;
pub mod upload;
pub mod verify;

use crate::exit::Tally;
use crate::manifest::{self, Segment};
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

/// Runs a stage over the records of `input`. `decide` picks what happens to each segment,
/// `work` does the stage on one segment (recording failures in `Segment::error`, never
/// returning them). Records are written in completion order. A malformed input line stops the
/// reading; segments already read still finish, then the error is returned.
pub fn run_stage<D, W>(input: impl BufRead + Send, jobs: usize, decide: D, work: W) -> Result<Tally>
where
    D: Fn(&Segment) -> Action + Sync,
    W: Fn(Segment) -> Segment + Sync,
{
    run_segments(manifest::Reader::new(input), jobs, decide, work, |_| {})
}

/// The driver behind [`run_stage`], for any source of segments; `observe` sees each finished
/// segment before it is written (`all` keeps its summary and progress bar with it).
pub fn run_segments<I, D, W>(
    segments: I,
    jobs: usize,
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
    let (task_tx, task_rx) = mpsc::sync_channel::<Segment>(jobs);
    let task_rx = Mutex::new(task_rx);
    let (done_tx, done_rx) = mpsc::channel::<Segment>();
    std::thread::scope(|scope| {
        let workers_tx = done_tx.clone();
        let (task_rx, work) = (&task_rx, &work);
        scope.spawn(move || {
            pool.broadcast(|_| {
                let tx = workers_tx.clone();
                loop {
                    let next = task_rx.lock().expect("task queue lock").recv();
                    let Ok(seg) = next else { break };
                    if tx.send(work(seg)).is_err() {
                        break;
                    }
                }
            })
        });
        let reader = {
            let done_tx = done_tx.clone();
            let decide = &decide;
            scope.spawn(move || -> Result<()> {
                for seg in segments {
                    let seg = seg?;
                    match decide(&seg) {
                        Action::Work => task_tx.send(seg).expect("workers outlive the reader"),
                        Action::Pass => done_tx.send(seg).expect("writer outlives the reader"),
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
        for seg in done_rx {
            tally.record(&seg);
            observe(&seg);
            if write_err.is_none()
                && let Err(e) = manifest::write_record(&mut out, &seg)
            {
                write_err = Some(e);
            }
        }
        reader.join().expect("reader thread panicked")?;
        match write_err {
            Some(e) => Err(e),
            None => Ok(tally),
        }
    })
}

/// Records a stage's failure in the segment (retryable when the cause is transient) and logs it:
/// the segment then passes through later stages untouched.
pub fn record_failure(seg: &mut Segment, stage: &str, e: &anyhow::Error) {
    crate::log::event(
        crate::log::Level::Warn,
        stage,
        Some(seg.id.as_str()),
        &format!("{e:#}"),
        &[],
    );
    seg.fail(stage, e, crate::warp10::is_transient(e));
}

/// Standard input as the records source of a stage.
pub fn stdin() -> impl BufRead + Send {
    std::io::BufReader::new(std::io::stdin())
}

/// Writes command output to stdout; false when the reader went away (`... | head`), which is
/// not an error.
pub fn write_stdout(out: &mut impl std::io::Write, buf: &[u8]) -> Result<bool> {
    match out.write_all(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

/// The usual decision: pass failed segments through, redo a finished stage only with `--force`.
pub fn decide_default(seg: &Segment, done: bool, force: bool) -> Action {
    if seg.error.is_some() || (done && !force) {
        Action::Pass
    } else {
        Action::Work
    }
}

/// Dispatches a parsed command line; returns the exit code.
pub fn run(cli: crate::cli::Cli) -> Result<u8> {
    use crate::cli::Command;
    let g = cli.global;
    let tally = match cli.command {
        Command::Plan(a) => plan::run(&g, a)?,
        Command::Fetch(a) => fetch::run(&g, a)?,
        Command::Compress(a) => compress::run(&g, a)?,
        Command::Verify(a) => verify::run(&g, a)?,
        Command::Cat(a) => {
            cat::run(a)?;
            Tally::default()
        }
        Command::BenchCodec(a) => {
            bench_codec::run(a)?;
            Tally::default()
        }
        Command::Notify(a) => notify::run(&g, a)?,
        Command::Upload(a) => upload::run(&g, a)?,
        Command::Purge(a) => purge::run(&g, a)?,
        Command::All(a) => all::run(&g, a)?,
        Command::Ls(a) => ls::run(a)?,
        Command::Query(a) => {
            query::run(a)?;
            Tally::default()
        }
        Command::Serve(a) => {
            serve::run(a)?;
            Tally::default()
        }
        Command::Restore(a) => restore::run(&g, a)?,
        Command::FakeWarp10(a) => fake_warp10::run(a)?,
        Command::GenDocs(a) => {
            gen_docs::run(a)?;
            Tally::default()
        }
    };
    Ok(tally.code())
}
