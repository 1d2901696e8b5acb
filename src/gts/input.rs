//! The lenient GTS input format accepted by `/api/v0/update` (`reference/warp10-api.md` §1.1,
//! §1.4): relative and missing timestamps, `=` continuation lines, lines without `{` reusing the
//! previous series, `'`/`"` strings, `T`/`true`, `b64:`/`hex:` binaries, raw GeoXPPoint
//! locations. Used by the fake Warp 10 and anything else that reads update bodies.
//!
//! A DOUBLE written with at most 15 characters of `[0-9.+-]` is an exact decimal in Warp 10
//! (a BigDecimal): it has no negative zero (`-0.0` is stored as `0.0`) and fetch prints it in
//! plain notation. [`InputPoint::decimal`] says which points those are.

use super::{Geo, Point, SeriesKey, Value, percent};
use anyhow::{Result, anyhow};
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use std::collections::BTreeMap;

/// Parses the lines of one request body. Continuation lines and lines without a class reuse the
/// series of the previous line of the same parser, as Warp 10 does within one request.
pub struct InputParser {
    /// Server time in platform units, for empty and `T`-relative timestamps.
    now: i64,
    prev: Option<SeriesKey>,
}

/// A point of update input, and whether Warp 10 stores its DOUBLE as an exact decimal.
#[derive(Clone, Debug, PartialEq)]
pub struct InputPoint {
    pub point: Point,
    pub decimal: bool,
}

impl From<Point> for InputPoint {
    fn from(point: Point) -> InputPoint {
        InputPoint { point, decimal: false }
    }
}

/// Why a line failed, and where (a byte offset in the trimmed line).
struct Fail {
    at: usize,
    why: String,
}

fn fail<T>(at: usize, why: impl Into<String>) -> Result<T, Fail> {
    Err(Fail { at, why: why.into() })
}

impl InputParser {
    pub fn new(now: i64) -> InputParser {
        InputParser { now, prev: None }
    }

    /// Parses one line (terminator optional). Blank and `#` lines give `None`. The error reads
    /// like Warp 10's: `Parse error at index N in '<line>'`, followed by the reason.
    pub fn line(&mut self, raw: &[u8]) -> Result<Option<(&SeriesKey, InputPoint)>> {
        let line = raw.trim_ascii();
        if line.is_empty() || line[0] == b'#' {
            return Ok(None);
        }
        match self.parse(line) {
            Ok(point) => Ok(Some((self.prev.as_ref().expect("parse sets the series"), point))),
            Err(Fail { at, why }) => Err(anyhow!(
                "Parse error at index {at} in '{}': {why}",
                String::from_utf8_lossy(line)
            )),
        }
    }

    fn parse(&mut self, line: &[u8]) -> Result<InputPoint, Fail> {
        let (cont, body, base) = match line.strip_prefix(b"=") {
            Some(rest) => (true, rest, 1),
            None => (false, line, 0),
        };
        if cont && self.prev.is_none() {
            return fail(0, "Invalid continuation.");
        }
        let Some(slash1) = body.iter().position(|&b| b == b'/') else {
            return fail(base, "Missing timestamp separator.");
        };
        let ts = self.timestamp(&body[..slash1]).ok_or(Fail {
            at: base,
            why: "invalid timestamp".into(),
        })?;
        let rest = &body[slash1 + 1..];
        let Some(slash2) = rest.iter().position(|&b| b == b'/') else {
            return fail(base + slash1 + 1, "Missing location/elevation separator.");
        };
        let geo_at = base + slash1 + 1;
        let geo = parse_geo(&rest[..slash2]).ok_or(Fail {
            at: geo_at,
            why: "invalid location".into(),
        })?;
        let rest = &rest[slash2 + 1..];
        let elev_at = geo_at + slash2 + 1;
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return fail(elev_at, "Missing value.");
        };
        let elev = match &rest[..space] {
            [] => None,
            e => Some(parse_i64(e).ok_or(Fail {
                at: elev_at,
                why: "invalid elevation".into(),
            })?),
        };
        let skipped = skip_spaces(&rest[space..]);
        let mut at = elev_at + space + skipped;
        let mut rest = &rest[space + skipped..];
        if !cont {
            if rest.contains(&b'{') {
                let (key, used) = parse_series(rest).map_err(|f| Fail {
                    at: at + f.at,
                    why: f.why,
                })?;
                self.prev = Some(key);
                let skipped = skip_spaces(&rest[used..]);
                if skipped == 0 {
                    return fail(at + used, "Missing space before the value.");
                }
                at += used + skipped;
                rest = &rest[used + skipped..];
            } else if self.prev.is_none() {
                return fail(at, "Missing or invalid GTS name and labels.");
            }
        }
        let (value, decimal) = parse_value(rest).map_err(|why| Fail { at, why })?;
        Ok(InputPoint {
            point: Point { ts, geo, elev, value },
            decimal,
        })
    }

    fn timestamp(&self, s: &[u8]) -> Option<i64> {
        match s {
            [] => Some(self.now),
            [b'T', rel @ ..] => self.now.checked_add(parse_i64(rel)?),
            _ => parse_i64(s),
        }
    }
}

fn skip_spaces(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| b == b' ').count()
}

/// `class{labels}` and an optional `{attrs}` block (ignored, like Warp 10 without
/// `ingress.parse.attributes`). Returns the series and the number of bytes used.
fn parse_series(s: &[u8]) -> Result<(SeriesKey, usize), Fail> {
    let open = s.iter().position(|&b| b == b'{').expect("caller checked for '{'");
    let class = percent::decode_str(&s[..open]).or_else(|e| fail(0, format!("class: {e:#}")))?;
    if class.is_empty() {
        return fail(0, "Missing or invalid GTS name and labels.");
    }
    let Some(close) = s[open..].iter().position(|&b| b == b'}').map(|i| open + i) else {
        return fail(open, "Missing or invalid GTS name and labels.");
    };
    let labels = parse_labels(&s[open + 1..close]).map_err(|f| Fail {
        at: open + 1 + f.at,
        why: f.why,
    })?;
    let mut used = close + 1;
    if s.get(used) == Some(&b'{') {
        match s[used..].iter().position(|&b| b == b'}') {
            Some(i) => used += i + 1,
            None => return fail(used, "Unterminated attributes."),
        }
    }
    Ok((SeriesKey { class, labels }, used))
}

fn parse_labels(s: &[u8]) -> Result<BTreeMap<String, String>, Fail> {
    let mut labels = BTreeMap::new();
    let mut at = 0;
    for pair in s.split(|&b| b == b',') {
        if !pair.is_empty() {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                return fail(at, "label without '='");
            };
            let name = percent::decode_str(&pair[..eq]).or_else(|e| fail(at, format!("label name: {e:#}")))?;
            let value =
                percent::decode_str(&pair[eq + 1..]).or_else(|e| fail(at + eq + 1, format!("label value: {e:#}")))?;
            labels.insert(name, value);
        }
        at += pair.len() + 1;
    }
    Ok(labels)
}

/// Java `Long.parseLong`: optional sign, then decimal digits only.
fn parse_i64(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"+").or_else(|| s.strip_prefix(b"-")).unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Empty (no location), `lat:lon`, or a raw 64-bit GeoXPPoint.
fn parse_geo(s: &[u8]) -> Option<Option<Geo>> {
    if s.is_empty() {
        return Some(None);
    }
    let text = std::str::from_utf8(s).ok()?;
    let geo = match text.split_once(':') {
        Some((lat, lon)) => Geo {
            lat: parse_java_double(lat)?,
            lon: parse_java_double(lon)?,
        },
        None => geoxp_to_geo(parse_i64(s)?),
    };
    Some(Some(geo))
}

/// Decodes a GeoXPPoint: latitude and longitude quantised to 32 bits each over [-90, 90] and
/// [-180, 180], bits interleaved with the latitude bit first (geoxplib).
fn geoxp_to_geo(point: i64) -> Geo {
    let z = point as u64;
    let (mut lat, mut lon) = (0u64, 0u64);
    for bit in 0..32 {
        lat |= ((z >> (2 * bit + 1)) & 1) << bit;
        lon |= ((z >> (2 * bit)) & 1) << bit;
    }
    let scale = f64::from(u32::MAX);
    Geo {
        lat: lat as f64 * 180.0 / scale - 90.0,
        lon: lon as f64 * 360.0 / scale - 180.0,
    }
}

/// Java `Double.parseDouble` for what Warp 10 inputs contain: decimal and exponent forms with an
/// optional sign and an optional `d`/`D`/`f`/`F` suffix (ignored: `2.5f` is the double 2.5),
/// `NaN`, `Infinity`. Unlike Rust it rejects `inf`, `nan` and `infinity`.
fn parse_java_double(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned == "NaN" && unsigned.len() == s.len() {
        return Some(f64::NAN);
    }
    if unsigned == "Infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let s = s.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(s);
    let unsigned = unsigned.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(unsigned);
    let numeric = unsigned.bytes().all(|b| b.is_ascii_digit() || b"eE.+-".contains(&b));
    if !numeric || !unsigned.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Standard or URL-safe alphabet (normalised to standard first), padding optional: what
/// commons-codec's `Base64.decodeBase64` accepts.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The value and whether it is a DOUBLE stored as an exact decimal.
fn parse_value(s: &[u8]) -> Result<(Value, bool), String> {
    let text = std::str::from_utf8(s).map_err(|_| "value is not UTF-8".to_string())?;
    let quoted = s.len() >= 2 && (s[0] == b'\'' || s[0] == b'"') && s[s.len() - 1] == s[0];
    let value = if quoted {
        percent::decode_str(&s[1..s.len() - 1])
            .map(Value::Str)
            .map_err(|e| format!("string value: {e:#}"))?
    } else if text == "t" || text == "T" || text.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if text == "f" || text == "F" || text.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if let Some(b64) = text.strip_prefix("b64:") {
        let standard = b64.replace('-', "+").replace('_', "/");
        B64_LENIENT
            .decode(standard)
            .map(Value::Bin)
            .map_err(|e| format!("invalid b64: value ({e})"))?
    } else if let Some(hex) = text.strip_prefix("hex:") {
        Value::Bin(decode_hex(hex).ok_or_else(|| "invalid hex: value".to_string())?)
    } else if text.starts_with(['[', ':']) || text.starts_with("Q:") || text.matches(':').count() == 2 {
        return Err("multi-values, quaternions, HHCode and custom values are not supported".to_string());
    } else if text
        .strip_prefix(['+', '-'])
        .unwrap_or(text)
        .bytes()
        .all(|b| b.is_ascii_digit())
    {
        Value::Long(parse_i64(s).ok_or_else(|| "Cannot parse value.".to_string())?)
    } else {
        let d = parse_java_double(text).ok_or_else(|| "Cannot parse value.".to_string())?;
        if is_exact_decimal(text) {
            // BigDecimal has no negative zero; any other decimal reads back to the same double.
            return Ok((Value::Double(if d == 0.0 { 0.0 } else { d }), true));
        }
        Value::Double(d)
    };
    Ok((value, false))
}

/// Warp 10 reads a DOUBLE written with at most 15 characters of `[0-9.+-]` as a BigDecimal.
fn is_exact_decimal(text: &str) -> bool {
    text.len() <= 15 && text.bytes().all(|b| b.is_ascii_digit() || b"+-.".contains(&b))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> InputPoint {
        InputParser::new(1_000).line(line.as_bytes()).unwrap().unwrap().1
    }

    fn err(line: &str) -> String {
        format!("{:#}", InputParser::new(0).line(line.as_bytes()).unwrap_err())
    }

    #[test]
    fn full_and_continuation_lines() {
        let mut p = InputParser::new(5_000);
        assert!(p.line(b"  # comment").unwrap().is_none());
        assert!(p.line(b"   \r\n").unwrap().is_none());
        let (key, pt) = p
            .line(b" 1704067200000000// cpu.usage{host=web01,dc=par1} 42 \r\n")
            .unwrap()
            .unwrap();
        assert_eq!(key.class, "cpu.usage");
        assert_eq!(key.labels.get("dc").map(String::as_str), Some("par1"));
        assert_eq!(
            pt.point,
            Point {
                ts: 1704067200000000,
                geo: None,
                elev: None,
                value: Value::Long(42)
            }
        );
        let (key, pt) = p.line(b"=1704067202000000// 43.0").unwrap().unwrap();
        assert_eq!(key.class, "cpu.usage");
        assert_eq!((pt.point.value, pt.decimal), (Value::Double(43.0), true));
        let (key, pt) = p
            .line(b"T-100/48.85:2.35/35000 car%20speed{id=AB%2C123}{unit=kmh}   88.2")
            .unwrap()
            .unwrap();
        assert_eq!((key.class.as_str(), key.labels["id"].as_str()), ("car speed", "AB,123"));
        let pt = pt.point;
        assert_eq!(
            (pt.ts, pt.geo, pt.elev),
            (4_900, Some(Geo { lat: 48.85, lon: 2.35 }), Some(35000))
        );
        // No class on a normal line: the previous series again; no timestamp: now.
        let (key, pt) = p.line(b"//-12 T").unwrap().unwrap();
        assert_eq!(key.class, "car speed");
        assert_eq!(
            (pt.point.ts, pt.point.elev, pt.point.value),
            (5_000, Some(-12), Value::Bool(true))
        );
        let (key, _) = p.line(b"1// empty{} 1").unwrap().unwrap();
        assert!(key.labels.is_empty());
    }

    #[test]
    fn values() {
        let v = |s: &str| one(&format!("1// c{{}} {s}")).point.value;
        assert_eq!(v("'hello%20world%2C%20%C3%A9'"), Value::Str("hello world, é".into()));
        assert_eq!(v("\"a'b\""), Value::Str("a'b".into()));
        assert_eq!(v("''"), Value::Str(String::new()));
        for t in ["t", "T", "true", "TRUE", "True"] {
            assert_eq!(v(t), Value::Bool(true), "{t}");
        }
        for f in ["f", "F", "false", "FaLsE"] {
            assert_eq!(v(f), Value::Bool(false), "{f}");
        }
        assert_eq!(v("b64:-_8AQQ"), Value::Bin(vec![0xFB, 0xFF, 0x00, 0x41]));
        assert_eq!(v("b64:+/8AQQ=="), Value::Bin(vec![0xFB, 0xFF, 0x00, 0x41]));
        assert_eq!(v("b64:"), Value::Bin(vec![]));
        assert_eq!(v("hex:fbff0041"), Value::Bin(vec![0xFB, 0xFF, 0x00, 0x41]));
        assert_eq!(v("-42"), Value::Long(-42));
        assert_eq!(v("+7"), Value::Long(7));
        assert_eq!(v("9223372036854775807"), Value::Long(i64::MAX));
        assert_eq!(v("-9223372036854775808"), Value::Long(i64::MIN));
        assert_eq!(v("1.50"), Value::Double(1.5));
        assert_eq!(v("42."), Value::Double(42.0));
        assert_eq!(v(".5"), Value::Double(0.5));
        assert_eq!(v("1.5E10"), Value::Double(1.5e10));
        assert_eq!(v("1e-3"), Value::Double(0.001));
        assert_eq!(v("-Infinity"), Value::Double(f64::NEG_INFINITY));
        assert_eq!(v("Infinity"), Value::Double(f64::INFINITY));
        assert!(matches!(v("NaN"), Value::Double(d) if d.is_nan()));
        for s in ["2.5d", "2.5D", "2.5f", "2.5F", "25e-1d", "+2.5f"] {
            assert_eq!(v(s), Value::Double(2.5), "{s}");
        }
        assert_eq!(v("1d"), Value::Double(1.0));
        assert_eq!(v("0.1f"), Value::Double(0.1), "the suffix does not round to a float");
    }

    /// Short `[0-9.+-]` texts are exact decimals, which have no negative zero (§1.4).
    #[test]
    fn exact_decimals() {
        let neg_zero = |d: f64| d == 0.0 && d.is_sign_negative();
        for s in ["-0.0", "-0.00", "+0.0", "-.0", "0.", "-000000000000.0"] {
            let p = one(&format!("1// c{{}} {s}"));
            assert!(
                matches!(p.point.value, Value::Double(d) if d == 0.0 && !neg_zero(d)),
                "{s}"
            );
            assert!(p.decimal, "{s}");
        }
        for s in ["-0.0E0", "-0e0", "-0.0d", "-0.0f", "-0.00000000000000"] {
            let p = one(&format!("1// c{{}} {s}"));
            assert!(matches!(p.point.value, Value::Double(d) if neg_zero(d)), "{s}");
            assert!(!p.decimal, "{s}");
        }
        for (s, d) in [
            ("1.50", 1.5),
            ("100.0", 100.0),
            ("42.", 42.0),
            (".5", 0.5),
            ("0.0000000000001", 1e-13),
        ] {
            let p = one(&format!("1// c{{}} {s}"));
            assert_eq!((p.point.value, p.decimal), (Value::Double(d), true), "{s}");
        }
        assert_eq!(one("1// c{} -0").point.value, Value::Long(0), "a LONG");
        assert!(!one("1// c{} 1.5E10").decimal);
        assert!(!one("1// c{} 123456789.012345").decimal, "16 characters");
        assert!(err("1// c{} 1.2.3").contains("Cannot parse value."));
    }

    #[test]
    fn raw_geoxp_point() {
        // All latitude bits set, no longitude bit: the north-west corner.
        let p = one(&format!("1/{}/ c{{}} 1", 0xAAAA_AAAA_AAAA_AAAAu64 as i64));
        let g = p.point.geo.unwrap();
        assert!((g.lat - 90.0).abs() < 1e-6 && (g.lon + 180.0).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn errors_name_the_index_and_the_line() {
        assert_eq!(
            err("=1// 1").split(':').next().unwrap(),
            "Parse error at index 0 in '=1// 1'"
        );
        assert!(err("1// 42").contains("Missing or invalid GTS name and labels."));
        assert!(err("12 c{} 1").starts_with("Parse error at index 0 in '12 c{} 1'"));
        assert!(
            err("1// c{} 9223372036854775808").starts_with("Parse error at index 8 "),
            "{}",
            err("1// c{} 9223372036854775808")
        );
        for bad in [
            "x// c{} 1",
            "1/abc/ c{} 1",
            "1//x c{} 1",
            "1// c{a} 1",
            "1// c{a=%G1} 1",
            "1// c{a=b 1",
            "1// {a=b} 1",
            "1// c{} '",
            "1// c{} 'abc",
            "1// c{} inf",
            "1// c{} nan",
            "1// c{} 1.2.3",
            "1// c{} b64:!!",
            "1// c{} hex:0",
            "1// c{}1",
            "1// c{}",
            "1// c{} [1 2]",
        ] {
            assert!(err(bad).starts_with("Parse error at index"), "{bad}");
        }
    }
}
