//! `ls`: the segments archived in a destination, one NDJSON line each, read from the manifest
//! objects (the commit markers). With `--all`, data objects whose upload never committed are
//! listed too, as `incomplete`.

use crate::cli::S3Opts;
use crate::exit::Tally;
use crate::id::SegmentId;
use crate::layout::read_manifest;
use crate::manifest::Segment;
use crate::store;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;

/// List the segments archived in a destination (NDJSON, read from the manifest objects)
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  warp-offload ls --dest s3://metrics-archive/warp10 | jq -r 'select(.points > 0) | .id'
  # also data objects whose upload never wrote its manifest object
  warp-offload ls --all --dest /srv/warp-archive")]
pub struct LsArgs {
    /// Destination: s3://bucket/prefix, file:///dir or a directory path
    #[arg(long)]
    pub dest: String,
    /// Also list incomplete uploads (objects without a manifest object)
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub s3: S3Opts,
}

pub fn run(a: LsArgs) -> Result<Tally> {
    store::init_tls(&a.s3.config())?;
    let store = store::open(&a.dest, &a.s3.config())?;
    let mut by_segment: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (key, size) in store.list("segments/")? {
        if let Some(id) = key.split('/').nth(1) {
            by_segment.entry(id.to_string()).or_default().push((key, size));
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut tally = Tally::default();
    for (id, objects) in &by_segment {
        let committed = match SegmentId::new(id) {
            Ok(id) => read_manifest(store.as_ref(), &id)?,
            Err(_) => None,
        };
        let line = if let Some(seg) = committed {
            describe(&seg, objects)
        } else if a.all {
            let keys: Vec<_> = objects
                .iter()
                .map(|(k, size)| json!({"key": k, "bytes": size}))
                .collect();
            json!({"id": id, "state": "incomplete", "objects": keys})
        } else {
            continue;
        };
        tally.ok += 1;
        writeln!(out, "{line}").context("writing to stdout")?;
    }
    Ok(tally)
}

/// One line for a committed segment; `missing-data` when its archive object is gone.
fn describe(seg: &Segment, objects: &[(String, u64)]) -> serde_json::Value {
    let (Some(up), Some(archive), Some(fetch)) = (&seg.upload, &seg.archive, &seg.fetch) else {
        unreachable!("read_manifest checked the sections");
    };
    let present = objects.iter().any(|(k, size)| *k == up.key && *size == up.size);
    json!({
        "id": seg.id,
        "state": if present { "complete" } else { "missing-data" },
        "selector": seg.selector,
        "start": seg.start,
        "end": seg.end,
        "points": fetch.points,
        "series": fetch.series,
        "bytes": up.size,
        "codec": archive.codec,
        "encrypted": archive.key_id.is_some(),
        "uploaded_at": up.at,
        "key": up.key,
        "blake3": up.blake3,
    })
}
