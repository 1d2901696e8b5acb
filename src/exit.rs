//! Exit codes (documented in `--help` and the README), the per-run tally that picks one, and the
//! test failpoints that end the process. The error kinds that select a code are in `error`.

pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const USAGE: u8 = 2;
pub const PARTIAL: u8 = 3;
pub const MISMATCH: u8 = 4;

/// Per-run tally of segment outcomes, turned into the exit code.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub ok: usize,
    pub failed: usize,
    pub mismatched: usize,
}

impl Tally {
    pub fn record(&mut self, seg: &crate::manifest::Segment) {
        match &seg.error {
            None => self.ok += 1,
            Some(e) if e.mismatch => self.mismatched += 1,
            Some(_) => self.failed += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.ok + self.failed + self.mismatched
    }

    pub fn code(&self) -> u8 {
        if self.mismatched > 0 {
            MISMATCH
        } else if self.failed > 0 {
            PARTIAL
        } else {
            OK
        }
    }
}

/// Test hook: `WARP_OFFLOAD_FAILPOINT=NAME` makes the process die at the point named `NAME`, as
/// a crash or `kill -9` would, so tests can check that a re-run recovers.
pub fn failpoint(name: &str) {
    if std::env::var("WARP_OFFLOAD_FAILPOINT").is_ok_and(|v| v == name) {
        crate::log::error(&format!("failpoint {name}: aborting"));
        std::process::abort();
    }
}
