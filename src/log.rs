//! Logging and progress on stderr. stdout carries NDJSON records only.
//!
//! `--log-format json` prints one JSON object per line; `text` prints `stage segment: message`.
//! Progress bars (indicatif) draw only when stderr is a terminal (or `--progress always`); log
//! lines go through the bars' `suspend` so they never tear a bar.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
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
    Debug = 3,
}

struct Config {
    level: Level,
    format: LogFormat,
    bars: Option<MultiProgress>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Sets up logging once, from the global flags. `verbosity`: -1 quiet, 0 default, 1+ verbose.
pub fn init(verbosity: i8, format: LogFormat, progress: ProgressMode) {
    let level = match verbosity {
        i8::MIN..=-1 => Level::Error,
        0 => Level::Info,
        1 => Level::Info,
        _ => Level::Debug,
    };
    let draw = match progress {
        ProgressMode::Never => false,
        ProgressMode::Always => true,
        ProgressMode::Auto => std::io::stderr().is_terminal() && verbosity >= 0,
    };
    let bars = draw.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let _ = CONFIG.set(Config { level, format, bars });
}

fn config() -> &'static Config {
    CONFIG.get_or_init(|| Config {
        level: Level::Info,
        format: LogFormat::Text,
        bars: None,
    })
}

/// Whether log lines are JSON: a value meant to be pasted goes in a field there, in the
/// message of a text line (a field is printed JSON-quoted).
pub fn is_json() -> bool {
    config().format == LogFormat::Json
}

/// One log line. `fields` are extra key/values (bytes, points, duration_ms, ...).
pub fn event(level: Level, stage: &str, segment: Option<&str>, msg: &str, fields: &[(&str, serde_json::Value)]) {
    let cfg = config();
    if level > cfg.level {
        return;
    }
    let line = match cfg.format {
        LogFormat::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert("ts".into(), jiff::Timestamp::now().to_string().into());
            obj.insert("level".into(), format!("{level:?}").to_lowercase().into());
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
            let mut s = format!("warp-offload {stage}");
            if level <= Level::Warn {
                s = format!("{s} {}", format!("{level:?}").to_lowercase());
            }
            if let Some(seg) = segment {
                s.push(' ');
                s.push_str(seg);
            }
            s.push_str(": ");
            s.push_str(msg);
            for (k, v) in fields {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        }
    };
    let print = || {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    };
    match &cfg.bars {
        Some(bars) => bars.suspend(print),
        None => print(),
    }
}

pub fn info(stage: &str, segment: Option<&str>, msg: &str, fields: &[(&str, serde_json::Value)]) {
    event(Level::Info, stage, segment, msg, fields);
}

pub fn debug(stage: &str, segment: Option<&str>, msg: &str) {
    event(Level::Debug, stage, segment, msg, &[]);
}

pub fn warn(msg: &str) {
    event(Level::Warn, "main", None, msg, &[]);
}

pub fn error(msg: &str) {
    event(Level::Error, "main", None, msg, &[]);
}

/// A progress bar for `total` segments, or a hidden one when bars are off.
pub fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let Some(bars) = &config().bars else {
        return ProgressBar::hidden();
    };
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let style =
        ProgressStyle::with_template("{prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} segments {msg} (eta {eta})")
            .expect("valid progress template");
    pb.set_style(style);
    pb.set_prefix(what.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    bars.add(pb)
}
