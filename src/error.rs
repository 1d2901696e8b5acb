//! The error kinds callers branch on: exit codes 2 and 4, and whether a retry may help. Every
//! other failure is a plain `anyhow` error with context.

use std::fmt;

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

/// For `map_err`: a flag's value that does not parse is a usage error (exit 2) naming the flag,
/// whatever the parser's own error type.
pub fn bad_flag(flag: &str) -> impl FnOnce(anyhow::Error) -> anyhow::Error + '_ {
    move |e| Usage(format!("{flag}: {e:#}")).into()
}

/// A failure that may go away on retry: connection errors, timeouts, 5xx, a body cut short.
#[derive(Debug)]
pub struct Transient(pub String);

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transient {}

pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<Transient>().is_some())
}

/// A run stopped by Ctrl-C or SIGTERM after its segments in flight finished their stage. Exit
/// code 130.
#[derive(Debug)]
pub struct Interrupted {
    /// The command (`all`, `fetch`, ...).
    pub what: &'static str,
    /// Segments through (their records were written).
    pub done: usize,
    /// Segments stopped between two stages (`all`): their state is in the work directory.
    pub stopped: usize,
    /// Segments never started, when the total is known.
    pub not_started: Option<usize>,
    /// How to pick up where the run stopped.
    pub resume: &'static str,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted: {} stopped with {} segment(s) done",
            self.what, self.done
        )?;
        if self.done > 0 {
            f.write_str(" (their records are on stdout)")?;
        }
        if self.stopped > 0 {
            write!(f, ", {} stopped between two stages", self.stopped)?;
        }
        match self.not_started {
            Some(n) => write!(f, ", {n} not started")?,
            None => f.write_str(", the rest not started")?,
        }
        write!(f, "; no lock of ours is left. To resume, {}", self.resume)
    }
}

impl std::error::Error for Interrupted {}
