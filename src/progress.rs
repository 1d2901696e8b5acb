//! Progress of a run over segments, on stderr: indicatif bars on a terminal, or, with
//! `--progress always` when stderr is a file or a pipe, a one-line status every
//! `--stats-interval` (like rclone's `--stats`) and a last one at the end. The driver
//! (`stage::run_segments`) counts segments as they start and finish; points and bytes come from
//! the finished segments' records.

use crate::log::Display;
use crate::manifest::Segment;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Counters {
    done: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
    points: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

pub struct Progress {
    counters: Arc<Counters>,
    bar: ProgressBar,
    /// Stops the status thread (which then prints its last line) when dropped.
    ticker: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    /// Progress of `what` (the command) over `total` segments (`None`: records on stdin).
    pub fn start(what: &'static str, total: Option<u64>) -> Progress {
        let counters = Arc::new(Counters::default());
        let started = Instant::now();
        let mut bar = ProgressBar::hidden();
        let mut ticker = None;
        match crate::log::display() {
            Display::Off => {}
            Display::Bars(bars) => {
                let pb = match total {
                    Some(n) => ProgressBar::new(n),
                    None => ProgressBar::new_spinner(),
                };
                let style = ProgressStyle::with_template(
                    "{prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} segments {msg} (eta {eta})",
                )
                .expect("valid progress template");
                pb.set_style(style);
                pb.set_prefix(what);
                pb.enable_steady_tick(Duration::from_millis(200));
                bar = bars.add(pb);
            }
            Display::Status(every) => {
                let (stop, stopped) = mpsc::channel::<()>();
                let (c, every) = (Arc::clone(&counters), *every);
                let handle = std::thread::spawn(move || {
                    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                        status(what, total, &c, started);
                    }
                    status(what, total, &c, started);
                });
                ticker = Some((stop, handle));
            }
        }
        Progress { counters, bar, ticker }
    }

    /// A worker took a segment.
    pub fn started(&self) {
        self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A worker is done with a segment (`seg` is `None` when it stopped on an interruption).
    pub fn finished(&self, seg: Option<&Segment>) {
        let c = &self.counters;
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
        let Some(seg) = seg else { return };
        self.passed(seg);
    }

    /// A segment is through, worked on or passed along unchanged.
    pub fn passed(&self, seg: &Segment) {
        let c = &self.counters;
        c.done.fetch_add(1, Ordering::Relaxed);
        if seg.error.is_some() {
            c.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(f) = &seg.fetch {
            c.points.fetch_add(f.points, Ordering::Relaxed);
            c.bytes_in.fetch_add(f.bytes, Ordering::Relaxed);
        }
        if let Some(a) = &seg.archive {
            c.bytes_out.fetch_add(a.size, Ordering::Relaxed);
        }
        self.bar.set_message(format!(
            "{} points, {} in, {} out",
            c.points.load(Ordering::Relaxed),
            HumanBytes(c.bytes_in.load(Ordering::Relaxed)),
            HumanBytes(c.bytes_out.load(Ordering::Relaxed))
        ));
        self.bar.inc(1);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        if let Some((stop, handle)) = self.ticker.take() {
            drop(stop);
            let _ = handle.join();
        }
    }
}

/// One status line: `all: 3/8 segments done (1 failed), 2 in flight; 1234 points, 1.2 MiB in
/// (300 KiB/s), 200 KiB out; 4s`, every number also a field in JSON.
fn status(what: &str, total: Option<u64>, c: &Counters, started: Instant) {
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (done, failed, in_flight) = (get(&c.done), get(&c.failed), get(&c.in_flight));
    let (points, bytes_in, bytes_out) = (get(&c.points), get(&c.bytes_in), get(&c.bytes_out));
    let elapsed = started.elapsed();
    let rate = (bytes_in as f64 / elapsed.as_secs_f64().max(0.001)) as u64;
    let of = total.map(|t| format!("/{t}")).unwrap_or_default();
    let failed_text = if failed > 0 {
        format!(" ({failed} failed)")
    } else {
        String::new()
    };
    let msg = format!(
        "{done}{of} segments done{failed_text}, {in_flight} in flight; {points} points, {} in ({}/s), {} out; {}s",
        HumanBytes(bytes_in),
        HumanBytes(rate),
        HumanBytes(bytes_out),
        elapsed.as_secs()
    );
    let mut fields = vec![
        ("segments_done", done.into()),
        ("segments_failed", failed.into()),
        ("segments_in_flight", in_flight.into()),
        ("points", points.into()),
        ("bytes_in", bytes_in.into()),
        ("bytes_out", bytes_out.into()),
        ("bytes_in_per_s", rate.into()),
        ("elapsed_ms", (elapsed.as_millis() as u64).into()),
    ];
    if let Some(t) = total {
        fields.push(("segments_total", t.into()));
    }
    crate::log::described(crate::log::Level::Info, what, &format!("status: {msg}"), &fields);
}
