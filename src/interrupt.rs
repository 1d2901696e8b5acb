//! Ctrl-C, SIGTERM and SIGHUP. While a run over segments is going (`Graceful`), the first signal
//! asks it to stop: no new segment is started, the segments in flight finish the stage they are
//! in (in-flight requests are not cut: every write goes through a temp file and a rename, and a
//! purge is never left half-way by this), their records are written and their locks released,
//! then the run says what it stopped and how to resume, and exits 130. A second signal, or the
//! first one outside such a run, ends the process at once, still with 130, after saying what was
//! in flight.
//!
//! The handler runs on its own thread (the `ctrlc` crate), so it may lock and print.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The exit code of a run ended by a signal (128 + SIGINT), whichever signal it was.
pub const EXIT: u8 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static GRACEFUL: AtomicUsize = AtomicUsize::new(0);
/// Segment id -> the stage it is in, for the message of an immediate stop.
static WORKING: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());

/// Installs the handler; call once, first thing.
pub fn install() {
    if let Err(e) = ctrlc::set_handler(on_signal) {
        crate::log::warn(&format!("Ctrl-C will stop the process without cleaning up: {e}"));
    }
}

fn on_signal() {
    if GRACEFUL.load(Ordering::SeqCst) == 0 || REQUESTED.swap(true, Ordering::SeqCst) {
        stop_now();
    }
    crate::log::warn(
        "interrupted: starting no new segment; the segments in flight finish their current stage, \
         then their records are written and their locks released (interrupt again to stop at once)",
    );
}

fn stop_now() -> ! {
    let working = WORKING.lock().map(|w| w.clone()).unwrap_or_default();
    if working.is_empty() {
        crate::log::error("interrupted");
    } else {
        let list: Vec<String> = working.iter().map(|(id, stage)| format!("{stage} of {id}")).collect();
        let mut msg = format!(
            "interrupted at once, during: {}. Their locks stay until they expire (--lock-ttl), or \
             until the next run on this host takes them over",
            list.join(", ")
        );
        if working.values().any(|s| *s == "purge") {
            msg.push_str(
                "; a purge stopped while deleting wrote its marker before the first delete: \
                 re-running purge (or all) finishes it",
            );
        }
        msg.push_str(". Run the same command again to resume");
        crate::log::error(&msg);
    }
    std::process::exit(EXIT.into())
}

/// Whether a stop was asked for: start nothing new.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// While alive, a signal asks the run to stop instead of ending the process.
pub struct Graceful(());

impl Graceful {
    pub fn enter() -> Graceful {
        GRACEFUL.fetch_add(1, Ordering::SeqCst);
        Graceful(())
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        GRACEFUL.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f`, one stage on one segment, noting it for the message of an immediate stop.
pub fn working<T>(id: &str, stage: &'static str, f: impl FnOnce() -> T) -> T {
    let note = |s: Option<&'static str>| {
        if let Ok(mut w) = WORKING.lock() {
            match s {
                Some(s) => w.insert(id.to_string(), s),
                None => w.remove(id),
            };
        }
    };
    note(Some(stage));
    let out = f();
    note(None);
    out
}
