//! Values as Warp 10 prints them on fetch (`reference/warp10-api.md` §1.4): LONG, DOUBLE in
//! Java `Double.toString` layout (always a `.` or an `E`, so a DOUBLE never comes back as a
//! LONG), `T`/`F`, `'percent-encoded'` STRING, `b64:` URL-safe unpadded BINARY.
//!
//! Text written for `/update` ([`render_update_value`]) must keep every value's bits. Warp 10
//! stores a DOUBLE written with at most 15 characters of `[0-9.+-]` as an exact decimal
//! (BigDecimal): the decimal is the same number, so the double read back has the same bits,
//! except for negative zero, which a decimal cannot hold. So `-0.0` is written `-0.0E0`.

use super::{Value, percent};
use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Renders a value as `/update` input that Warp 10 stores with the same bits (see the module
/// doc); everything but negative zero is written as fetch prints it.
pub fn render_update_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Double(d) if *d == 0.0 && d.is_sign_negative() => out.extend_from_slice(b"-0.0E0"),
        _ => render_value(out, v),
    }
}

/// Renders a value as Warp 10's fetch prints it, DOUBLEs stored as IEEE 754.
pub fn render_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Long(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::Double(d) => render_double(out, *d),
        Value::Bool(b) => out.push(if *b { b'T' } else { b'F' }),
        Value::Str(s) => {
            out.push(b'\'');
            percent::encode(out, s.as_bytes());
            out.push(b'\'');
        }
        Value::Bin(b) => {
            out.extend_from_slice(b"b64:");
            let start = out.len();
            out.resize(start + b.len().div_ceil(3) * 4, 0);
            let n = URL_SAFE_NO_PAD
                .encode_slice(b, &mut out[start..])
                .expect("buffer sized for base64 output");
            out.truncate(start + n);
        }
    }
}

/// Java `Double.toString` layout of the shortest decimal that reads back to the same bits:
/// plain notation for 1e-3 <= |d| < 1e7 (`100.0`, `0.001`), else `d.dddE±n` (`1.0E7`, `1.0E-4`).
pub fn render_double(out: &mut Vec<u8>, d: f64) {
    if d.is_nan() {
        return out.extend_from_slice(b"NaN");
    }
    if d.is_infinite() {
        return out.extend_from_slice(if d > 0.0 { b"Infinity" } else { b"-Infinity" });
    }
    if d == 0.0 {
        return out.extend_from_slice(if d.is_sign_negative() { b"-0.0" } else { b"0.0" });
    }
    let mut buf = ryu::Buffer::new();
    let (negative, digits, exp) = decompose(buf.format_finite(d).as_bytes());
    if negative {
        out.push(b'-');
    }
    if (-3..7).contains(&exp) {
        render_plain(out, &digits, exp);
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        out.extend_from_slice(itoa::Buffer::new().format(exp).as_bytes());
    }
}

/// How Warp 10 prints a DOUBLE stored as an exact decimal: `BigDecimal.stripTrailingZeros()
/// .toPlainString()`, plus `.0` when there is no fraction (`1.50` → `1.5`, `42.` → `42.0`,
/// `-0.0` → `0.0`). `d` is the double of such a decimal: at most 14 significant digits, so
/// the shortest digits that read back to `d` are the decimal's own digits.
pub fn render_plain_decimal(out: &mut Vec<u8>, d: f64) {
    if d == 0.0 {
        return out.extend_from_slice(b"0.0");
    }
    let mut buf = ryu::Buffer::new();
    let (negative, digits, exp) = decompose(buf.format_finite(d).as_bytes());
    if negative {
        out.push(b'-');
    }
    render_plain(out, &digits, exp);
}

/// Significant `digits` with decimal exponent `exp` (of the first digit) in plain notation,
/// always with a fraction: `1234.5`, `100.0`, `0.00012`.
fn render_plain(out: &mut Vec<u8>, digits: &[u8], exp: i32) {
    if exp < 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-exp - 1) as usize, b'0');
        out.extend_from_slice(digits);
        return;
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        out.extend_from_slice(digits);
        out.resize(out.len() + int_len - digits.len(), b'0');
        out.extend_from_slice(b".0");
    } else {
        out.extend_from_slice(&digits[..int_len]);
        out.push(b'.');
        out.extend_from_slice(&digits[int_len..]);
    }
}

/// Splits ryu's output (`123.45`, `1e16`, `1.5e-7`, `0.001`) into sign, significant digits
/// without leading or trailing zeros, and the decimal exponent of the first digit.
fn decompose(s: &[u8]) -> (bool, Vec<u8>, i32) {
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (mantissa, exp_part) = match s.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (
            &s[..i],
            std::str::from_utf8(&s[i + 1..])
                .ok()
                .and_then(|e| e.parse::<i32>().ok())
                .unwrap_or(0),
        ),
        None => (s, 0),
    };
    let point = mantissa.iter().position(|&b| b == b'.').unwrap_or(mantissa.len());
    let mut digits: Vec<u8> = mantissa.iter().copied().filter(|b| b.is_ascii_digit()).collect();
    let leading = digits.iter().take_while(|&&b| b == b'0').count();
    digits.drain(..leading);
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    let exp = point as i32 - 1 - leading as i32 + exp_part;
    (negative, digits, exp)
}

/// Parses a value token of fetch output, accepting only the forms Warp 10 prints.
pub fn parse_fetch_value(tok: &[u8]) -> Result<Value> {
    match tok {
        [] => bail!("empty value"),
        b"T" => return Ok(Value::Bool(true)),
        b"F" => return Ok(Value::Bool(false)),
        b"NaN" => return Ok(Value::Double(f64::NAN)),
        b"Infinity" => return Ok(Value::Double(f64::INFINITY)),
        b"-Infinity" => return Ok(Value::Double(f64::NEG_INFINITY)),
        _ => {}
    }
    if tok[0] == b'\'' {
        if tok.len() < 2 || tok[tok.len() - 1] != b'\'' {
            bail!("unterminated string value");
        }
        return Ok(Value::Str(
            percent::decode_str(&tok[1..tok.len() - 1]).context("string value")?,
        ));
    }
    if let Some(b64) = tok.strip_prefix(b"b64:") {
        return Ok(Value::Bin(
            URL_SAFE_NO_PAD.decode(b64).context("invalid b64: binary value")?,
        ));
    }
    if let Some(n) = parse_long(tok) {
        return Ok(Value::Long(n));
    }
    let numeric = tok.iter().all(|b| b.is_ascii_digit() || b"-.E".contains(b));
    if numeric && tok.iter().any(|b| *b == b'.' || *b == b'E') && tok.iter().any(u8::is_ascii_digit) {
        let s = std::str::from_utf8(tok).expect("checked ASCII");
        if let Ok(d) = s.parse::<f64>() {
            return Ok(Value::Double(d));
        }
    }
    bail!("invalid value {:?}", String::from_utf8_lossy(&tok[..tok.len().min(64)]))
}

/// `-?[0-9]+` into an i64; `None` if it is not that form or overflows.
pub fn parse_long(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        n = n.checked_mul(10)?;
        n = if neg { n.checked_sub(d)? } else { n.checked_add(d)? };
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f64) -> String {
        let mut out = Vec::new();
        render_double(&mut out, x);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_render_like_java() {
        for (x, s) in [
            (100.0, "100.0"),
            (2.71, "2.71"),
            (1.0e7, "1.0E7"),
            (1.0e-5, "1.0E-5"),
            (0.001, "0.001"),
            (9999999.5, "9999999.5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1.5e300, "1.5E300"),
            (5e-324, "4.9E-324"),
            (-123.456, "-123.456"),
            (12345.0, "12345.0"),
            (0.0123, "0.0123"),
            (f64::MAX, "1.7976931348623157E308"),
        ] {
            // Java prints two digits for the smallest subnormal; any text with the same bits will do.
            if x != 5e-324 {
                assert_eq!(d(x), s, "{x:e}");
            }
            for text in [s.to_string(), d(x)] {
                let back = match parse_fetch_value(text.as_bytes()).unwrap() {
                    Value::Double(v) => v,
                    v => panic!("{text} parsed as {v:?}"),
                };
                assert!(back.to_bits() == x.to_bits() || x.is_nan() && back.is_nan(), "{text}");
            }
        }
    }

    #[test]
    fn update_text_writes_negative_zero_with_an_exponent() {
        let update = |v: Value| {
            let mut out = Vec::new();
            render_update_value(&mut out, &v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(update(Value::Double(-0.0)), "-0.0E0");
        assert_eq!(update(Value::Double(0.0)), "0.0");
        assert_eq!(update(Value::Double(100.0)), "100.0");
        assert_eq!(update(Value::Long(-3)), "-3");
        match parse_fetch_value(b"-0.0E0").unwrap() {
            Value::Double(d) => assert!(d == 0.0 && d.is_sign_negative()),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn exact_decimals_print_plain() {
        for (input, printed) in [
            ("100.0", "100.0"),
            ("1.50", "1.5"),
            ("42.", "42.0"),
            ("-0.0", "0.0"),
            ("0.0", "0.0"),
            (".5", "0.5"),
            ("-2.250", "-2.25"),
            ("10000000.0", "10000000.0"),
            ("99999999999999.", "99999999999999.0"),
            ("0.0000000000001", "0.0000000000001"),
            ("0.00012", "0.00012"),
            ("-1234567.890123", "-1234567.890123"),
        ] {
            let mut out = Vec::new();
            render_plain_decimal(&mut out, input.parse().unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), printed, "{input}");
        }
    }

    #[test]
    fn fetch_values() {
        assert_eq!(parse_fetch_value(b"42").unwrap(), Value::Long(42));
        assert_eq!(
            parse_fetch_value(b"-9223372036854775808").unwrap(),
            Value::Long(i64::MIN)
        );
        assert!(parse_fetch_value(b"9223372036854775808").is_err());
        assert_eq!(parse_fetch_value(b"T").unwrap(), Value::Bool(true));
        assert_eq!(parse_fetch_value(b"''").unwrap(), Value::Str(String::new()));
        assert_eq!(parse_fetch_value(b"'a%20b'").unwrap(), Value::Str("a b".into()));
        assert_eq!(
            parse_fetch_value(b"b64:-_8AQQ").unwrap(),
            Value::Bin(vec![0xFB, 0xFF, 0, 0x41])
        );
        for bad in [
            &b"inf"[..],
            b"nan",
            b"1e5",
            b"'abc",
            b"'",
            b"true",
            b"b64:***",
            b"1.2.3",
            b"-",
            b"12a",
            b".",
        ] {
            assert!(parse_fetch_value(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn binary_and_string_render() {
        let mut out = Vec::new();
        render_value(&mut out, &Value::Bin(vec![0xFB, 0xFF, 0, 0x41]));
        out.push(b' ');
        render_value(&mut out, &Value::Str("é'x".into()));
        assert_eq!(out, b"b64:-_8AQQ '%C3%A9%27x'");
    }
}
