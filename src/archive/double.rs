//! Lossless decimal scaling of doubles. Chosen over storing every non-decimal value as a raw
//! double (ALP-style exceptions) because real metrics carry float noise (`51.846000000000004`):
//! on real CloudWatch series the design measurements gave 1.86 bytes per point against 2.78.
//!
//! A series' doubles get one decimal exponent `d`; each value `x` becomes the integer mantissa
//! `m = round(x·10^d)` plus a correction `c = bits(x) − bits(m / 10^d)` (wrapping, so it is exact
//! for every bit pattern). Monitoring values are short decimals, so `c` is almost always 0 and
//! the mantissas delta-code well. Values without a usable mantissa (NaN, ±Inf, -0.0, out of
//! the exactly representable range) or with a large correction are escaped: correction code 0
//! and the raw 64 bits in a side stream.

use super::bytes::{Reader, put_uvarint, unzigzag, uvarint_len, zigzag};
use anyhow::{Result, bail};

/// Largest exponent: 10^d must be exact in an f64 (true up to 10^22).
pub const MAX_EXP: u8 = 18;
const POW10: [f64; MAX_EXP as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
];
/// Mantissas stay below 2^53 so that `m as f64` is exact.
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0;
/// Corrections at or above this (zigzagged) cost more than the raw bits: escape instead.
const ESCAPE_ABOVE: u64 = 1 << 48;
/// Values sampled to choose the exponent.
const SAMPLES: usize = 256;

fn mantissa(x: f64, exp: u8) -> Option<i64> {
    let scaled = (x * POW10[exp as usize]).round();
    (scaled.abs() < MAX_MANTISSA).then_some(scaled as i64)
}

fn rebuild(m: i64, exp: u8) -> f64 {
    m as f64 / POW10[exp as usize]
}

/// The exponent that minimises the estimated size of a sample of the values: each extra
/// decimal digit costs every value ~3.3 bits of mantissa, and each value that the exponent
/// does not represent exactly costs its correction (float noise such as `92.35799999999999`
/// next to `92.358`: one byte) or an escape (9 bytes). So a few noisy values get a correction
/// each instead of dragging the whole series to 14 digits.
pub fn choose_exponent(values: &[f64]) -> u8 {
    let step = values.len().div_ceil(SAMPLES).max(1);
    let sample: Vec<f64> = values.iter().step_by(step).copied().collect();
    let exact = |x: f64, d: u8| mantissa(x, d).is_some_and(|m| rebuild(m, d).to_bits() == x.to_bits());
    let needed: Vec<Option<u8>> = sample.iter().map(|&x| (0..=MAX_EXP).find(|&d| exact(x, d))).collect();
    let cost = |d: u8| -> u64 {
        let digits = sample.len() as u64 * u64::from(d) * 33 / 10;
        let misses: u64 = sample
            .iter()
            .zip(&needed)
            .filter(|(_, need)| need.is_none_or(|n| n > d))
            .map(|(&x, _)| match correction(x, d) {
                Some((_, code)) => 8 * uvarint_len(code) as u64,
                None => 72,
            })
            .sum();
        digits + misses
    };
    let mut candidates: Vec<u8> = needed.iter().flatten().copied().collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates.into_iter().min_by_key(|&d| (cost(d), d)).unwrap_or(0)
}

/// The mantissa of `x` at `exp` and its correction code (zigzagged bit difference + 1), or
/// None when `x` must be escaped.
fn correction(x: f64, exp: u8) -> Option<(i64, u64)> {
    let m = mantissa(x, exp)?;
    let c = zigzag((x.to_bits() as i64).wrapping_sub(rebuild(m, exp).to_bits() as i64));
    (c < ESCAPE_ABOVE).then(|| (m, c + 1))
}

/// Appends the mantissas of `values` to `mantissas` and writes their corrections and escapes.
pub fn split(values: &[f64], exp: u8, mantissas: &mut Vec<i64>, corr: &mut Vec<u8>, esc: &mut Vec<u8>) {
    let mut prev = 0i64;
    for &x in values {
        let (m, code) = correction(x, exp).unwrap_or_else(|| {
            esc.extend_from_slice(&x.to_bits().to_le_bytes());
            (prev, 0)
        });
        mantissas.push(m);
        put_uvarint(corr, code);
        prev = m;
    }
}

/// Inverse of `split` for one value.
pub fn join(m: i64, exp: u8, corr: &mut Reader, esc: &mut Reader) -> Result<f64> {
    if exp > MAX_EXP {
        bail!("double exponent {exp} is out of range");
    }
    match corr.uvarint()? {
        0 => Ok(f64::from_bits(esc.u64_le()?)),
        code => {
            let c = unzigzag(code - 1);
            Ok(f64::from_bits((rebuild(m, exp).to_bits() as i64).wrapping_add(c) as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[f64]) -> (u8, usize) {
        let exp = choose_exponent(values);
        let (mut ms, mut corr, mut esc) = (Vec::new(), Vec::new(), Vec::new());
        split(values, exp, &mut ms, &mut corr, &mut esc);
        let (mut c, mut e) = (Reader::new(&corr, "corr"), Reader::new(&esc, "esc"));
        for (&x, &m) in values.iter().zip(&ms) {
            assert_eq!(join(m, exp, &mut c, &mut e).unwrap().to_bits(), x.to_bits(), "{x:?}");
        }
        c.finish().unwrap();
        e.finish().unwrap();
        (exp, esc.len() / 8)
    }

    #[test]
    fn short_decimals_need_no_correction() {
        assert_eq!(round_trip(&[12.34, 0.5, 100.0, -3.01]), (2, 0));
        assert_eq!(round_trip(&[1.0, 2.0, 3.0]), (0, 0));
    }

    #[test]
    fn float_artefacts_cost_a_small_correction() {
        let (exp, escapes) = round_trip(&[51.846, 51.846000000000004, 12.5]);
        assert_eq!((exp, escapes), (3, 0));
    }

    #[test]
    fn a_few_noisy_values_do_not_raise_the_exponent() {
        // 92.35799999999999 needs 14 digits; with 3 it costs a one-ULP correction.
        let mut values: Vec<f64> = (0..1000).map(|i| f64::from(i % 97) + 0.358).collect();
        for v in values.iter_mut().step_by(50) {
            *v = f64::from_bits(v.to_bits() - 1);
        }
        assert_eq!(values[0].to_string(), "0.35799999999999993");
        assert_eq!(round_trip(&values), (3, 0));
        // Values that all need more digits do get them.
        assert_eq!(round_trip(&[0.123456, 1.000001, 3.5]).0, 6);
    }

    #[test]
    fn specials_are_escaped_exactly() {
        let specials = [
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 2.0,
            5e-324,
            f64::MAX,
            f64::MIN,
            1e300,
            -1e-300,
            std::f64::consts::PI,
        ];
        let (_, escapes) = round_trip(&specials);
        assert!(escapes >= 7, "{escapes}");
    }
}
