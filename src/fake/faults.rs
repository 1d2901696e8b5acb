//! Injected faults, set with `--faults JSON` at start and replaced at run time with
//! `POST /admin/faults` (same JSON). Every field is optional; `{}` means a healthy server.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// End every fetch after this many points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_cut: Option<FetchCut>,
    /// Raw text appended to every fetch body (a malformed line, a point outside the range, a
    /// duplicate point): what a buggy or hostile server could send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_append: Option<String>,
    /// A selector: the series it matches are out of the read token's scope (find and fetch do
    /// not show them) but within the write token's (delete reaches them) — tokens of
    /// different scopes, the trap of reference §9.7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_scope_hides: Option<String>,
    /// Endpoint (`find`, `fetch`, `delete`, `update`) → answer 500 to its next K requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fail_next: BTreeMap<String, u32>,
    /// Milliseconds to wait before sending response headers.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: u64,
    /// Milliseconds to wait before each chunk of a streamed body (~64 KiB of fetch output, one
    /// line of delete output).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chunk_latency_ms: u64,
    /// Endpoint → milliseconds between the bytes of its response bodies, sent one at a time
    /// after the headers: a server (or proxy) that trickles its answer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trickle_ms: BTreeMap<String, u64>,
    /// Reset the connection of a (non dry-run) delete once this many GTS have been deleted and
    /// listed, counted over every delete since the fault was set (a purge sends one delete per
    /// series: its run dies part-way); every later delete is reset too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_abort_after: Option<usize>,
    /// Refuse deletes: 400 (`standalone.delete.disable`) or 403 (`warp.delete.disabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_disabled: Option<DeleteDisabled>,
    /// Seconds added to the clock of the `Date` header of every response (a server whose clock,
    /// or ours, is off).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub clock_skew_s: i64,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchCut {
    pub after_points: u64,
    pub mode: CutMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutMode {
    /// Clean end; with `showerrors`, an empty line and `# ERROR: ...` (Warp 10's failure mode).
    Error,
    /// Clean end in the middle of the next line, which so has no newline.
    MidLine,
    /// Clean end right after a complete line.
    Boundary,
    /// Connection reset, no terminating chunk.
    Reset,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteDisabled {
    /// 400 "Delete endpoint is disabled by configuration."
    Config,
    /// 403 with the manager's message.
    Manager,
}

impl Faults {
    pub fn parse(json: &str) -> anyhow::Result<Faults> {
        use anyhow::Context;
        let faults: Faults = serde_json::from_str(json).with_context(|| format!("invalid fault set {json:?}"))?;
        if let Some(sel) = &faults.read_scope_hides {
            crate::gts::selector::Selector::parse(sel).context("invalid fault set: read_scope_hides")?;
        }
        let fail_next = faults.fail_next.keys().map(|k| ("fail_next", k));
        let trickle = faults.trickle_ms.keys().map(|k| ("trickle_ms", k));
        for (field, endpoint) in fail_next.chain(trickle) {
            if !["find", "fetch", "delete", "update"].contains(&endpoint.as_str()) {
                let bad = endpoint;
                anyhow::bail!("invalid fault set: {field} endpoint {bad:?} is not find, fetch, delete or update");
            }
        }
        Ok(faults)
    }

    /// True if this request to `endpoint` must fail with a 500; counts it.
    pub fn take_failure(&mut self, endpoint: &str) -> bool {
        match self.fail_next.get_mut(endpoint) {
            Some(k) if *k > 0 => {
                *k -= 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts_and_rejects_typos() {
        let mut f =
            Faults::parse(r#"{"fail_next":{"fetch":2},"fetch_cut":{"after_points":5,"mode":"mid_line"}}"#).unwrap();
        assert_eq!(
            f.fetch_cut,
            Some(FetchCut {
                after_points: 5,
                mode: CutMode::MidLine
            })
        );
        assert!(f.take_failure("fetch") && f.take_failure("fetch") && !f.take_failure("fetch"));
        assert!(!f.take_failure("find"));
        assert!(Faults::parse(r#"{"fetch_cutt":{}}"#).is_err());
        assert!(Faults::parse(r#"{"fail_next":{"fetchh":1}}"#).is_err());
        assert!(Faults::parse(r#"{"trickle_ms":{"fetchh":1}}"#).is_err());
        assert_eq!(
            Faults::parse(r#"{"trickle_ms":{"delete":300}}"#).unwrap().trickle_ms["delete"],
            300
        );
        assert_eq!(Faults::parse("{}").unwrap(), Faults::default());
    }
}
