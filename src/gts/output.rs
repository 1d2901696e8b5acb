//! `/api/v0/fetch` output formats (`docs/WARP10.md#fetch-output`, `docs/WARP10.md#fetch`), shared by the fake
//! Warp 10 and the archive readers (`query`, `serve`): `text` (a full line when a series starts,
//! then `=` lines), `fulltext` (full lines only) and Warp 10's `json`
//! (`EgressFetchHandler.jsonDump`): `[{"c":class,"l":{labels},"a":{attrs},"i":"id","v":[[ts,
//! (lat,lon,)(elev,)value],...]},...]` with Java number layout, NaN and Infinity printed raw as
//! Warp 10 does, and BINARY as a Latin-1 string.
//!
//! A series is printed only once it has a point, as Warp 10 does.

use super::line::{render_header, render_pairs, render_point_prefix};
use super::value::{put_i64, render_double, render_plain_decimal, render_value};
use super::{Point, SeriesKey, Value};
use std::collections::BTreeMap;

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Class and labels on the first line of a series, `=` lines after (Warp 10 `text`)
    Text,
    /// Class and labels on every line (Warp 10 `fulltext`)
    Fulltext,
    /// Warp 10's fetch JSON: one object per series with its points under "v"
    Json,
}

impl Format {
    /// Warp 10's reading of `format=`: unknown values give text.
    pub fn from_param(v: Option<&str>) -> Format {
        match v {
            Some("fulltext") => Format::Fulltext,
            Some("json") => Format::Json,
            _ => Format::Text,
        }
    }
}

/// Renders fetch output into a caller's buffer, series after series.
pub struct Renderer {
    format: Format,
    showattr: bool,
    /// What starts the current series: `class{labels}[{attrs}]`, or the JSON object head.
    header: Vec<u8>,
    /// The current series has no point printed yet.
    pending: bool,
    series_printed: u64,
}

impl Renderer {
    pub fn new(format: Format, showattr: bool) -> Renderer {
        Renderer {
            format,
            showattr,
            header: Vec::new(),
            pending: false,
            series_printed: 0,
        }
    }

    /// What comes before any series.
    pub fn begin(&self, out: &mut Vec<u8>) {
        if self.format == Format::Json {
            out.push(b'[');
        }
    }

    /// Starts a series; its header is printed with its first point.
    pub fn series(&mut self, key: &SeriesKey, attrs: &BTreeMap<String, String>) {
        self.header.clear();
        self.pending = true;
        if self.format != Format::Json {
            render_header(&mut self.header, key);
            if self.showattr {
                render_pairs(&mut self.header, attrs);
            }
            return;
        }
        let h = &mut self.header;
        h.extend_from_slice(b"{\"c\":");
        json_string(h, &key.class);
        h.extend_from_slice(b",\"l\":");
        json_map(h, &key.labels);
        h.extend_from_slice(b",\"a\":");
        json_map(h, attrs);
        // Warp 10 prints the labels id under a random per-request mask: only its uniqueness
        // within one response means anything.
        h.extend_from_slice(format!(",\"i\":\"{}\",\"v\":[", self.series_printed).as_bytes());
    }

    /// Prints a point of the current series; `plain_decimal`: a DOUBLE Warp 10 stores as an
    /// exact decimal, printed as it prints those (`gts::value::render_plain_decimal`).
    pub fn point(&mut self, out: &mut Vec<u8>, p: &Point, plain_decimal: bool) {
        let first = std::mem::take(&mut self.pending);
        if first {
            self.series_printed += 1;
        }
        match self.format {
            Format::Json => {
                if first {
                    if self.series_printed > 1 {
                        out.extend_from_slice(b"]},");
                    }
                    out.extend_from_slice(&self.header);
                } else {
                    out.push(b',');
                }
                json_point(out, p, plain_decimal);
            }
            Format::Text if !first => {
                out.push(b'=');
                render_point_prefix(out, p);
                out.push(b' ');
                number_or_value(out, &p.value, plain_decimal);
                out.push(b'\n');
            }
            Format::Text | Format::Fulltext => {
                render_point_prefix(out, p);
                out.push(b' ');
                out.extend_from_slice(&self.header);
                out.push(b' ');
                number_or_value(out, &p.value, plain_decimal);
                out.push(b'\n');
            }
        }
    }

    /// What comes after the last series.
    pub fn end(&self, out: &mut Vec<u8>) {
        if self.format == Format::Json {
            if self.series_printed > 0 {
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
    }
}

/// `/api/v0/find` output (§2.2): one `class{labels}` line per series, `{attrs}` appended with
/// `showattr`; or JSON objects `{"c","l","a","la"}` between `[` and `]` lines.
pub fn render_find(out: &mut Vec<u8>, series: &[(&SeriesKey, &BTreeMap<String, String>)], json: bool, showattr: bool) {
    if json {
        out.extend_from_slice(b"[\n");
        for (i, (key, attrs)) in series.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            let obj = serde_json::json!({"c": key.class, "l": key.labels, "a": attrs, "la": 0});
            serde_json::to_writer(&mut *out, &obj).expect("writing JSON to memory");
        }
        out.extend_from_slice(b"\n]\n");
        return;
    }
    for (key, attrs) in series {
        render_header(out, key);
        if showattr {
            render_pairs(out, attrs);
        }
        out.push(b'\n');
    }
}

fn number_or_value(out: &mut Vec<u8>, v: &Value, plain_decimal: bool) {
    match v {
        Value::Double(d) if plain_decimal => render_plain_decimal(out, *d),
        v => render_value(out, v),
    }
}

fn json_point(out: &mut Vec<u8>, p: &Point, plain_decimal: bool) {
    out.push(b'[');
    put_i64(out, p.ts);
    if let Some(g) = p.geo {
        out.push(b',');
        render_double(out, g.lat);
        out.push(b',');
        render_double(out, g.lon);
    }
    if let Some(e) = p.elev {
        out.push(b',');
        put_i64(out, e);
    }
    out.push(b',');
    match &p.value {
        Value::Long(_) | Value::Double(_) => number_or_value(out, &p.value, plain_decimal),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Str(s) => json_string(out, s),
        Value::Bin(b) => json_string(out, &b.iter().map(|&c| char::from(c)).collect::<String>()),
    }
    out.push(b']');
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing JSON to memory");
}

fn json_map(out: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    serde_json::to_writer(&mut *out, map).expect("writing JSON to memory");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gts::Geo;

    fn key() -> SeriesKey {
        SeriesKey {
            class: "a b".into(),
            labels: [("k".to_string(), "v\"".to_string())].into(),
        }
    }

    fn render(format: Format, showattr: bool, series: &[(SeriesKey, Vec<Point>)]) -> String {
        let mut r = Renderer::new(format, showattr);
        let mut out = Vec::new();
        r.begin(&mut out);
        let attrs = [("u".to_string(), "%".to_string())].into();
        for (k, points) in series {
            r.series(k, &attrs);
            points.iter().for_each(|p| r.point(&mut out, p, false));
        }
        r.end(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn pt(ts: i64, value: Value) -> Point {
        Point {
            ts,
            geo: None,
            elev: None,
            value,
        }
    }

    #[test]
    fn text_fulltext_and_json_layouts() {
        let geo = Point {
            ts: 3,
            geo: Some(Geo { lat: 48.5, lon: -2.0 }),
            elev: Some(-7),
            value: Value::Double(1e7),
        };
        let s = vec![
            (
                key(),
                vec![geo, pt(2, Value::Bin(vec![0xe9, b'x'])), pt(1, Value::Bool(true))],
            ),
            (key(), vec![]),
            (
                SeriesKey {
                    class: "c".into(),
                    labels: BTreeMap::new(),
                },
                vec![pt(5, Value::Str("é'".into())), pt(4, Value::Double(f64::NAN))],
            ),
        ];
        assert_eq!(
            render(Format::Text, false, &s),
            "3/48.5:-2.0/-7 a%20b{k=v%22} 1.0E7\n=2// b64:6Xg\n=1// T\n5// c{} '%C3%A9%27'\n=4// NaN\n"
        );
        assert_eq!(
            render(Format::Fulltext, true, &s).lines().nth(1),
            Some("2// a%20b{k=v%22}{u=%25} b64:6Xg")
        );
        assert_eq!(
            render(Format::Json, false, &s),
            "[{\"c\":\"a b\",\"l\":{\"k\":\"v\\\"\"},\"a\":{\"u\":\"%\"},\"i\":\"0\",\"v\":[[3,48.5,-2.0,-7,1.0E7],\
             [2,\"éx\"],[1,true]]},{\"c\":\"c\",\"l\":{},\"a\":{\"u\":\"%\"},\"i\":\"1\",\"v\":[[5,\"é'\"],[4,NaN]]}]"
        );
        assert_eq!(render(Format::Json, false, &[]), "[]");
        assert_eq!(render(Format::Text, false, &[(key(), vec![])]), "");
    }
}
