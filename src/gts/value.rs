//! Values as Warp 10 prints them on fetch (`docs/WARP10.md#values`): LONG, DOUBLE in
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

/// Appends the text of a number. A copy of unknown length becomes a call to `memcpy`, which
/// costs more than copying a few bytes: the usual lengths (short values, LONGs) are copied as
/// fixed-size blocks. (Decoding heldout to text: 20.3 -> 20.6 M points/CPU-s.)
#[inline(always)]
fn put_number(out: &mut Vec<u8>, text: &[u8]) {
    fn fixed<const N: usize>(out: &mut Vec<u8>, text: &[u8]) {
        out.extend_from_slice(&<[u8; N]>::try_from(text).expect("length checked"));
    }
    match text.len() {
        1 => fixed::<1>(out, text),
        2 => fixed::<2>(out, text),
        3 => fixed::<3>(out, text),
        4 => fixed::<4>(out, text),
        5 => fixed::<5>(out, text),
        6 => fixed::<6>(out, text),
        7 => fixed::<7>(out, text),
        8 => fixed::<8>(out, text),
        9 => fixed::<9>(out, text),
        10 => fixed::<10>(out, text),
        11 => fixed::<11>(out, text),
        12 => fixed::<12>(out, text),
        13 => fixed::<13>(out, text),
        16 => fixed::<16>(out, text),
        _ => out.extend_from_slice(text),
    }
}

/// Appends `n` in decimal. Sixteen-digit numbers (microsecond timestamps of 2001-2286) are
/// written eight digits at a time, straight into `out`: `itoa` writes two digits at a time
/// into its own buffer, and copying that out stalled on the just-written bytes (decoding
/// heldout to text: about +10 %).
#[inline]
pub fn put_i64(out: &mut Vec<u8>, n: i64) {
    if (1_000_000_000_000_000..10_000_000_000_000_000).contains(&n) {
        let n = n as u64;
        let mut both = [0u8; 16];
        both[..8].copy_from_slice(&eight_ascii((n / 100_000_000) as u32).to_le_bytes());
        both[8..].copy_from_slice(&eight_ascii((n % 100_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&both);
    } else {
        put_number(out, itoa::Buffer::new().format(n).as_bytes());
    }
}

/// The eight ASCII digits of `x` < 10^8, zero-padded, the first in the lowest byte: split
/// into 4 + 4, 2 + 2 and 1 + 1 digits in lanes of one word, dividing by multiplying.
#[inline]
fn eight_ascii(x: u32) -> u64 {
    let v = u64::from(x / 10_000) | u64::from(x % 10_000) << 32;
    // x * 10486 >> 20 is x / 100 for x < 10^4, and x * 103 >> 10 is x / 10 for x < 100.
    let q = ((v * 10486) >> 20) & 0x0000_007f_0000_007f;
    let v = q | (v - q * 100) << 16;
    let q = ((v * 103) >> 10) & 0x000f_000f_000f_000f;
    let v = q | (v - q * 10) << 8;
    v + 0x3030_3030_3030_3030
}

/// Renders a value as Warp 10's fetch prints it, DOUBLEs stored as IEEE 754.
pub fn render_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Long(n) => put_i64(out, *n),
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
    let mut buf = zmij::Buffer::new();
    let shortest = buf.format_finite(d).as_bytes();
    // zmij writes plain notation, with `.0` when there is no fraction, for 1e-5 <= |d| < 1e16:
    // on Java's plain range its text is Java's (checked against the general path by a test).
    if (1e-3..1e7).contains(&d.abs()) {
        return put_number(out, shortest);
    }
    render_java(out, &Decimal::of(shortest));
}

/// Java's layout of a decimal: plain for exponents -3 to 6, else scientific.
fn render_java(out: &mut Vec<u8>, dec: &Decimal) {
    if dec.negative {
        out.push(b'-');
    }
    let digits = dec.digits();
    if (-3..7).contains(&dec.exp) {
        render_plain(out, digits, dec.exp);
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        out.extend_from_slice(itoa::Buffer::new().format(dec.exp).as_bytes());
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
    let mut buf = zmij::Buffer::new();
    let dec = Decimal::of(buf.format_finite(d).as_bytes());
    if dec.negative {
        out.push(b'-');
    }
    render_plain(out, dec.digits(), dec.exp);
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

/// A shortest decimal split from zmij's output (`123.45`, `1e16`, `1.5e-7`, `0.001`): sign,
/// significant digits without leading or trailing zeros, and the decimal exponent of the first
/// digit. zmij writes at most 17 significant digits and 18 digit characters (`1.0E15` is
/// `1000000000000000.0`).
struct Decimal {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    exp: i32,
}

impl Decimal {
    fn of(s: &[u8]) -> Self {
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
        let mut dec = Decimal {
            negative,
            digits: [0; 24],
            len: 0,
            exp: 0,
        };
        let mut leading = 0;
        for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
            if b == b'0' && dec.len == 0 {
                leading += 1;
            } else {
                dec.digits[dec.len] = b;
                dec.len += 1;
            }
        }
        while dec.len > 0 && dec.digits[dec.len - 1] == b'0' {
            dec.len -= 1;
        }
        dec.exp = point as i32 - 1 - leading + exp_part;
        dec
    }

    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

/// Parses a value token of fetch output, accepting only the forms Warp 10 prints.
pub fn parse_fetch_value(tok: &[u8]) -> Result<Value> {
    match parse_common_number(tok) {
        Some(v) => Ok(v),
        None => parse_any_value(tok),
    }
}

/// Every form, [`parse_common_number`]'s included.
fn parse_any_value(tok: &[u8]) -> Result<Value> {
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

/// Powers of ten that are exact doubles (all up to 10^22).
const POW10: [f64; 23] = {
    let mut p = [1.0; 23];
    let mut i = 1;
    while i < p.len() {
        p[i] = p[i - 1] * 10.0;
        i += 1;
    }
    p
};

/// The values of nearly every line, in one pass: `-?[0-9]+` as a LONG, and `-?[0-9]+.[0-9]+`
/// whose digits form an integer `m` of at most 2^53 as the DOUBLE `m / 10^fraction_digits`.
/// Both operands are exact, so the one correctly rounded division gives the double nearest to
/// the text, which is what `str::parse` gives. None for anything else (the general path).
#[inline(always)]
pub(super) fn parse_common_number(tok: &[u8]) -> Option<Value> {
    parse_common_number_prefix(tok).and_then(|(v, len)| (len == tok.len()).then_some(v))
}

/// The number of [`parse_common_number`]'s forms that starts `text`, and its length: the
/// caller checks what follows (a whole token when it is the end, a line when it is `\n`).
#[inline(always)]
pub(super) fn parse_common_number_prefix(text: &[u8]) -> Option<(Value, usize)> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let (int, int_len) = digit_run(digits);
    let Some(frac) = digits[int_len..].strip_prefix(b".") else {
        let len = usize::from(neg) + int_len;
        // 19 digits may overflow: the checked path.
        return match int_len {
            1..=18 => Some((Value::Long(if neg { -(int as i64) } else { int as i64 }), len)),
            _ => parse_long(&text[..len]).map(|n| (Value::Long(n), len)),
        };
    };
    let (f, frac_len) = digit_run(frac);
    if int_len == 0 || frac_len == 0 || int_len + frac_len > 19 {
        return None;
    }
    // At most 19 digits: no overflow.
    let m = int * 10u64.pow(frac_len as u32) + f;
    if m > 1 << 53 {
        return None;
    }
    let x = m as f64 / POW10[frac_len];
    Some((
        Value::Double(if neg { -x } else { x }),
        usize::from(neg) + int_len + 1 + frac_len,
    ))
}

/// The value and length of the run of ASCII digits that starts `s`, at most 19 digits long
/// (the value then fits a u64). Eight bytes at a time: timestamps have 16 digits.
#[inline(always)]
pub(super) fn digit_run(s: &[u8]) -> (u64, usize) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (mut value, mut n) = (0u64, 0usize);
    while n < 16
        && let Some(chunk) = s.get(n..n + 8)
    {
        let chunk = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // The high bit of a byte of `minus_zero` is set below '0' (and from 0xb0), that of
        // `above` above '9'. Carries and borrows only travel to higher bytes, so the lowest
        // flag, the first non-digit, is exact.
        let minus_zero = chunk.wrapping_sub(ONES * b'0' as u64);
        let above = chunk.wrapping_add(ONES * (0x7f - b'9') as u64) | chunk;
        let k = (((minus_zero | above) & (ONES * 0x80)).trailing_zeros() / 8) as usize;
        if k == 0 {
            return (value, n);
        }
        // The first k bytes of `minus_zero` are digit values (no borrow below them); moved to
        // the top, the zero bytes left below read as leading zeros.
        let digits = minus_zero << (8 * (8 - k));
        value = value * 10u64.pow(k as u32) + eight_digits(digits);
        n += k;
        if k < 8 {
            return (value, n);
        }
    }
    while n < 19
        && let Some(d) = s.get(n).map(|b| b.wrapping_sub(b'0'))
        && d <= 9
    {
        value = value * 10 + u64::from(d);
        n += 1;
    }
    (value, n)
}

/// The number written by eight decimal digit values, one per byte, the first in the lowest
/// byte (three multiply-and-shift steps pair them up: 2, 4, then 8 digits).
#[inline]
fn eight_digits(v: u64) -> u64 {
    let v = (v.wrapping_mul(10 << 8 | 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_ffff_0000_ffff;
    v.wrapping_mul(10_000 << 32 | 1) >> 32
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
    // Up to 18 digits cannot overflow: one pass without checked arithmetic (timestamps have 16).
    if digits.len() <= 18 {
        let mut n = 0i64;
        for &b in digits {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + i64::from(d);
        }
        return Some(if neg { -n } else { n });
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

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Doubles of every kind: any bits, short decimals (the common case), and values on
        /// both sides of the 1e-3 and 1e7 layout bounds.
        fn double() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<u64>().prop_map(f64::from_bits),
                (any::<i32>(), 0u32..10).prop_map(|(m, d)| f64::from(m) / 10f64.powi(d as i32)),
                (
                    prop_oneof![Just(1e-3), Just(1e7), Just(1e-5), Just(1e16)],
                    -3i64..=3,
                    any::<bool>()
                )
                    .prop_map(|(b, ulps, neg): (f64, i64, bool)| {
                        let x = f64::from_bits((b.to_bits() as i64 + ulps) as u64);
                        if neg { -x } else { x }
                    }),
            ]
        }

        proptest! {
            /// The plain-range shortcut writes what the general layout writes, from the digits
            /// ryu (the renderer before zmij) gives.
            #[test]
            fn render_double_matches_the_general_layout(x in double()) {
                prop_assume!(x.is_finite() && x != 0.0);
                let mut fast = Vec::new();
                render_double(&mut fast, x);
                let mut general = Vec::new();
                render_java(&mut general, &Decimal::of(ryu::Buffer::new().format_finite(x).as_bytes()));
                prop_assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(general).unwrap());
            }

            /// Integers are written as `to_string` writes them, on both sides of the 16-digit
            /// range that is written eight digits at a time, and at its edges.
            #[test]
            fn integers_render_as_to_string(
                n in prop_oneof![
                    any::<i64>(),
                    -20_000_000_000_000_000i64..20_000_000_000_000_000,
                    prop::sample::select(vec![
                        0, 999_999_999_999_999, 1_000_000_000_000_000, 1_000_000_099_999_999,
                        9_999_999_999_999_999, 10_000_000_000_000_000, -1_000_000_000_000_000, i64::MIN, i64::MAX,
                    ]),
                ]
            ) {
                let mut out = b"x".to_vec();
                put_i64(&mut out, n);
                prop_assert_eq!(String::from_utf8(out).unwrap(), format!("x{n}"));
            }

            /// Eight bytes at a time read the digit run as one byte at a time does, whatever
            /// byte ends it and wherever it falls in a chunk.
            #[test]
            fn digit_runs_read_as_byte_by_byte(
                digits in "[0-9]{0,24}",
                end in prop_oneof![any::<u8>(), prop::sample::select(b"/:.- \x00\x7f\x80\xb0\xba\xff".to_vec())],
                tail in "[0-9]{0,9}",
            ) {
                let s = [digits.as_bytes(), &[end], tail.as_bytes()].concat();
                let n = s.iter().take(19).take_while(|b| b.is_ascii_digit()).count();
                let value = s[..n].iter().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
                prop_assert_eq!(digit_run(&s), (value, n));
                prop_assert_eq!(digit_run(&s[..digits.len()]), digit_run(digits.as_bytes()));
            }

            /// The one-pass number parser agrees with the general one, bit for bit, on every
            /// text it accepts, and accepts the texts doubles and longs are rendered as.
            #[test]
            fn common_numbers_parse_like_the_general_path(
                tok in prop_oneof![
                    "-?[0-9]{0,21}\\.?[0-9]{0,21}",
                    "[-0-9.E]{1,12}",
                    double().prop_map(|x| { let mut o = Vec::new(); render_double(&mut o, x); String::from_utf8(o).unwrap() }),
                    (double(), 0usize..12).prop_map(|(x, p)| format!("{x:.p$}")),
                    any::<i64>().prop_map(|n| n.to_string()),
                ]
            ) {
                let general = parse_any_value(tok.as_bytes());
                match parse_common_number(tok.as_bytes()) {
                    Some(Value::Double(x)) => match general {
                        Ok(Value::Double(y)) => prop_assert_eq!(x.to_bits(), y.to_bits(), "{}", tok),
                        other => prop_assert!(false, "{tok}: {x:?} vs {other:?}"),
                    },
                    Some(v) => prop_assert_eq!(Some(v), general.ok()),
                    None => {}
                }
            }
        }

        proptest! {
            /// The unchecked path for up to 18 digits agrees with exact arithmetic.
            #[test]
            fn longs_parse_exactly(
                tok in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "-?[0-9]{0,20}", "-?[0-9]{1,5}[^0-9][0-9]{0,3}"]
            ) {
                // Warp 10 never prints more than 19 digits, leading zeros or not.
                let digits = tok.trim_start_matches('-').len();
                let exact = tok
                    .parse::<i128>()
                    .ok()
                    .filter(|_| !tok.starts_with('+') && digits <= 19)
                    .and_then(|n| i64::try_from(n).ok());
                prop_assert_eq!(parse_long(tok.as_bytes()), exact, "{}", tok);
            }
        }

        #[test]
        fn common_numbers_take_the_short_path() {
            for (tok, v) in [
                ("42", Value::Long(42)),
                ("-0.0", Value::Double(-0.0)),
                ("35.123456", Value::Double(35.123456)),
                ("900719925474099.2", Value::Double(900719925474099.2)),
                ("0.000000000000000001", Value::Double(1e-18)),
            ] {
                let got = parse_common_number(tok.as_bytes());
                assert_eq!(format!("{got:?}"), format!("{:?}", Some(v)), "{tok}");
            }
            for tok in [
                "1.",
                ".5",
                "1E5",
                "1.5E-3",
                "900719925474099.3",
                "0.0000000000000000001",
                "--1",
                "1.2.3",
            ] {
                assert_eq!(parse_common_number(tok.as_bytes()), None, "{tok}");
            }
        }
    }
}
