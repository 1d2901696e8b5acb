//! Exit codes (documented in `--help` and the README) and the typed errors that select them.

use std::fmt;

pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const USAGE: u8 = 2;
pub const PARTIAL: u8 = 3;
pub const MISMATCH: u8 = 4;

/// An integrity mismatch: what was read back does not match what was recorded. Exit code 4.
#[derive(Debug)]
pub struct Mismatch(pub String);

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "integrity mismatch: {}", self.0)
    }
}

impl std::error::Error for Mismatch {}

/// A usage error found after clap parsed the arguments (e.g. conflicting values). Exit code 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

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
