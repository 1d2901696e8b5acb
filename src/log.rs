//! Logging on stderr. stdout carries NDJSON records only.
//!
//! Levels: errors only with `-q`; warnings and one line per segment and stage by default; `-v`
//! adds one line per request (method, URL, status, bytes, milliseconds: never a token, and the
//! URLs logged carry none); `-vv` adds debug detail (stage starts, locks, journal saves).
//! `--log-format json` prints one JSON object per line, every number as its own field; `text`
//! prints `warp-offload stage [segment]: message key=value ...`, and lines that belong to no
//! stage read like cargo's (`warp-offload: error: ...`).
//!
//! A line logged on a segment worker without a segment names the segment that worker is on
//! (`in_segment`), so that a retry deep in a client still says which segment it is for.
//! Progress (`progress.rs`) draws through the bars' `suspend`, so lines never tear a bar.

use indicatif::MultiProgress;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    Never,
    Auto,
    Always,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    /// `-v`: one line per request.
    Detail = 3,
    /// `-vv`.
    Debug = 4,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Detail => "detail",
            Level::Debug => "debug",
        }
    }
}

/// How progress is shown on stderr.
pub enum Display {
    Off,
    /// indicatif bars (a terminal, or `--progress always` on one).
    Bars(MultiProgress),
    /// A one-line status every interval (`--progress always` when stderr is not a terminal).
    Status(Duration),
}

struct Config {
    level: Level,
    format: LogFormat,
    display: Display,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

thread_local! {
    /// The segment this thread works on, for lines logged without one.
    static SEGMENT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets up logging once, from the global flags. `verbosity`: -1 quiet, 0 default, 1 requests,
/// 2+ debug.
pub fn init(verbosity: i8, format: LogFormat, progress: ProgressMode, stats_interval: Duration) {
    let level = match verbosity {
        i8::MIN..=-1 => Level::Error,
        0 => Level::Info,
        1 => Level::Detail,
        _ => Level::Debug,
    };
    let terminal = std::io::stderr().is_terminal();
    let display = match progress {
        ProgressMode::Never => Display::Off,
        ProgressMode::Auto if !terminal || verbosity < 0 => Display::Off,
        ProgressMode::Always if !terminal => Display::Status(stats_interval),
        ProgressMode::Auto | ProgressMode::Always => {
            Display::Bars(MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr()))
        }
    };
    let _ = CONFIG.set(Config { level, format, display });
}

fn config() -> &'static Config {
    CONFIG.get_or_init(|| Config {
        level: Level::Info,
        format: LogFormat::Text,
        display: Display::Off,
    })
}

/// Whether log lines are JSON: a value meant to be pasted goes in a field there, in the
/// message of a text line (a field is printed JSON-quoted).
pub fn is_json() -> bool {
    config().format == LogFormat::Json
}

/// How progress is to be shown (for `progress.rs`).
pub fn display() -> &'static Display {
    &config().display
}

/// Whether lines of `level` are printed.
pub fn enabled(level: Level) -> bool {
    level <= config().level
}

/// This thread's segment, for a thread that works on it for another (see [`in_segment`]).
pub fn segment() -> Option<String> {
    SEGMENT.with(|s| s.borrow().clone())
}

/// Runs `f` with `id` as this thread's segment.
pub fn in_segment<T>(id: &str, f: impl FnOnce() -> T) -> T {
    let before = SEGMENT.with(|s| s.replace(Some(id.to_string())));
    let out = f();
    SEGMENT.with(|s| *s.borrow_mut() = before);
    out
}

/// One log line. `fields` are extra key/values (bytes, points, duration_ms, ...), printed as
/// `key=value` after the message in text.
pub fn event(level: Level, stage: &str, segment: Option<&str>, msg: &str, fields: &[(&str, serde_json::Value)]) {
    emit(level, stage, segment, msg, fields, true);
}

/// A line whose text already says what its fields hold (a status, a summary, a retry): the
/// fields go into JSON only.
pub fn described(level: Level, stage: &str, msg: &str, fields: &[(&str, serde_json::Value)]) {
    emit(level, stage, None, msg, fields, false);
}

fn emit(
    level: Level,
    stage: &str,
    segment: Option<&str>,
    msg: &str,
    fields: &[(&str, serde_json::Value)],
    fields_in_text: bool,
) {
    let cfg = config();
    if level > cfg.level {
        return;
    }
    let current = SEGMENT.with(|s| s.borrow().clone());
    let segment = segment.or(current.as_deref());
    let line = match cfg.format {
        LogFormat::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert("ts".into(), jiff::Timestamp::now().to_string().into());
            obj.insert("level".into(), level.name().into());
            obj.insert("stage".into(), stage.into());
            if let Some(s) = segment {
                obj.insert("segment".into(), s.into());
            }
            obj.insert("msg".into(), msg.into());
            for (k, v) in fields {
                obj.insert((*k).into(), v.clone());
            }
            serde_json::Value::Object(obj).to_string()
        }
        LogFormat::Text => {
            let mut s = if stage == GENERAL {
                // Like cargo and rg: `warp-offload: error: ...`.
                let word = match level {
                    Level::Error => "error: ",
                    Level::Warn => "warning: ",
                    _ => "",
                };
                format!("warp-offload: {word}{msg}")
            } else {
                let mut s = format!("warp-offload {stage}");
                if level <= Level::Warn {
                    s = format!("{s} {}", level.name());
                }
                if let Some(seg) = segment {
                    s.push(' ');
                    s.push_str(seg);
                }
                s.push_str(": ");
                s.push_str(msg);
                s
            };
            if fields_in_text {
                for (k, v) in fields {
                    s.push_str(&format!(" {k}={v}"));
                }
            }
            s
        }
    };
    let print = || {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    };
    match &cfg.display {
        Display::Bars(bars) => bars.suspend(print),
        _ => print(),
    }
}

/// The stage of lines that belong to the whole run rather than to one stage.
const GENERAL: &str = "main";

pub fn info(stage: &str, segment: Option<&str>, msg: &str, fields: &[(&str, serde_json::Value)]) {
    event(Level::Info, stage, segment, msg, fields);
}

pub fn debug(stage: &str, segment: Option<&str>, msg: &str) {
    event(Level::Debug, stage, segment, msg, &[]);
}

pub fn warn(msg: &str) {
    event(Level::Warn, GENERAL, None, msg, &[]);
}

pub fn error(msg: &str) {
    event(Level::Error, GENERAL, None, msg, &[]);
}

/// `-v`: one request and its outcome. `url` must carry no secret (Warp 10 tokens travel in a
/// header; S3 requests are logged by object URL, never by their signed URL).
pub fn request(stage: &str, method: &str, url: &str, outcome: &str, bytes: u64, started: std::time::Instant) {
    if !enabled(Level::Detail) {
        return;
    }
    let ms = started.elapsed().as_millis() as u64;
    event(
        Level::Detail,
        stage,
        None,
        &format!("{method} {url} -> {outcome}"),
        &[("bytes", bytes.into()), ("ms", ms.into())],
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_worker_line_names_its_segment_and_the_segment_is_restored() {
        super::in_segment("outer", || {
            super::in_segment("inner", || {
                assert_eq!(super::SEGMENT.with(|s| s.borrow().clone()).as_deref(), Some("inner"));
            });
            assert_eq!(super::SEGMENT.with(|s| s.borrow().clone()).as_deref(), Some("outer"));
        });
        assert_eq!(super::SEGMENT.with(|s| s.borrow().clone()), None);
    }
}
