//! Synthetic data sets, statistically like `reference/gen_metrics.py` (not byte-identical):
//! `infra` is profile D1 (10 series per host: diurnal + AR(1) CPU doubles with 2 decimals, LONG
//! memory gauge, counters with resets, ms-jitter timestamps, 0.05 % drops); `tsbs-cpu` is the
//! TSBS cpu-only model (clamped random walks as LONGs, aligned timestamps, no drops).
//! Each host has its own RNG seeded from (seed, host), so hosts are generated in parallel and a
//! seed always gives the same data.

use super::store::Series;
use crate::gts::{Point, SeriesKey, Value};
use clap::ValueEnum;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, Geometric, LogNormal, Normal, Poisson};
use rayon::prelude::*;
use std::collections::BTreeMap;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// Realistic infrastructure metrics (data profile D1)
    Infra,
    /// TSBS devops cpu-only
    TsbsCpu,
}

pub struct Spec {
    pub profile: Profile,
    pub seed: u64,
    pub hosts: usize,
    /// First N series of the profile's list for each host.
    pub series_per_host: usize,
    /// Samples per host.
    pub samples: usize,
    /// Sampling interval in platform units.
    pub interval: i64,
    /// Seconds per sampling interval (for the models' rates).
    pub interval_secs: f64,
    /// First sample time in platform units (a day boundary keeps the diurnal phase meaningful).
    pub start: i64,
    /// Platform units per millisecond (jitter is in whole milliseconds).
    pub unit_per_ms: i64,
    /// Labels forced on every series (the write token's `.app`, `.owner`, `.producer`).
    pub token_labels: Vec<(String, String)>,
}

pub const INFRA_SERIES: [&str; 10] = [
    "os.cpu.usage_user",
    "os.cpu.usage_system",
    "os.cpu.usage_iowait",
    "os.load1",
    "os.mem.used_bytes",
    "os.mem.used_percent",
    "os.net.bytes_recv",
    "os.net.bytes_sent",
    "os.disk.write_bytes",
    "os.disk.reads",
];

pub const TSBS_SERIES: [&str; 10] = [
    "cpu.usage_user",
    "cpu.usage_system",
    "cpu.usage_idle",
    "cpu.usage_nice",
    "cpu.usage_iowait",
    "cpu.usage_irq",
    "cpu.usage_softirq",
    "cpu.usage_steal",
    "cpu.usage_guest",
    "cpu.usage_guest_nice",
];

const DCS: [&str; 5] = ["eu-west-1a", "eu-west-1b", "eu-central-1a", "us-east-1a", "us-east-1c"];
const ROLES: [&str; 6] = ["web", "api", "db", "cache", "worker", "kafka"];
const DROP: f64 = 0.0005;

/// One column of a host: doubles rounded to 2 decimals or longs.
enum Column {
    Double(Vec<f64>),
    Long(Vec<i64>),
}

/// Generates every series of the spec.
pub fn generate(spec: &Spec) -> Vec<Series> {
    (0..spec.hosts)
        .into_par_iter()
        .flat_map_iter(|h| host(spec, h))
        .collect()
}

fn host(spec: &Spec, h: usize) -> Vec<Series> {
    let mut rng = StdRng::seed_from_u64(spec.seed ^ (h as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let labels = labels_for(h, &mut rng, &spec.token_labels);
    let n = spec.samples;
    let (names, columns): (&[&str], Vec<Column>) = match spec.profile {
        Profile::Infra => (&INFRA_SERIES, infra(&mut rng, n, spec.interval_secs)),
        Profile::TsbsCpu => (&TSBS_SERIES, tsbs_cpu(&mut rng, n)),
    };
    let ts = match spec.profile {
        Profile::Infra => jittered_timestamps(&mut rng, spec),
        Profile::TsbsCpu => (0..n as i64).map(|i| spec.start + i * spec.interval).collect(),
    };
    let drop = if spec.profile == Profile::Infra { DROP } else { 0.0 };
    names
        .iter()
        .zip(columns)
        .take(spec.series_per_host)
        .map(|(name, col)| {
            let mut s = Series::new(SeriesKey {
                class: name.to_string(),
                labels: labels.clone(),
            });
            for (i, &t) in ts.iter().enumerate() {
                if drop > 0.0 && rng.random::<f64>() < drop {
                    continue;
                }
                let value = match &col {
                    Column::Double(v) => Value::Double(v[i]),
                    Column::Long(v) => Value::Long(v[i]),
                };
                s.push(
                    Point {
                        ts: t,
                        geo: None,
                        elev: None,
                        value,
                    }
                    .into(),
                );
            }
            s
        })
        .collect()
}

fn labels_for(h: usize, rng: &mut StdRng, token_labels: &[(String, String)]) -> BTreeMap<String, String> {
    let dc = DCS[h % DCS.len()];
    let role = ROLES[(h / DCS.len()) % ROLES.len()];
    let mut labels: BTreeMap<String, String> = [
        ("host", format!("{role}-{h:04}.{dc}")),
        ("dc", dc.to_string()),
        ("rack", format!("r{:02}", rng.random_range(1..40))),
        ("env", if !h.is_multiple_of(7) { "prod" } else { "staging" }.to_string()),
        ("role", role.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    labels.extend(token_labels.iter().cloned());
    labels
}

/// Collector timestamps: per-host phase, N(0, 3 ms) jitter, 1 % late by 20–500 ms, millisecond
/// precision, kept strictly increasing.
fn jittered_timestamps(rng: &mut StdRng, spec: &Spec) -> Vec<i64> {
    let step_ms = (spec.interval / spec.unit_per_ms).max(1);
    let phase_ms = rng.random_range(0..step_ms);
    let jitter = Normal::new(0.0, 3.0).expect("valid normal");
    let mut ts = Vec::with_capacity(spec.samples);
    for i in 0..spec.samples as i64 {
        let mut jit: f64 = jitter.sample(rng);
        if rng.random::<f64>() < 0.01 {
            jit += rng.random_range(20.0..500.0);
        }
        let t = spec.start + i * spec.interval + (jit.round() as i64 + phase_ms) * spec.unit_per_ms;
        let t = match ts.last() {
            Some(&prev) if t <= prev => prev + spec.unit_per_ms,
            _ => t,
        };
        ts.push(t);
    }
    ts
}

fn normal(rng: &mut StdRng, n: usize, sd: f64) -> Vec<f64> {
    let d = Normal::new(0.0, sd).expect("valid normal");
    (0..n).map(|_| d.sample(rng)).collect()
}

/// AR(1) with stationary standard deviation `sd`, started at 0.
fn ar1(rng: &mut StdRng, n: usize, phi: f64, sd: f64) -> Vec<f64> {
    let e = Normal::new(0.0, sd * (1.0 - phi * phi).sqrt()).expect("valid normal");
    let mut acc = 0.0;
    (0..n)
        .map(|_| {
            acc = phi * acc + e.sample(rng);
            acc
        })
        .collect()
}

/// Occasional plateaus (batch jobs): starts with probability `rate`, geometric length.
fn spikes(rng: &mut StdRng, n: usize, rate: f64, amp: (f64, f64), mean_len: f64) -> Vec<f64> {
    let len = Geometric::new(1.0 / mean_len).expect("valid geometric");
    let mut s = vec![0.0; n];
    for st in 0..n {
        if rng.random::<f64>() < rate {
            let l = len.sample(rng) as usize + 1;
            let a = rng.random_range(amp.0..amp.1);
            s[st..(st + l).min(n)].iter_mut().for_each(|x| *x += a);
        }
    }
    s
}

fn diurnal(t_s: f64, phase_h: f64, amp: f64) -> f64 {
    1.0 + amp * (2.0 * std::f64::consts::PI * (t_s / 86_400.0 - phase_h / 24.0)).sin()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn poisson(rng: &mut StdRng, lambda: f64) -> i64 {
    Poisson::new(lambda).expect("positive rate").sample(rng) as i64
}

fn cumsum(start: i64, inc: impl Iterator<Item = i64>) -> Vec<i64> {
    inc.scan(start, |acc, d| {
        *acc += d;
        Some(*acc)
    })
    .collect()
}

fn infra(rng: &mut StdRng, n: usize, step_s: f64) -> Vec<Column> {
    let t: Vec<f64> = (0..n).map(|i| i as f64 * step_s).collect();
    let phase = rng.random_range(12.0..18.0);

    let base_user = rng.random_range(2.0..55.0);
    let amp = rng.random_range(0.05..0.6);
    let noise_sd = rng.random_range(0.3..4.0);
    let (ar, white, spk) = (
        ar1(rng, n, 0.9, noise_sd),
        normal(rng, n, noise_sd * 0.5),
        spikes(rng, n, 0.0015, (10.0, 40.0), 30.0),
    );
    let user: Vec<f64> = (0..n)
        .map(|i| (base_user * diurnal(t[i], phase, amp) + ar[i] + white[i] + spk[i]).clamp(0.0, 100.0))
        .collect();
    let (ar, white) = (ar1(rng, n, 0.8, 0.6), normal(rng, n, 0.3));
    let system: Vec<f64> = (0..n)
        .map(|i| (0.25 * user[i] + ar[i] + white[i] + 1.0).clamp(0.0, 100.0 - user[i]))
        .collect();
    let burst = spikes(rng, n, 0.01, (0.5, 15.0), 6.0);
    let idle_io = Exp::new(1.0 / 0.08).expect("valid exponential");
    let iowait: Vec<f64> = burst
        .iter()
        .map(|&b| {
            if b > 0.0 {
                (b * rng.random_range(0.5..1.0)).clamp(0.0, 100.0)
            } else if rng.random::<f64>() < 0.15 {
                idle_io.sample(rng)
            } else {
                0.0
            }
        })
        .collect();
    let ncpu = [2.0, 4.0, 8.0, 16.0, 32.0][rng.random_range(0..5)];
    let alpha = 1.0 - (-step_s / 60.0).exp();
    let mut acc = (user[0] + system[0] + iowait[0]) / 100.0 * ncpu;
    let load: Vec<f64> = (0..n)
        .map(|i| {
            acc += alpha * ((user[i] + system[i] + iowait[i]) / 100.0 * ncpu - acc);
            round2(acc)
        })
        .collect();

    let total: i64 = [8i64, 16, 32, 64, 128][rng.random_range(0..5)] << 30;
    let pages_total = (total / 4096) as f64;
    let frac0 = rng.random_range(0.25..0.8);
    let walk = normal(rng, n, pages_total * 2e-5);
    let saw = if rng.random::<f64>() < 0.3 {
        Some((rng.random_range(30..400), pages_total * rng.random_range(0.01..0.08)))
    } else {
        None
    };
    let mut level = pages_total * frac0;
    let used_bytes: Vec<i64> = (0..n)
        .map(|i| {
            level += walk[i];
            let saw = saw.map_or(0.0, |(period, height)| (i % period) as f64 / period as f64 * height);
            let pages = (level + saw).round().clamp(pages_total * 0.05, pages_total * 0.98) as i64;
            pages * 4096
        })
        .collect();
    let used_percent = used_bytes
        .iter()
        .map(|&b| round2(100.0 * b as f64 / total as f64))
        .collect();

    let rate = rng.random_range(2e3..5e7);
    let d: Vec<f64> = t.iter().map(|&t| diurnal(t, phase, amp * 1.2).max(0.05)).collect();
    let (noise_recv, noise_sent) = (
        LogNormal::new(0.0, 0.35).expect("valid"),
        LogNormal::new(0.0, 0.2).expect("valid"),
    );
    let inc_recv: Vec<i64> = d
        .iter()
        .map(|&d| (rate * step_s * d * noise_recv.sample(rng)).round() as i64)
        .collect();
    let ratio = rng.random_range(0.1..3.0);
    let inc_sent: Vec<i64> = inc_recv
        .iter()
        .map(|&r| (r as f64 * ratio * noise_sent.sample(rng)).round() as i64)
        .collect();
    let mut recv = cumsum(rng.random_range(1_000_000_000..1_000_000_000_000), inc_recv.into_iter());
    let mut sent = cumsum(rng.random_range(1_000_000_000..1_000_000_000_000), inc_sent.into_iter());

    let lam_w = rng.random_range(5.0..3000.0);
    let burst = spikes(rng, n, 0.003, (1.0, 10.0), 20.0);
    let writes: Vec<i64> = (0..n)
        .map(|i| poisson(rng, lam_w * d[i] * (1.0 + burst[i])) * 4096)
        .collect();
    let mut written = cumsum(
        rng.random_range(100_000_000..1_000_000_000_000i64) / 4096 * 4096,
        writes.into_iter(),
    );
    let lam_r = rng.random_range(0.05..30.0);
    let reads: Vec<i64> = d.iter().map(|&d| poisson(rng, lam_r * d)).collect();
    let mut read = cumsum(rng.random_range(10_000..100_000_000), reads.into_iter());

    if n >= 10 && rng.random::<f64>() < 0.01 {
        let at = rng.random_range(n / 10..n - n / 10);
        for counter in [&mut recv, &mut sent, &mut written, &mut read] {
            let shift = counter[at] - rng.random_range(0..1000);
            counter[at..].iter_mut().for_each(|v| *v -= shift);
        }
    }

    let doubles = |v: Vec<f64>| Column::Double(v.into_iter().map(round2).collect());
    vec![
        doubles(user),
        doubles(system),
        doubles(iowait),
        Column::Double(load),
        Column::Long(used_bytes),
        Column::Double(used_percent),
        Column::Long(recv),
        Column::Long(sent),
        Column::Long(written),
        Column::Long(read),
    ]
}

/// Each field a random walk with N(0, 1) steps clamped to [0, 100] from U(0, 100), as int64.
fn tsbs_cpu(rng: &mut StdRng, n: usize) -> Vec<Column> {
    let step = Normal::new(0.0, 1.0).expect("valid normal");
    (0..TSBS_SERIES.len())
        .map(|_| {
            let mut acc: f64 = rng.random_range(0.0..100.0);
            Column::Long(
                (0..n)
                    .map(|_| {
                        acc = (acc + step.sample(rng)).clamp(0.0, 100.0);
                        acc as i64
                    })
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(profile: Profile, hosts: usize, samples: usize) -> Spec {
        Spec {
            profile,
            seed: 42,
            hosts,
            series_per_host: 10,
            samples,
            interval: 10_000_000,
            interval_secs: 10.0,
            start: 1_705_276_800_000_000,
            unit_per_ms: 1000,
            token_labels: vec![(".app".into(), "test".into())],
        }
    }

    fn digest(series: &[Series]) -> Vec<(SeriesKey, Vec<Point>)> {
        series
            .iter()
            .map(|s| (s.key.clone(), (0..s.len()).map(|i| s.point(i)).collect()))
            .collect()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = generate(&spec(Profile::Infra, 3, 2000));
        assert_eq!(digest(&a), digest(&generate(&spec(Profile::Infra, 3, 2000))));
        let mut other = spec(Profile::Infra, 3, 2000);
        other.seed = 43;
        assert_ne!(digest(&a), digest(&generate(&other)));
    }

    #[test]
    fn infra_day_has_d1_shape() {
        // 20 hosts × 10 series × 1 day × 10 s: 1.728 M samples, 0.05 % dropped.
        let series = generate(&spec(Profile::Infra, 20, 8640));
        assert_eq!(series.len(), 200);
        let points: usize = series.iter().map(Series::len).sum();
        let dropped = 1_728_000 - points;
        assert!((500..1300).contains(&dropped), "{dropped} dropped");
        for s in &series {
            assert_eq!(s.key.labels.len(), 6, "{:?}", s.key);
            let first_day = (0..s.len()).all(|i| (1_705_276_800_000_000..1_705_363_201_000_000).contains(&s.ts(i)));
            assert!(first_day, "{}", s.key.class);
            assert!((0..s.len()).all(|i| s.ts(i) % 1000 == 0), "millisecond precision");
            let values: Vec<Value> = (0..s.len()).map(|i| s.point(i).value).collect();
            match s.key.class.as_str() {
                "os.cpu.usage_user" | "os.cpu.usage_system" | "os.cpu.usage_iowait" | "os.mem.used_percent" => {
                    for v in &values {
                        let Value::Double(d) = v else { panic!("{v:?}") };
                        assert!((0.0..=100.0).contains(d) && round2(*d) == *d, "{d}");
                    }
                }
                "os.mem.used_bytes" => assert!(values.iter().all(|v| matches!(v, Value::Long(b) if b % 4096 == 0))),
                "os.load1" => assert!(values.iter().all(|v| matches!(v, Value::Double(d) if *d >= 0.0))),
                _ => assert!(values.iter().all(|v| matches!(v, Value::Long(c) if *c >= 0))),
            }
        }
        let user = &series[0];
        assert_eq!(user.key.class, "os.cpu.usage_user");
        let distinct: std::collections::BTreeSet<u64> = (0..user.len())
            .map(|i| {
                if let Value::Double(d) = user.point(i).value {
                    d.to_bits()
                } else {
                    0
                }
            })
            .collect();
        assert!(distinct.len() > 100, "CPU values vary");
    }

    #[test]
    fn tsbs_cpu_is_aligned_bounded_and_complete() {
        let series = generate(&spec(Profile::TsbsCpu, 2, 500));
        assert_eq!(series.len(), 20);
        for s in &series {
            assert_eq!(s.len(), 500);
            assert_eq!(s.ts(1) - s.ts(0), 10_000_000);
            assert!((0..s.len()).all(|i| matches!(s.point(i).value, Value::Long(v) if (0..=100).contains(&v))));
        }
    }
}
