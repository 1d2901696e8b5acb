//! An in-memory Warp 10 for demos, scripted tests and benchmarks: `/api/v0/{find,fetch,delete,
//! update}` as `docs/WARP10.md` describes them (status codes, token sources, inclusive
//! ranges, newest-first text output), plus fault injection and a small admin API on `/admin/`.
//!
//! Every stored series carries `.owner`, `.producer` (hidden on output) and `.app` (shown, set
//! from the write token's app), like data ingested with a real write token.

pub mod faults;
pub mod generate;
pub mod store;

use crate::gts::SeriesKey;
use crate::gts::fetch_params::{self, FetchRange};
use crate::gts::input::{InputParser, InputPoint};
use crate::gts::line::{render_header, render_pairs};
use crate::gts::output::{Format, Renderer, render_find};
use crate::gts::selector::{Selector, parse_scoped};
use crate::httpd::{self, Request, Responder};
use crate::id::TimeUnit;
use crate::secret::Secret;
use faults::{CutMode, DeleteDisabled, Faults};
use std::collections::HashMap;
use std::io::{self, BufRead};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Series, Store};

/// Owner and producer of every series: the write token's (equal, so delete is allowed).
pub const OWNER: &str = "00000000-0000-4000-8000-000000000001";

/// Fetch output is sent in chunks of about this size.
const CHUNK: usize = 64 << 10;

/// Points of one update request buffered before they are stored.
const UPDATE_BATCH: usize = 1 << 16;

pub struct Fake {
    pub store: Store,
    read_token: Secret,
    write_token: Secret,
    app: String,
    unit: TimeUnit,
    faults: Mutex<Faults>,
}

type Reply = io::Result<()>;

impl Fake {
    pub fn new(read_token: Secret, write_token: Secret, app: String, unit: TimeUnit, faults: Faults) -> Fake {
        Fake {
            store: Store::default(),
            read_token,
            write_token,
            app,
            unit,
            faults: Mutex::new(faults),
        }
    }

    /// The labels a write with our token forces on every series.
    pub fn token_labels(&self) -> [(String, String); 3] {
        [
            (".app".into(), self.app.clone()),
            (".owner".into(), OWNER.into()),
            (".producer".into(), OWNER.into()),
        ]
    }

    /// Serves requests on `listener` until the process ends.
    pub fn serve(self: Arc<Self>, listener: TcpListener) {
        httpd::serve(listener, "fake-warp10", move |req, body, resp| {
            self.route(req, body, resp)
        });
    }

    /// What the read token sees of `series` (all of it unless `read_scope_hides` is set).
    fn read_scope(&self, series: Vec<std::sync::Arc<store::Series>>) -> Vec<std::sync::Arc<store::Series>> {
        let hidden = self.faults().read_scope_hides.clone();
        match hidden.and_then(|h| parse_selector(&h).ok()) {
            Some(h) => series
                .into_iter()
                .filter(|s| !h.matches(&s.visible, &s.attrs))
                .collect(),
            None => series,
        }
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().expect("faults lock")
    }

    fn now(&self) -> i64 {
        fetch_params::now(self.unit)
    }

    fn route(&self, req: &Request, body: &mut dyn BufRead, resp: &mut Responder) -> Reply {
        resp.set_clock_skew(self.faults().clock_skew_s);
        let path = req.path.as_str();
        if let Some(admin) = path.strip_prefix("/admin/") {
            return self.admin(admin, req, body, resp);
        }
        let endpoint = match path {
            "/api/v0/find" | "/api/v0/fetch" | "/api/v0/delete" | "/api/v0/update" => &path[8..],
            _ if path.starts_with("/api/v0/update/") => "update",
            _ => return resp.text(404, "Not found."),
        };
        let (fail, latency) = {
            let mut f = self.faults();
            resp.set_trickle(Duration::from_millis(f.trickle_ms.get(endpoint).copied().unwrap_or(0)));
            (f.take_failure(endpoint), f.latency_ms)
        };
        std::thread::sleep(Duration::from_millis(latency));
        if fail {
            return resp.text(500, "Injected fault.");
        }
        match endpoint {
            "find" => self.find(req, resp),
            "fetch" => self.fetch(req, resp),
            "delete" => self.delete(req, resp),
            _ => self.update(req, body, resp),
        }
    }

    fn read_token_ok(&self, token: Option<&str>) -> Result<(), &'static str> {
        match token {
            None => Err("Missing token."),
            Some(t) if t == self.read_token.expose() => Ok(()),
            Some(_) => Err("Missing or invalid token."),
        }
    }

    /// docs/WARP10.md#find: token from `?token=` first, then the header; errors 500 before output.
    fn find(&self, req: &Request, resp: &mut Responder) -> Reply {
        let token = req.param("token").or_else(|| req.header("x-warp10-token"));
        if let Err(msg) = self.read_token_ok(token) {
            return resp.text(403, msg);
        }
        let Some(selectors) = req.param("selector") else {
            return resp.text(500, "Missing selector.");
        };
        let mut found = Vec::new();
        for sel in selectors.split_whitespace() {
            match parse_selector(sel) {
                Ok(s) => found.extend(self.read_scope(self.store.select(&s))),
                Err(msg) => return resp.text(500, &msg),
            }
        }
        let series: Vec<_> = found.iter().map(|s| (&s.visible, &s.attrs)).collect();
        let mut out = Vec::new();
        render_find(
            &mut out,
            &series,
            req.param("format") == Some("json"),
            req.flag("showattr"),
        );
        resp.send(200, &[], &out)
    }

    /// docs/WARP10.md#fetch: token from the header first, then `?token=`.
    fn fetch(&self, req: &Request, resp: &mut Responder) -> Reply {
        let token = req.header("x-warp10-token").or_else(|| req.param("token"));
        if let Err(msg) = self.read_token_ok(token) {
            return resp.text(403, msg);
        }
        let Some(selectors) = req.param("selector") else {
            return resp.text(400, "Missing 'selector' parameter.");
        };
        for unsupported in [
            "dedup",
            "step",
            "timestep",
            "sample",
            "boundary.pre",
            "boundary.post",
            "gskip",
            "gcount",
        ] {
            if req.flag(unsupported) {
                return resp.text(400, &format!("The fake Warp 10 does not support '{unsupported}'."));
            }
        }
        let format = req.param("format").unwrap_or("text");
        if ["tsv", "fulltsv", "raw", "pack", "null"].contains(&format) {
            return resp.text(400, &format!("The fake Warp 10 does not support format '{format}'."));
        }
        let q = match fetch_params::range(&|name| req.param(name), self.unit) {
            Ok(q) => q,
            Err(msg) => return resp.text(400, &msg),
        };
        let mut selected = Vec::new();
        for sel in selectors.split_whitespace() {
            match parse_selector(sel) {
                Ok(s) => selected.extend(self.read_scope(self.store.select(&s))),
                Err(msg) => return resp.text(400, &msg),
            }
        }
        let (cut, pause, append) = {
            let f = self.faults();
            (
                f.fetch_cut.clone(),
                Duration::from_millis(f.chunk_latency_ms),
                f.fetch_append.clone(),
            )
        };
        let unit = self.unit.per_second().to_string();
        resp.start(
            200,
            &[("Access-Control-Allow-Origin", "*"), ("X-Warp10-Timeunit", &unit)],
            pause,
        )?;
        let mut out = FetchOut {
            resp,
            buf: Vec::with_capacity(CHUNK + 4096),
            render: Renderer::new(Format::from_param(Some(format)), req.flag("showattr")),
            left: cut.as_ref().map_or(u64::MAX, |c| c.after_points),
            cut_line: 0,
        };
        out.render.begin(&mut out.buf);
        if out.series(&selected, &q)? {
            out.render.end(&mut out.buf);
            out.buf.extend_from_slice(append.unwrap_or_default().as_bytes());
            return out.end();
        }
        let cut = cut.expect("only a cut stops the output");
        let next_line = out.cut_line..out.buf.len();
        out.buf.truncate(if cut.mode == CutMode::MidLine {
            next_line.start + next_line.len() / 2
        } else {
            next_line.start
        });
        match cut.mode {
            CutMode::Boundary | CutMode::MidLine => out.end(),
            CutMode::Error => {
                if req.flag("showerrors") {
                    out.buf
                        .extend_from_slice(b"\n# ERROR: io.warp10.fake.InjectedFault%3A%20fetch%20cut\n");
                }
                out.end()
            }
            CutMode::Reset => {
                let FetchOut { resp, buf, .. } = out;
                resp.chunk(&buf)?;
                resp.abort()
            }
        }
    }

    fn fetch_time(&self, v: &str) -> Option<i64> {
        fetch_params::time(v, self.unit)
    }

    fn iso_time(&self, v: &str) -> Option<i64> {
        fetch_params::iso_time(v, self.unit)
    }

    /// docs/WARP10.md#delete: checks in the standalone order with its status codes.
    fn delete(&self, req: &Request, resp: &mut Responder) -> Reply {
        let (disabled, pause) = {
            let f = self.faults();
            (f.delete_disabled, Duration::from_millis(f.chunk_latency_ms))
        };
        match disabled {
            Some(DeleteDisabled::Config) => return resp.text(400, "Delete endpoint is disabled by configuration."),
            Some(DeleteDisabled::Manager) => return resp.text(403, "Delete is disabled (injected fault)."),
            None => {}
        }
        match req.header("x-warp10-token") {
            None => return resp.text(500, "Missing token."),
            Some(t) if t != self.write_token.expose() => return resp.text(500, "Invalid token."),
            Some(_) => {}
        }
        if (req.flag("nocache") && req.flag("cache")) || (req.flag("nopersist") && req.flag("persist")) {
            return resp.text(500, "Conflicting accelerator parameters.");
        }
        let selector = match req.param("selector") {
            Some(s) if !s.is_empty() => s,
            _ => {
                return resp.text(
                    400,
                    "Invalid 'selector' query parameter, should not be missing or empty.",
                );
            }
        };
        if req.flag("minage") {
            return resp.text(500, "Standalone version does not support the 'minage' parameter.");
        }
        let range = match (req.param("start"), req.param("end")) {
            (None, None) => None,
            (Some(s), Some(e)) => match (self.delete_time(s), self.delete_time(e)) {
                (Some(s), Some(e)) => Some((s, e)),
                _ => return resp.text(500, "Error when deleting data: invalid start or end."),
            },
            _ => return resp.text(500, "Both start and end should be defined."),
        };
        let deleteall = req.flag("deleteall");
        if range.is_none() && !deleteall {
            return resp.text(
                500,
                "Parameter deleteall or metaonly should be set when no time range is specified.",
            );
        }
        if req.flag("metaonly") {
            return resp.text(
                500,
                "The 'metaonly' parameter is not supported (ingress.delete.metaonly.support).",
            );
        }
        if range.is_none() && ["nocache", "nopersist"].iter().any(|p| req.flag(p)) {
            return resp.text(500, "Accelerator parameters need a time range.");
        }
        if range.is_some_and(|(s, e)| s > e) {
            return resp.text(500, "Invalid time range specification.");
        }
        if !well_formed(selector) {
            return resp.send(400, &[], b"");
        }
        let sel = match parse_scoped(selector) {
            Ok(s) => s,
            Err(e) => return resp.text(500, &format!("{e:#}")),
        };
        if req.flag("activeafter") || req.flag("quietafter") {
            return resp.text(500, "Activity tracking is not enabled.");
        }
        resp.start(200, &[("Content-Type", "text/plain")], pause)?;
        let dryrun = req.flag("dryrun");
        let mut line = Vec::new();
        for s in self.store.select(&sel).iter() {
            if !dryrun && self.delete_budget_spent() {
                return resp.abort();
            }
            if !dryrun {
                match range {
                    Some((start, end)) => self.store.remove_range(&s.key, start, end),
                    None => self.store.remove_series(&s.key),
                };
            }
            line.clear();
            render_header(&mut line, &s.visible);
            render_pairs(&mut line, &s.attrs);
            line.extend_from_slice(b"\r\n");
            resp.chunk(&line)?;
        }
        resp.finish()
    }

    /// The `delete_abort_after` fault: true when its budget of deleted series is spent (the
    /// delete must die here), else takes one series from it.
    fn delete_budget_spent(&self) -> bool {
        let mut f = self.faults();
        match f.delete_abort_after.as_mut() {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }

    /// A long, or ISO 8601 when the text contains `T` (StandaloneDeleteHandler).
    fn delete_time(&self, v: &str) -> Option<i64> {
        if v.contains('T') {
            self.iso_time(v)
        } else {
            v.parse().ok()
        }
    }

    /// docs/WARP10.md#update: token in the header or the path; 400 with the parse error,
    /// keeping the lines before.
    fn update(&self, req: &Request, body: &mut dyn BufRead, resp: &mut Responder) -> Reply {
        let token = req
            .header("x-warp10-token")
            .or_else(|| req.path.strip_prefix("/api/v0/update/"));
        if token != Some(self.write_token.expose()) {
            return resp.text(403, "Error when updating data: missing or invalid write token.");
        }
        let mut gz;
        let body: &mut dyn BufRead = if req.header("content-type") == Some("application/gzip") {
            gz = io::BufReader::new(flate2::bufread::MultiGzDecoder::new(body));
            &mut gz
        } else {
            body
        };
        match self.ingest(body)? {
            Ok(_) => resp.send(200, &[], b""),
            Err((_, e)) => resp.text(400, &format!("Error when updating data: {e:#}")),
        }
    }

    /// Parses and stores the GTS input lines of `body` (one request: continuation lines refer to
    /// it only). Points before a bad line stay stored. Returns the number of points stored, or
    /// the 1-based number of the bad line and its parse error.
    pub fn ingest(&self, body: &mut dyn BufRead) -> io::Result<Result<usize, (usize, anyhow::Error)>> {
        let mut parser = InputParser::new(self.now());
        let mut batch: HashMap<SeriesKey, Vec<InputPoint>> = HashMap::new();
        let (mut pending, mut stored, mut line_no) = (0, 0, 0);
        let mut line = Vec::new();
        loop {
            line.clear();
            if body.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            line_no += 1;
            match parser.line(&line) {
                Ok(None) => {}
                Ok(Some((key, point))) => {
                    match batch.get_mut(key) {
                        Some(points) => points.push(point),
                        None => {
                            batch.insert(key.clone(), vec![point]);
                        }
                    }
                    pending += 1;
                    if pending == UPDATE_BATCH {
                        self.store_batch(std::mem::take(&mut batch));
                        stored += pending;
                        pending = 0;
                    }
                }
                Err(e) => {
                    self.store_batch(batch);
                    return Ok(Err((line_no, e)));
                }
            }
        }
        self.store_batch(batch);
        Ok(Ok(stored + pending))
    }

    /// Stores parsed points under their series with the token's labels forced.
    pub fn store_batch(&self, batch: HashMap<SeriesKey, Vec<InputPoint>>) {
        for (mut key, points) in batch {
            key.labels.extend(self.token_labels());
            self.store.insert(key, points);
        }
    }

    /// `GET|POST /admin/faults`, `GET /admin/count?selector=S[&start=A&end=B]`.
    fn admin(&self, what: &str, req: &Request, body: &mut dyn BufRead, resp: &mut Responder) -> Reply {
        let json = [("Content-Type", "application/json")];
        match (req.method.as_str(), what) {
            ("GET", "faults") => {
                let f = serde_json::to_vec(&*self.faults()).expect("faults serialize");
                resp.send(200, &json, &f)
            }
            ("POST", "faults") => {
                let mut text_body = String::new();
                if body.read_to_string(&mut text_body).is_err() {
                    return resp.text(400, "Body is not UTF-8.");
                }
                match Faults::parse(&text_body) {
                    Ok(f) => {
                        *self.faults() = f;
                        resp.send(200, &[], b"")
                    }
                    Err(e) => resp.text(400, &format!("{e:#}")),
                }
            }
            ("GET", "count") if req.query.is_empty() => {
                let (series, points) = self.store.totals();
                resp.send(
                    200,
                    &json,
                    serde_json::json!({"series": series, "points": points})
                        .to_string()
                        .as_bytes(),
                )
            }
            ("GET", "count") => {
                let sel = match parse_selector(req.param("selector").unwrap_or("~.*{}")) {
                    Ok(s) => s,
                    Err(msg) => return resp.text(400, &msg),
                };
                let bound = |name: &str, default| req.param(name).map_or(Some(default), |v| self.fetch_time(v));
                let (Some(lo), Some(hi)) = (bound("start", i64::MIN), bound("end", i64::MAX)) else {
                    return resp.text(400, "Invalid start or end.");
                };
                let selected = self.store.select(&sel);
                let points: usize = selected.iter().map(|s| s.range(lo, hi).len()).sum();
                let counts = serde_json::json!({"series": selected.len(), "points": points});
                resp.send(200, &json, counts.to_string().as_bytes())
            }
            _ => resp.text(404, "Unknown admin endpoint: GET|POST /admin/faults, GET /admin/count."),
        }
    }
}

/// `^([^{]+)\{(.*)\}$`, the shape every Warp 10 endpoint requires first.
fn well_formed(sel: &str) -> bool {
    sel.find('{').is_some_and(|i| i > 0) && sel.ends_with('}')
}

fn parse_selector(sel: &str) -> Result<Selector, String> {
    if !well_formed(sel) {
        return Err(format!("Invalid selector {sel:?}."));
    }
    parse_scoped(sel).map_err(|e| format!("{e:#}"))
}

/// Indices of `s` to print for `q`, newest first.
fn indices(q: &FetchRange, s: &Series) -> impl Iterator<Item = usize> {
    s.range(q.lo, q.hi).rev().skip(q.skip).take(q.limit)
}

/// Streams fetch output in chunks of about [`CHUNK`] bytes.
struct FetchOut<'r, 'a> {
    resp: &'r mut Responder<'a>,
    buf: Vec<u8>,
    render: Renderer,
    /// Points still allowed before an injected cut.
    left: u64,
    cut_line: usize,
}

impl FetchOut<'_, '_> {
    /// Renders every selected point; false if stopped by the cut, with the first line beyond
    /// it rendered at `cut_line..` in `buf`.
    fn series(&mut self, selected: &[Arc<Series>], q: &FetchRange) -> io::Result<bool> {
        for s in selected {
            self.render.series(&s.visible, &s.attrs);
            for i in indices(q, s) {
                let start = self.buf.len();
                self.render.point(&mut self.buf, &s.point(i), s.is_decimal(i));
                if self.left == 0 {
                    self.cut_line = start;
                    return Ok(false);
                }
                self.left -= 1;
                if self.buf.len() >= CHUNK {
                    self.resp.chunk(&self.buf)?;
                    self.buf.clear();
                }
            }
        }
        Ok(true)
    }

    fn end(self) -> Reply {
        self.resp.chunk(&self.buf)?;
        self.resp.finish()
    }
}
