//! Integer columns of the columnar format: timestamps, longs, double mantissas, elevations.
//!
//! A column is written in one of two codings, named by a mode byte in the block's meta section:
//!
//! * planes (every version): the first value as a varint, then the residuals (delta or
//!   delta-of-delta, divided by their common divisor) zigzagged in nibble planes, left for the
//!   block's zstd to entropy-code together with the columns of the other series;
//! * pco (from version 2): the values as one pcodec standalone file (length-prefixed). pcodec
//!   finds the divisor itself and entropy-codes the residuals (binning + ANS); the delta order
//!   is the first for timestamps, chosen by `delta_spec` for values (the file records it, so
//!   the decoder needs no choice of its own). With it
//!   (and the double exponent fix) archives of the bench data are 4-10 % smaller (D1 1.47 ->
//!   1.41 B/pt, NAB look-alike 2.87 -> 2.59), at a cost in encode CPU; its fixed cost of a few
//!   dozen bytes keeps it to columns of at least `PCO_MIN` values.
//!
//! The decoder checks the mode against the archive version and the value count against what
//! the series announced, so a column never yields more or fewer values than expected.

use super::bytes::{Reader, put_ivarint, put_uvarint, unzigzag, uvarint_len, zigzag};
use anyhow::{Context, Result, bail};
use strength_reduce::StrengthReducedU64;

const MODE_DELTA: u8 = 0;
const MODE_DOD: u8 = 1;
const MODE_DIVISOR: u8 = 2;
const MODE_PCO: u8 = 4;
/// Shortest column written with pco. Below it pco's fixed work per column (histograms, the
/// search of a delta order) costs more CPU than it saves bytes: from 128 to 512, `all` of
/// 24 x 1h of D1 (360-point series) took 3.1 CPU-s instead of 4.3 for 0.26 % more bytes, and
/// the real series of scripts/realdata.py came out 0.55 % smaller.
const PCO_MIN: usize = 512;
/// pco's compression level. Measured by scripts/bench.sh: level 8 (its default) is 1-2 %
/// smaller than 5 but costs 1.4-1.6x the encode CPU; below 5 sizes grow 4-6 %.
const PCO_LEVEL: usize = 5;

/// Writes `vals` to `out`, the mode (and its parameters) to `meta`.
pub fn put(meta: &mut Vec<u8>, out: &mut Vec<u8>, vals: &[i64]) -> Result<()> {
    put_with(meta, out, vals, delta_spec)
}

/// [`put`] for timestamps, whose best delta order is the first: pco's search of it compresses
/// a sample once per candidate order, a tenth of the encode CPU of the held-out bench data,
/// and picked the first order on every column of the bench data (archives byte for byte the
/// same with and without the search).
pub fn put_timestamps(meta: &mut Vec<u8>, out: &mut Vec<u8>, vals: &[i64]) -> Result<()> {
    put_with(meta, out, vals, |_| pco::DeltaSpec::TryConsecutive(1))
}

fn put_with(
    meta: &mut Vec<u8>,
    out: &mut Vec<u8>,
    vals: &[i64],
    delta: impl FnOnce(&[i64]) -> pco::DeltaSpec,
) -> Result<()> {
    if vals.len() >= PCO_MIN {
        let config = pco::ChunkConfig::default()
            .with_compression_level(PCO_LEVEL)
            .with_delta_spec(delta(vals));
        let bytes = pco::standalone::simple_compress(vals, &config).context("pco compression of a column")?;
        meta.push(MODE_PCO);
        put_uvarint(out, bytes.len() as u64);
        out.extend_from_slice(&bytes);
    } else {
        put_planes(meta, out, vals);
    }
    Ok(())
}

/// Stretches of a value column its delta order is chosen on, spread evenly from its start to
/// its end as pco's own choice does (a column's start alone misled it: a counter whose newest
/// 300 of 8,640 points were flat, as when a service stops, was written with no delta at 3.37
/// bytes per point instead of 2.07).
const STRETCHES: usize = 4;
/// Consecutive values in each stretch.
const STRETCH_LEN: usize = 50;
/// Highest delta order tried (pco's search goes to 7; no column of the bench data went past 2).
const MAX_DELTA_ORDER: usize = 3;
/// How far back a sample value is looked for among the earlier ones of its stretch.
const RECUR_WINDOW: usize = 64;
/// A sample with more than one value in this many recurring goes to pco's own search.
const RECUR_ONE_IN: usize = 20;
/// Runs the sorted residuals of a sample are cut into to estimate their cost.
const SPREAD_BINS: usize = 8;

/// The delta order of a value column. pco's own search (`Auto`) compresses a sample once per
/// candidate, lookback deltas included, which cost 126 ms where the first order given cost
/// 70 ms on 800 counter columns of 2,158 values. Lookback deltas only pay when values recur
/// further back than the previous one, and so do pco's bins on few distinct values: a column
/// whose sample shows that is left to pco's search; for the others the order whose residuals
/// (taken within each stretch) spread least is taken. Archives against the previous choice (the
/// column's first 200 values, bits of the distances from their median): D1 -1.29 %, D3 -0.78 %,
/// small -0.33 %, D4 the same, heldout -0.004 %, the real and NAB look-alike series of
/// scripts/bench.sh byte for byte the same.
fn delta_spec(vals: &[i64]) -> pco::DeltaSpec {
    let mut stretches = stretches(vals);
    let sample_len: usize = stretches.iter().map(Vec::len).sum();
    let recurring: usize = stretches
        .iter()
        .map(|s| {
            (2..s.len())
                .filter(|&i| s[i] != s[i - 1] && s[i.saturating_sub(RECUR_WINDOW)..i - 1].contains(&s[i]))
                .count()
        })
        .sum();
    if recurring * RECUR_ONE_IN > sample_len {
        return pco::DeltaSpec::Auto;
    }
    let mut best = (spread(&stretches, sample_len), 0);
    for order in 1..=MAX_DELTA_ORDER {
        for s in &mut stretches {
            *s = s.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
        }
        best = best.min((spread(&stretches, sample_len), order));
    }
    match best.1 {
        0 => pco::DeltaSpec::NoOp,
        order => pco::DeltaSpec::TryConsecutive(order),
    }
}

// Only columns written with pco get a delta order, and they hold every stretch apart.
const _: () = assert!(PCO_MIN >= STRETCHES * STRETCH_LEN);

/// `STRETCHES` runs of `STRETCH_LEN` values, the first at the column's start and the last at
/// its end (`vals` holds at least `PCO_MIN`).
fn stretches(vals: &[i64]) -> Vec<Vec<i64>> {
    let stride = (vals.len() - STRETCH_LEN) / (STRETCHES - 1);
    (0..STRETCHES)
        .map(|i| vals[i * stride..i * stride + STRETCH_LEN].to_vec())
        .collect()
}

/// Estimated bits of the residuals of every stretch, scaled to `n` values (higher orders have
/// fewer residuals in the same sample). Like pco's bins, which span the whole column, the
/// sorted residuals are cut into `SPREAD_BINS` runs of equal count, each costing its width in
/// bits per value: residuals that drift along the column are wide, a flat stretch's zeros are a
/// narrow run of their own whatever the others are.
fn spread(stretches: &[Vec<i64>], n: usize) -> u64 {
    let mut sorted = stretches.concat();
    if sorted.is_empty() {
        return 0;
    }
    sorted.sort_unstable();
    let run = sorted.len().div_ceil(SPREAD_BINS);
    let bits: u64 = sorted
        .chunks(run)
        .map(|c| c.len() as u64 * u64::from(64 - c[c.len() - 1].abs_diff(c[0]).leading_zeros()))
        .sum();
    bits * n as u64 / sorted.len() as u64
}

/// Reads a column of `n` values written by `put` into `out` (cleared first). `version` is the
/// archive's format version.
pub fn get(meta: &mut Reader, r: &mut Reader, n: usize, out: &mut Vec<i64>, version: u8) -> Result<()> {
    match meta.u8()? {
        mode @ 0..=3 => get_planes(mode, meta, r, n, out),
        MODE_PCO if version >= 2 => {
            let len = r.len(r.remaining())?;
            let bytes = r.take(len)?;
            out.clear();
            out.resize(n, 0);
            let progress = pco::standalone::simple_decompress_into(bytes, out).context("pco column is corrupt")?;
            if progress.n_processed != n || !progress.finished {
                bail!("pco column holds another number of values than the {n} announced");
            }
            Ok(())
        }
        mode => bail!("unknown integer coding mode {mode}"),
    }
}

/// Residual `i` of `vals` in a mode: the first value as is, then deltas, or (delta-of-delta)
/// from the third value on, differences of consecutive deltas.
fn residuals(vals: &[i64], mode: u8) -> impl Iterator<Item = i64> + '_ {
    let (mut prev, mut prev_d) = (0i64, 0i64);
    vals.iter().enumerate().map(move |(i, &v)| {
        let d = v.wrapping_sub(prev);
        let r = if mode & MODE_DOD != 0 && i >= 2 {
            d.wrapping_sub(prev_d)
        } else {
            d
        };
        prev = v;
        prev_d = d;
        r
    })
}

/// A column's divisor, for the test of whether it divides a residual and the quotient of one it
/// divides, by multiplication (`strength_reduce`): the residuals of a column are nearly all
/// multiples of its divisor, and a 64-bit division each (Euclid's remainders, then the quotient)
/// was about a tenth of `all`'s CPU with 1-hour segments.
#[derive(Clone, Copy)]
struct ExactDivisor(StrengthReducedU64);

impl ExactDivisor {
    /// `d` must not be 0.
    fn new(d: u64) -> ExactDivisor {
        ExactDivisor(StrengthReducedU64::new(d))
    }

    fn divides(self, a: u64) -> bool {
        a % self.0 == 0
    }

    /// `r / d` for an `r` that `d` divides (wrapping, as `i64::MIN / 1` must).
    fn quotient(self, r: i64) -> i64 {
        let q = (r.unsigned_abs() / self.0) as i64;
        if r < 0 { q.wrapping_neg() } else { q }
    }
}

/// The greatest common divisor of the magnitudes of `rs` (0 if all are 0), computed by
/// a gcd step only when a value is not a multiple of the divisor found so far.
fn common_divisor(rs: impl Iterator<Item = i64>) -> u64 {
    let mut g = 0u64;
    let mut exact = None::<ExactDivisor>;
    for r in rs {
        let a = r.unsigned_abs();
        if exact.is_some_and(|d| d.divides(a)) {
            continue;
        }
        g = num_integer::gcd(g, a);
        if g == 1 {
            break;
        }
        exact = (g != 0).then(|| ExactDivisor::new(g));
    }
    g
}

/// Writes `vals` as zigzag varints of residuals divided by their common divisor, in the mode
/// (delta or delta-of-delta) that takes fewer bytes: delta suits gauges, delta-of-delta
/// counters and timestamps; the divisor catches page-sized counters and millisecond
/// timestamps in microsecond units. The mode byte and divisor go to `meta`.
fn put_planes(meta: &mut Vec<u8>, out: &mut Vec<u8>, vals: &[i64]) {
    let coding = |mode: u8| {
        let g = common_divisor(residuals(vals, mode).skip(1));
        let g = if g > 1 && g <= i64::MAX as u64 { g as i64 } else { 1 };
        let d = ExactDivisor::new(g as u64);
        let cost: usize = residuals(vals, mode)
            .enumerate()
            .map(|(i, r)| uvarint_len(zigzag(if i == 0 { r } else { d.quotient(r) })))
            .sum();
        (cost, mode, g)
    };
    let (_, mode, g) = coding(MODE_DELTA).min(coding(MODE_DOD));
    let d = ExactDivisor::new(g as u64);
    meta.push(mode | if g > 1 { MODE_DIVISOR } else { 0 });
    if g > 1 {
        put_uvarint(meta, g as u64);
    }
    // The first value as a varint, the others (small residuals) zigzagged in fixed-width
    // nibble planes, two values per byte: zstd then codes each plane with its own statistics
    // (low nibbles are noise, high ones nearly constant), and pairs of small residuals form
    // one literal. Both beat varints.
    let mut rs = residuals(vals, mode);
    let Some(first) = rs.next() else { return };
    put_ivarint(out, first);
    let rest: Vec<u64> = rs.map(|r| zigzag(d.quotient(r))).collect();
    let width = rest
        .iter()
        .map(|&z| 16 - z.leading_zeros() as usize / 4)
        .max()
        .unwrap_or(0);
    out.push(width as u8);
    for plane in 0..width {
        out.extend(rest.chunks(2).map(|pair| {
            let nib = |z: u64| (z >> (4 * plane)) as u8 & 15;
            nib(pair[0]) | pair.get(1).map_or(0, |&z| nib(z) << 4)
        }));
    }
}

fn get_planes(mode: u8, meta: &mut Reader, r: &mut Reader, n: usize, out: &mut Vec<i64>) -> Result<()> {
    let g = if mode & MODE_DIVISOR != 0 {
        match meta.uvarint()? {
            g @ 2..=0x7fff_ffff_ffff_ffff => g as i64,
            g => bail!("invalid integer divisor {g}"),
        }
    } else {
        1
    };
    out.clear();
    if n == 0 {
        return Ok(());
    }
    let first = r.ivarint()?;
    let width = r.u8()? as usize;
    if width > 16 {
        bail!("integer plane width {width} is out of range");
    }
    let plane_len = (n - 1).div_ceil(2);
    let planes = r.take(plane_len.checked_mul(width).context("integer column too large")?)?;
    // Plane by plane into `out` (value i + 1 from nibble i), then the residuals undone in place.
    out.resize(1 + 2 * plane_len, 0);
    if plane_len > 0 {
        for (p, plane) in planes.chunks_exact(plane_len).enumerate() {
            let shift = 4 * p;
            for (pair, &byte) in out[1..].chunks_exact_mut(2).zip(plane) {
                pair[0] |= i64::from(byte & 15) << shift;
                pair[1] |= i64::from(byte >> 4) << shift;
            }
        }
    }
    out.truncate(n);
    out[0] = first;
    let (mut prev, mut prev_d) = (first, first);
    for (i, v) in out.iter_mut().enumerate().skip(1) {
        let x = unzigzag(*v as u64).wrapping_mul(g);
        let d = if mode & MODE_DOD != 0 && i >= 2 {
            prev_d.wrapping_add(x)
        } else {
            x
        };
        prev = prev.wrapping_add(d);
        prev_d = d;
        *v = prev;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(vals: &[i64]) -> (u8, usize) {
        let (mut meta, mut out) = (Vec::new(), Vec::new());
        put(&mut meta, &mut out, vals).unwrap();
        let (mut m, mut r) = (Reader::new(&meta, "meta"), Reader::new(&out, "col"));
        let mut back = Vec::new();
        get(&mut m, &mut r, vals.len(), &mut back, 2).unwrap();
        assert_eq!(back, vals);
        m.finish().unwrap();
        r.finish().unwrap();
        (meta[0], out.len())
    }

    #[test]
    fn short_columns_use_planes_and_long_ones_pco() {
        let counter: Vec<i64> = (0..1000).map(|i| (1 << 40) + i * i * 4096).collect();
        assert_eq!(round_trip(&counter[..PCO_MIN - 1]).0 & MODE_PCO, 0);
        assert_eq!(round_trip(&counter).0, MODE_PCO);
        let extremes: Vec<i64> = (0..PCO_MIN + 300).map(|i| [i64::MIN, i64::MAX, 0, -1][i % 4]).collect();
        round_trip(&extremes);
        round_trip(&extremes[..5]);
        round_trip(&[]);
    }

    /// A reproducible stream of pseudo-random numbers (xorshift64).
    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Value columns: recurring values go to pco's own search (lookback, bins), the others to
    /// the delta order whose residuals spread least.
    #[test]
    fn value_columns_get_the_delta_order_of_their_shape() {
        let mut x = xorshift(0x2545_f491_4f6c_dd1d);
        let mut noise = move || (x() % 1000) as i64;
        let n = PCO_MIN as i64;
        let order = |vals: &[i64]| format!("{:?}", delta_spec(vals));
        let iid: Vec<i64> = (0..n).map(|_| 1_000_000_000_000 + noise() * 1000 + noise()).collect();
        assert_eq!(order(&iid), "NoOp");
        let mut c = 0;
        let counter: Vec<i64> = (0..n).map(|_| (c += 5_000 + noise(), c).1).collect();
        assert_eq!(order(&counter), "TryConsecutive(1)");
        let accelerating: Vec<i64> = (0..n).map(|i| i * i * 4096 + noise()).collect();
        assert_eq!(order(&accelerating), "TryConsecutive(2)");
        let cubic: Vec<i64> = (0..n).map(|i| i * i * i * 1000 + noise() / 100).collect();
        assert_eq!(order(&cubic), "TryConsecutive(3)");
        let periodic: Vec<i64> = (0..n)
            .map(|i| [-58_000_000, 173_000_000, -57_000_000, 172_000_000][i as usize % 4])
            .collect();
        assert_eq!(order(&periodic), "Auto");
        let few_levels: Vec<i64> = (0..n).map(|_| [0, 10, 20, 30, 40][noise() as usize % 5]).collect();
        assert_eq!(order(&few_levels), "Auto");
        for vals in [&iid, &counter, &accelerating, &cubic, &periodic, &few_levels] {
            assert_eq!(round_trip(vals).0, MODE_PCO);
        }
    }

    /// The delta order is chosen on stretches from a column's start to its end (newest point
    /// first, as fetched), and a stretch unlike the others does not decide it.
    #[test]
    fn the_delta_order_looks_along_the_whole_column() {
        let mut x = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut noise = move || (x() % 100_000) as i64;
        let n = 8640;
        let order = |vals: &[i64]| format!("{:?}", delta_spec(vals));
        // Counters, newest value first, that move where `moving` says and are flat elsewhere.
        let mut counter = |moving: &dyn Fn(usize) -> bool| -> Vec<i64> {
            let mut c = 1_000_000_000_000_i64;
            (0..n)
                .map(|i| {
                    if moving(i) {
                        c -= 1_000 + noise();
                    }
                    c
                })
                .collect()
        };
        // One that stopped 300 points ago (flat at the column's start), one that started 300
        // points before the segment's end (flat at its end).
        let stopped = counter(&|i| i >= 300);
        let started = counter(&|i| i < n - 300);
        assert_eq!(order(&stopped), "TryConsecutive(1)");
        assert_eq!(order(&started), "TryConsecutive(1)");
        // A counter whose rate drifts along the column: its deltas do not stay in one range, so
        // pco's bins, which span the column, pay for the drift unless deltas of deltas are taken.
        let mut c = 1_000_000_000_000_i64;
        let drifting: Vec<i64> = (0..n)
            .map(|i| {
                let rate = 8_000_000.0 + 3_000_000.0 * (std::f64::consts::TAU * i as f64 / n as f64).sin();
                c -= rate as i64 + 2 * noise();
                c
            })
            .collect();
        assert_eq!(order(&drifting), "TryConsecutive(2)");
    }

    use proptest::prelude::*;

    proptest! {
        /// Columns too short for pco, of every shape: any bits, small gauges, counters,
        /// multiples of a divisor; odd and even lengths.
        #[test]
        fn plane_columns_round_trip(
            vals in proptest::collection::vec(
                prop_oneof![
                    any::<i64>(),
                    -1000i64..1000,
                    (0i64..1 << 20).prop_map(|v| v * 1000),
                ],
                0..PCO_MIN,
            ),
            sorted: bool,
        ) {
            let mut vals = vals;
            if sorted {
                vals.sort_unstable();
            }
            let (mode, _) = round_trip(&vals);
            prop_assert!(vals.is_empty() || mode & MODE_PCO == 0);
        }
    }

    proptest! {
        /// The divisor's tests and quotients agree with `%` and `/`, on divisors and numbers of every
        /// size, powers of two and multiples included.
        #[test]
        fn exact_division_agrees_with_division(
            d in prop_oneof![1u64..100, any::<u64>().prop_map(|d| d.max(1)), (0u32..64).prop_map(|s| 1u64 << s)],
            a: u64,
            q: i64,
            multiple: bool,
        ) {
            let e = ExactDivisor::new(d);
            let a = if multiple { a / d * d } else { a };
            prop_assert_eq!(e.divides(a), a % d == 0);
            if d <= i64::MAX as u64 && let Some(r) = q.checked_mul(d as i64) {
                prop_assert_eq!(e.quotient(r), q);
            }
        }

        #[test]
        fn common_divisor_is_the_gcd(
            rs in proptest::collection::vec(prop_oneof![any::<i64>(), (-1000i64..1000).prop_map(|v| v * 3_000)], 0..50)
        ) {
            let naive = rs.iter().fold(0, |g, r| num_integer::gcd(g, r.unsigned_abs()));
            prop_assert_eq!(common_divisor(rs.iter().copied()), naive);
        }
    }

    #[test]
    fn pco_columns_are_checked() {
        let n = PCO_MIN + 100;
        let vals: Vec<i64> = (0..n as i64).map(|i| i * 7).collect();
        let (mut meta, mut out) = (Vec::new(), Vec::new());
        put(&mut meta, &mut out, &vals).unwrap();
        let get_n = |n: usize, version: u8| {
            let mut back = Vec::new();
            get(
                &mut Reader::new(&meta, "meta"),
                &mut Reader::new(&out, "col"),
                n,
                &mut back,
                version,
            )
            .map_err(|e| format!("{e:#}"))
        };
        assert!(get_n(n - 1, 2).unwrap_err().contains(&format!("{} announced", n - 1)));
        assert!(get_n(n + 1, 2).unwrap_err().contains(&format!("{} announced", n + 1)));
        assert!(get_n(n, 1).unwrap_err().contains("unknown integer coding mode 4"));
        assert_eq!(get_n(n, 2), Ok(()));
    }
}
