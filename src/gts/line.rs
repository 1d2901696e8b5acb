//! Lines of Warp 10 fetch output (`docs/WARP10.md#fetch-output`), parsed strictly:
//!
//! ```text
//! full: TS/[LAT:LON]/[ELEV] CLASS{LABELS}[{ATTRS}] VALUE
//! cont: =TS/[LAT:LON]/[ELEV] VALUE
//! ```
//!
//! Everything is percent-encoded, so a full line has exactly three space-separated fields and a
//! continuation line two. Rendering produces the same forms, each line ending with `\n`, as
//! `/update` input that Warp 10 stores with the same bits (`-0.0` is written `-0.0E0`, see
//! `value.rs`): what restore, `cat` and the `gts.zst` codec write.

use super::value::{
    digit_run, parse_common_number, parse_common_number_prefix, parse_fetch_value, parse_long, put_i64, render_double,
    render_update_value,
};
use super::{Geo, Point, SeriesKey, Value, percent};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

#[derive(Debug, PartialEq)]
pub enum FetchLine<'a> {
    /// A line that names its series; `header` is the raw `class{labels}` text, `attrs` the raw
    /// text inside the attribute braces when `showattr` was given.
    Full {
        header: &'a [u8],
        attrs: Option<&'a [u8]>,
        point: Point,
    },
    /// `=` line: same series as the previous line.
    Cont(Point),
}

/// Parses one line of fetch output (without its `\n`; a trailing `\r` is accepted).
pub fn parse_fetch_line(line: &[u8]) -> Result<FetchLine<'_>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(rest) = line.strip_prefix(b"=") {
        let (prefix, value) = split2(rest).context("continuation line needs TS/GEO/ELEV VALUE")?;
        return Ok(FetchLine::Cont(point(prefix, value)?));
    }
    let sp1 = line
        .iter()
        .position(|&b| b == b' ')
        .context("missing space after TS/GEO/ELEV")?;
    let sp2 = line.iter().rposition(|&b| b == b' ').expect("a space exists");
    if sp2 == sp1 {
        bail!("full line needs TS/GEO/ELEV CLASS{{LABELS}} VALUE");
    }
    let middle = &line[sp1 + 1..sp2];
    if middle.contains(&b' ') {
        bail!("too many fields (spaces are percent-encoded in Warp 10 output)");
    }
    let (header, attrs) = split_header(middle)?;
    Ok(FetchLine::Full {
        header,
        attrs,
        point: point(&line[..sp1], &line[sp2 + 1..])?,
    })
}

/// The continuation line `=TS// VALUE` of nearly every point (no location, no elevation, a
/// timestamp of at most 18 digits, a plain integer or decimal value), parsed in one pass
/// without the general path's intermediate results. None for any other line, which
/// [`parse_fetch_line`] parses (or rejects) the same way. (The parts, not a `Point`: built by
/// the caller, the point is not moved through memory; returning it parsed D1 at 27 M points/s
/// instead of 32.)
#[inline]
pub fn parse_plain_cont(line: &[u8]) -> Option<(i64, Value)> {
    let (ts, value) = plain_timestamp(line.strip_prefix(b"=")?)?;
    Some((ts, parse_common_number(value)?))
}

/// [`parse_plain_cont`] of the line that starts `text`, found without looking for its end
/// first: the point and the line's length with its `\n`. None when the line is another kind
/// or `text` does not hold its `\n`.
#[inline]
pub fn parse_plain_cont_line(text: &[u8]) -> Option<(i64, Value, usize)> {
    let (ts, rest) = plain_timestamp(text.strip_prefix(b"=")?)?;
    let (value, len) = parse_common_number_prefix(rest)?;
    (rest.get(len) == Some(&b'\n')).then(|| (ts, value, text.len() - rest.len() + len + 1))
}

/// `TS// ` (no location, no elevation, at most 18 digits), the start of nearly every
/// continuation line: the timestamp and what follows, in one pass. None for anything else,
/// which the general path parses (or rejects) the same way.
#[inline]
fn plain_timestamp(s: &[u8]) -> Option<(i64, &[u8])> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let (ts, n) = digit_run(digits);
    if n == 0 || n > 18 {
        return None;
    }
    let rest = digits[n..].strip_prefix(b"// ")?;
    Some((if neg { -(ts as i64) } else { ts as i64 }, rest))
}

/// Splits `a b` into exactly two non-empty space-free fields.
fn split2(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = s.iter().position(|&b| b == b' ')?;
    let (a, b) = (&s[..sp], &s[sp + 1..]);
    (!a.is_empty() && !b.is_empty() && !b.contains(&b' ')).then_some((a, b))
}

/// `class{labels}` or `class{labels}{attrs}` → (`class{labels}`, attrs inner text).
fn split_header(s: &[u8]) -> Result<(&[u8], Option<&[u8]>)> {
    let open = s.iter().position(|&b| b == b'{').context("missing '{' after class")?;
    let close = open
        + s[open..]
            .iter()
            .position(|&b| b == b'}')
            .context("missing '}' after labels")?;
    let header = &s[..=close];
    match &s[close + 1..] {
        [] => Ok((header, None)),
        [b'{', inner @ .., b'}'] if !inner.contains(&b'}') && !inner.contains(&b'{') => Ok((header, Some(inner))),
        _ => bail!("unexpected text after labels"),
    }
}

/// Parses `TS/GEO/ELEV` and the value token into a point.
fn point(prefix: &[u8], value: &[u8]) -> Result<Point> {
    // Most lines have neither location nor elevation.
    if let Some(ts) = prefix.strip_suffix(b"//").and_then(parse_long) {
        return Ok(Point {
            ts,
            geo: None,
            elev: None,
            value: parse_fetch_value(value)?,
        });
    }
    let mut parts = prefix.splitn(3, |&b| b == b'/');
    let (ts, geo, elev) = match (parts.next(), parts.next(), parts.next()) {
        (Some(t), Some(g), Some(e)) => (t, g, e),
        _ => bail!("timestamp part must be TS/GEO/ELEV"),
    };
    let ts = parse_long(ts).with_context(|| format!("invalid timestamp {:?}", lossy(ts)))?;
    let geo = if geo.is_empty() {
        None
    } else {
        let colon = geo
            .iter()
            .position(|&b| b == b':')
            .context("location must be LAT:LON")?;
        let lat = parse_coord(&geo[..colon]).context("invalid latitude")?;
        let lon = parse_coord(&geo[colon + 1..]).context("invalid longitude")?;
        Some(Geo { lat, lon })
    };
    let elev = if elev.is_empty() {
        None
    } else {
        Some(parse_long(elev).with_context(|| format!("invalid elevation {:?}", lossy(elev)))?)
    };
    let value = parse_fetch_value(value)?;
    Ok(Point { ts, geo, elev, value })
}

fn parse_coord(s: &[u8]) -> Result<f64> {
    if s.is_empty() || !s.iter().all(|b| b.is_ascii_digit() || b"-.E".contains(b)) {
        bail!("{:?} is not a number", lossy(s));
    }
    Ok(std::str::from_utf8(s)?.parse::<f64>()?)
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(&s[..s.len().min(64)]).into_owned()
}

/// Parses `class{labels}` (as in fetch full lines and find output).
pub fn parse_header(header: &[u8]) -> Result<SeriesKey> {
    let (key, attrs) = parse_header_with_attrs(header)?;
    if attrs.is_some() {
        bail!("unexpected attributes after labels");
    }
    Ok(key)
}

/// Parses `class{labels}` optionally followed by `{attrs}` (delete listings, find with showattr).
pub fn parse_header_with_attrs(s: &[u8]) -> Result<(SeriesKey, Option<BTreeMap<String, String>>)> {
    let (header, attrs) = split_header(s)?;
    let open = header.iter().position(|&b| b == b'{').expect("split_header found it");
    if open == 0 {
        bail!("empty class name");
    }
    let class = percent::decode_str(&header[..open]).context("class name")?;
    let labels = parse_pairs(&header[open + 1..header.len() - 1]).context("labels")?;
    let attrs = attrs.map(|a| parse_pairs(a).context("attributes")).transpose()?;
    Ok((SeriesKey { class, labels }, attrs))
}

/// `k=v,k2=v2` (percent-encoded) into a map; a repeated name is an error.
pub fn parse_pairs(s: &[u8]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    if s.is_empty() {
        return Ok(map);
    }
    for pair in s.split(|&b| b == b',') {
        let eq = pair
            .iter()
            .position(|&b| b == b'=')
            .with_context(|| format!("{:?} is not name=value", lossy(pair)))?;
        let (k, v) = (&pair[..eq], &pair[eq + 1..]);
        if k.is_empty() || v.contains(&b'=') {
            bail!("{:?} is not name=value", lossy(pair));
        }
        let k = percent::decode_str(k)?;
        if map.insert(k.clone(), percent::decode_str(v)?).is_some() {
            bail!("label {k:?} appears twice");
        }
    }
    Ok(map)
}

/// Appends `class{k=v,...}` (labels sorted, everything percent-encoded).
pub fn render_header(out: &mut Vec<u8>, key: &SeriesKey) {
    percent::encode(out, key.class.as_bytes());
    render_pairs(out, &key.labels);
}

/// Appends `{k=v,...}`.
pub fn render_pairs(out: &mut Vec<u8>, pairs: &BTreeMap<String, String>) {
    out.push(b'{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        percent::encode(out, k.as_bytes());
        out.push(b'=');
        percent::encode(out, v.as_bytes());
    }
    out.push(b'}');
}

/// Appends `TS/LAT:LON/ELEV` (empty parts when absent).
pub fn render_point_prefix(out: &mut Vec<u8>, p: &Point) {
    put_i64(out, p.ts);
    out.push(b'/');
    if let Some(g) = p.geo {
        render_double(out, g.lat);
        out.push(b':');
        render_double(out, g.lon);
    }
    out.push(b'/');
    if let Some(e) = p.elev {
        put_i64(out, e);
    }
}

/// Appends a full line `TS/GEO/ELEV class{labels} VALUE\n`.
pub fn render_full_line(out: &mut Vec<u8>, key: &SeriesKey, p: &Point) {
    render_point_prefix(out, p);
    out.push(b' ');
    render_header(out, key);
    out.push(b' ');
    render_update_value(out, &p.value);
    out.push(b'\n');
}

/// Appends a continuation line `=TS/GEO/ELEV VALUE\n`.
pub fn render_cont_line(out: &mut Vec<u8>, p: &Point) {
    // Room for the common line (timestamp, number) in one check.
    out.reserve(64);
    out.push(b'=');
    render_point_prefix(out, p);
    out.push(b' ');
    render_update_value(out, &p.value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gts::Value;

    #[test]
    fn parses_the_reference_examples() {
        let l = parse_fetch_line(b"1704067202000000// cpu.usage{.app=myapp,dc=par1,host=web01} 43.0").unwrap();
        let FetchLine::Full {
            header,
            attrs: None,
            point,
        } = l
        else {
            panic!("{l:?}")
        };
        let key = parse_header(header).unwrap();
        assert_eq!(key.class, "cpu.usage");
        assert_eq!(key.labels["host"], "web01");
        assert_eq!(point.value, Value::Double(43.0));
        let l = parse_fetch_line(b"=1704067200000000// 42").unwrap();
        assert_eq!(
            l,
            FetchLine::Cont(Point {
                ts: 1704067200000000,
                geo: None,
                elev: None,
                value: Value::Long(42)
            })
        );
        let l = parse_fetch_line(b"1704067202000000/48.85:2.35/35000 c{}{unit=%25} 'x'\r").unwrap();
        let FetchLine::Full {
            attrs: Some(a), point, ..
        } = l
        else {
            panic!()
        };
        assert_eq!(parse_pairs(a).unwrap()["unit"], "%");
        assert_eq!(point.geo, Some(Geo { lat: 48.85, lon: 2.35 }));
        assert_eq!(point.elev, Some(35000));
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b""[..],
            b"# ERROR: boom",
            b"123// c{} 1 extra",
            b"123/ c{} 1",
            b"x// c{} 1",
            b"123// c{a} 1",
            b"123// {} 1",
            b"123// c{a=1,a=2} 1",
            b"123// c 1",
            b"123// c{}x 1",
            b"=123//",
            b"=123// 1 2",
            b"123/1.0/ c{} 1",
            b"123// c{k=%ZZ} 1",
            b"123// c{} ",
        ] {
            let r = parse_fetch_line(bad).and_then(|l| match l {
                FetchLine::Full { header, .. } => parse_header(header).map(|_| ()),
                FetchLine::Cont(_) => Ok(()),
            });
            assert!(r.is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn renders_what_it_parses() {
        let key = SeriesKey {
            class: "a{b}=c".into(),
            labels: [("k,=".to_string(), "é x".to_string())].into(),
        };
        let p = Point {
            ts: -5,
            geo: Some(Geo { lat: -1.5, lon: 1e-7 }),
            elev: Some(-3),
            value: Value::Double(100.0),
        };
        let mut out = Vec::new();
        render_full_line(&mut out, &key, &p);
        render_cont_line(&mut out, &p);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "-5/-1.5:1.0E-7/-3 a%7Bb%7D%3Dc{k%2C%3D=%C3%A9%20x} 100.0\n=-5/-1.5:1.0E-7/-3 100.0\n"
        );
        let mut lines = text.lines();
        let FetchLine::Full { header, point, .. } = parse_fetch_line(lines.next().unwrap().as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!((parse_header(header).unwrap(), point), (key, p));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            prop_oneof!["[a-z.]{1,12}", "[{}=,%+~/ '\"\\:#a-z]{1,10}", "\\PC{1,8}",]
        }

        fn value() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<i64>().prop_map(Value::Long),
                any::<f64>().prop_map(Value::Double),
                prop_oneof![
                    Just(0.0),
                    Just(-0.0),
                    Just(f64::NAN),
                    Just(f64::INFINITY),
                    Just(f64::MIN_POSITIVE)
                ]
                .prop_map(Value::Double),
                (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(m, d)| Value::Double(m as f64 / 10f64.powi(d as i32))),
                any::<bool>().prop_map(Value::Bool),
                "\\PC{0,20}".prop_map(Value::Str),
                proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bin),
            ]
        }

        fn point() -> impl Strategy<Value = Point> {
            let geo = proptest::option::of((-90.0f64..90.0, -180.0f64..180.0).prop_map(|(lat, lon)| Geo { lat, lon }));
            (any::<i64>(), geo, proptest::option::of(any::<i64>()), value()).prop_map(|(ts, geo, elev, value)| Point {
                ts,
                geo,
                elev,
                value,
            })
        }

        fn same(a: &Point, b: &Point) -> bool {
            let v = match (&a.value, &b.value) {
                (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                (x, y) => x == y,
            };
            v && a.ts == b.ts && a.geo == b.geo && a.elev == b.elev
        }

        proptest! {
            #[test]
            fn parse_render_identity(
                class in name(),
                labels in proptest::collection::btree_map(name(), name(), 0..4),
                p in point(),
            ) {
                let key = SeriesKey { class, labels };
                let mut out = Vec::new();
                render_full_line(&mut out, &key, &p);
                render_cont_line(&mut out, &p);
                let text = out.strip_suffix(b"\n").unwrap();
                let mut lines = text.split(|&b| b == b'\n');
                let FetchLine::Full { header, attrs: None, point } = parse_fetch_line(lines.next().unwrap()).unwrap()
                else { panic!("not a full line") };
                prop_assert_eq!(parse_header(header).unwrap(), key);
                prop_assert!(same(&point, &p), "{:?} != {:?}", point, p);
                let FetchLine::Cont(point) = parse_fetch_line(lines.next().unwrap()).unwrap() else { panic!() };
                prop_assert!(same(&point, &p));
            }

            /// What we write for `/update`, read as Warp 10 reads it (short `[0-9.+-]` texts
            /// become exact decimals), gives back the same bits: -0.0 included.
            #[test]
            fn update_text_keeps_bits(class in name(), p in point()) {
                let key = SeriesKey { class, labels: BTreeMap::new() };
                let mut out = Vec::new();
                render_full_line(&mut out, &key, &p);
                render_cont_line(&mut out, &p);
                let mut parser = crate::gts::input::InputParser::new(0);
                for line in out.split_inclusive(|&b| b == b'\n') {
                    let (read_key, read) = parser.line(line).unwrap().unwrap();
                    prop_assert_eq!(read_key, &key);
                    prop_assert!(same(&read.point, &p), "{:?} != {:?}", read.point, p);
                }
            }

            /// The one-pass path for `=TS// VALUE` lines gives what the general parser gives,
            /// on lines near its edges (19-digit timestamps, exponents, `\r`, spaces, locations).
            #[test]
            fn the_plain_line_path_agrees_with_the_general_parser(
                line in "=-?[0-9]{0,20}(//|/|///|/1:2/|/3) -?[0-9]{0,20}(\\.[0-9]{0,20})?(E-?[0-9])?( |\r|x|'a')?",
                p in point(),
            ) {
                let general = |line: &[u8]| match parse_fetch_line(line) {
                    Ok(FetchLine::Cont(p)) => Some(p),
                    _ => None,
                };
                if let Some((ts, value)) = parse_plain_cont(line.as_bytes()) {
                    let plain = Point { ts, geo: None, elev: None, value };
                    let general = general(line.as_bytes());
                    prop_assert!(general.as_ref().is_some_and(|g| same(g, &plain)), "{:?}: {:?} vs {:?}", line, plain, general);
                }
                let mut rendered = Vec::new();
                render_cont_line(&mut rendered, &p);
                let rendered = rendered.strip_suffix(b"\n").unwrap();
                if let Some((ts, value)) = parse_plain_cont(rendered) {
                    let plain = Point { ts, geo: None, elev: None, value };
                    prop_assert!(same(&plain, &p), "{:?} vs {:?}", plain, p);
                }
            }

            /// A plain line parsed where it starts in a text gives what the line found by its
            /// `\n` gives, and only when the text holds that `\n`: cut anywhere, followed by
            /// anything.
            #[test]
            fn a_plain_line_parsed_in_place_is_the_line_found_by_its_end(
                line in "=-?[0-9]{0,20}(//|/|///|/1:2/|/3) -?[0-9]{0,20}(\\.[0-9]{0,20})?(E-?[0-9])?( |\r|x|'a')?",
                end in prop_oneof!["\n", "", "\r\n", " \n"],
                next in "(=[0-9]{1,3}// [0-9]{1,3}\n)?[0-9a-z=/ .\n]{0,8}",
                cut in any::<prop::sample::Index>(),
            ) {
                let text = format!("{line}{end}{next}");
                let text = &text.as_bytes()[..cut.index(text.len() + 1)];
                let by_end = memchr::memchr(b'\n', text)
                    .and_then(|nl| parse_plain_cont(&text[..nl]).map(|(ts, v)| (ts, v, nl + 1)));
                let in_place = parse_plain_cont_line(text);
                prop_assert_eq!(
                    in_place.as_ref().map(|(ts, v, len)| (*ts, *len, format!("{v:?}"))),
                    by_end.as_ref().map(|(ts, v, len)| (*ts, *len, format!("{v:?}"))),
                    "{:?}", String::from_utf8_lossy(text)
                );
            }

            #[test]
            fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                if let Ok(FetchLine::Full { header, .. }) = parse_fetch_line(&bytes) {
                    let _ = parse_header(header);
                }
            }

            /// Valid lines with one byte replaced, inserted or removed anywhere: the structure
            /// is right up to the damage, so the parser goes deep before it fails (or accepts).
            #[test]
            fn mutated_lines_never_panic(
                class in name(),
                labels in proptest::collection::btree_map(name(), name(), 0..3),
                p in point(),
                at in any::<prop::sample::Index>(),
                byte in any::<u8>(),
                edit in 0..3u8,
            ) {
                let mut line = Vec::new();
                render_full_line(&mut line, &SeriesKey { class, labels }, &p);
                line.pop();
                let i = at.index(line.len());
                match edit {
                    0 => line[i] = byte,
                    1 => line.insert(i, byte),
                    _ => { line.remove(i); }
                }
                if let Ok(FetchLine::Full { header, .. }) = parse_fetch_line(&line) {
                    let _ = parse_header(header);
                }
            }
        }
    }
}
