//! `/api/v0/fetch` and `/api/v0/find` answered from a destination's archives (`serve`), with
//! Warp 10's parameters, token sources, status codes and output formats (`docs/WARP10.md#fetch`,
//! `docs/WARP10.md#find`), so that clients of Warp 10 read cold data unchanged.
//!
//! A request lists the committed segments (manifests are read once and cached), reads everything
//! it answers with, holding at most `max_points` points, and only then starts the response: a
//! failure is a clean 500 with a message, never a truncated 200. The platform time unit is the
//! one the segments were archived with. Lossy or paging parameters Warp 10 has (`dedup`, `step`,
//! `boundary.*`, `gskip`...) and the binary formats are refused with a 400.

use super::{Catalog, Found, Query, Stats, common_unit, find, read};
use crate::archive::crypt::MasterKey;
use crate::gts::fetch_params;
use crate::gts::output::{Format, Renderer, render_find};
use crate::gts::selector::parse_scoped;
use crate::httpd::{self, Request, Responder};
use crate::id::TimeUnit;
use crate::manifest::Segment;
use crate::secret::Secret;
use crate::store::Store;
use anyhow::Result;
use std::collections::BTreeMap;
use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Fetch output is sent in chunks of about this size.
const CHUNK: usize = 64 << 10;

pub struct Endpoints {
    store: Box<dyn Store>,
    catalog: Catalog,
    key: Option<MasterKey>,
    token: Secret,
    max_points: u64,
}

impl Endpoints {
    pub fn new(store: Box<dyn Store>, key: Option<MasterKey>, token: Secret, max_points: u64) -> Endpoints {
        Endpoints {
            store,
            catalog: Catalog::default(),
            key,
            token,
            max_points,
        }
    }

    /// Serves requests on `listener`, each connection on its own thread, until the process ends.
    pub fn serve(self: Arc<Self>, listener: TcpListener) {
        httpd::serve(listener, "serve", move |req, _body, resp| self.route(req, resp));
    }

    fn route(&self, req: &Request, resp: &mut Responder) -> io::Result<()> {
        match req.path.as_str() {
            "/api/v0/fetch" => self.fetch(req, resp),
            "/api/v0/find" => self.find(req, resp),
            _ => resp.text(404, "Not found."),
        }
    }

    fn token_ok(&self, token: Option<&str>) -> Result<(), &'static str> {
        match token {
            None => Err("Missing token."),
            Some(t) if t == self.token.expose() => Ok(()),
            Some(_) => Err("Missing or invalid token."),
        }
    }

    /// The committed segments and their time unit (microseconds when there are none).
    fn segments(&self) -> Result<(Vec<Segment>, TimeUnit)> {
        let segments = self.catalog.segments(self.store.as_ref())?;
        let unit = common_unit(&segments)?.unwrap_or(TimeUnit::Us);
        Ok((segments, unit))
    }

    /// §3: token from the header first, then `?token=`; 400 for bad parameters or selectors.
    fn fetch(&self, req: &Request, resp: &mut Responder) -> io::Result<()> {
        let started = Instant::now();
        let token = req.header("x-warp10-token").or_else(|| req.param("token"));
        if let Err(msg) = self.token_ok(token) {
            return resp.text(403, msg);
        }
        let Some(selectors) = req.param("selector") else {
            return resp.text(400, "Missing 'selector' parameter.");
        };
        let refused = [
            "dedup",
            "step",
            "timestep",
            "sample",
            "boundary.pre",
            "boundary.post",
            "gskip",
            "gcount",
        ];
        if let Some(p) = refused.iter().find(|p| req.flag(p)) {
            return resp.text(400, &format!("warp-offload serve does not support '{p}'."));
        }
        let format = req.param("format");
        if let Some(f) = format.filter(|f| ["tsv", "fulltsv", "raw", "pack", "null"].contains(f)) {
            return resp.text(400, &format!("warp-offload serve does not support format '{f}'."));
        }
        let (segments, unit) = match self.segments() {
            Ok(s) => s,
            Err(e) => return self.failed(resp, &e),
        };
        let range = match fetch_params::range(&|name| req.param(name), unit) {
            Ok(r) => r,
            Err(msg) => return resp.text(400, &msg),
        };
        let mut parsed = Vec::new();
        for sel in selectors.split_whitespace() {
            match parse_scoped(sel) {
                Ok(s) => parsed.push(s),
                Err(e) => return resp.text(400, &format!("{e:#}")),
            }
        }
        let met: Vec<Segment> = segments
            .into_iter()
            .filter(|s| s.warp10_range().is_ok_and(|(s, e)| s <= range.hi && range.lo <= e))
            .collect();
        let stats = Stats::default();
        // Each selector is resolved on its own, as Warp 10 does: a series two of them match is
        // printed twice.
        let mut answers: Vec<Found> = Vec::new();
        let mut held = 0u64;
        for selector in &parsed {
            let q = Query {
                selector,
                lo: range.lo,
                hi: range.hi,
                skip: range.skip,
                limit: range.limit,
                max_points: self.max_points - held,
            };
            match read(self.store.as_ref(), &met, &q, self.key.as_ref(), &stats) {
                Ok(found) => {
                    held += found.values().map(|p| p.len() as u64).sum::<u64>();
                    answers.push(found);
                }
                Err(e) => return self.failed(resp, &e),
            }
        }
        let unit_header = unit.per_second().to_string();
        resp.start(
            200,
            &[
                ("Access-Control-Allow-Origin", "*"),
                ("X-Warp10-Timeunit", &unit_header),
            ],
            Duration::ZERO,
        )?;
        let mut render = Renderer::new(Format::from_param(format), req.flag("showattr"));
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        render.begin(&mut buf);
        let no_attrs = BTreeMap::new();
        for (series, points) in answers.iter().flatten() {
            render.series(series, &no_attrs);
            for p in points {
                render.point(&mut buf, p, false);
                if buf.len() >= CHUNK {
                    resp.chunk(&buf)?;
                    buf.clear();
                }
            }
        }
        render.end(&mut buf);
        resp.chunk(&buf)?;
        resp.finish()?;
        crate::log::info(
            "serve",
            None,
            &format!("fetch {selectors} from {} segments", met.len()),
            &[
                ("points", held.into()),
                ("bytes_read", stats.bytes_read().into()),
                ("duration_ms", (started.elapsed().as_millis() as u64).into()),
            ],
        );
        Ok(())
    }

    /// §2.2: token from `?token=` first, then the header; errors are 500s.
    fn find(&self, req: &Request, resp: &mut Responder) -> io::Result<()> {
        let token = req.param("token").or_else(|| req.header("x-warp10-token"));
        if let Err(msg) = self.token_ok(token) {
            return resp.text(403, msg);
        }
        let Some(selectors) = req.param("selector") else {
            return resp.text(500, "Missing selector.");
        };
        let segments = match self.segments() {
            Ok((s, _)) => s,
            Err(e) => return self.failed(resp, &e),
        };
        let stats = Stats::default();
        let mut keys = Vec::new();
        for sel in selectors.split_whitespace() {
            let selector = match parse_scoped(sel) {
                Ok(s) => s,
                Err(e) => return resp.text(500, &format!("{e:#}")),
            };
            match find(self.store.as_ref(), &segments, &selector, self.key.as_ref(), &stats) {
                Ok(found) => keys.extend(found),
                Err(e) => return self.failed(resp, &e),
            }
        }
        let no_attrs = BTreeMap::new();
        let series: Vec<_> = keys.iter().map(|k| (k, &no_attrs)).collect();
        let mut out = Vec::new();
        render_find(
            &mut out,
            &series,
            req.param("format") == Some("json"),
            req.flag("showattr"),
        );
        resp.send(200, &[], &out)
    }

    /// A 500 naming what failed (never a secret: errors carry none), logged too.
    fn failed(&self, resp: &mut Responder, e: &anyhow::Error) -> io::Result<()> {
        crate::log::error(&format!("serve: {e:#}"));
        resp.text(500, &format!("{e:#}"))
    }
}
