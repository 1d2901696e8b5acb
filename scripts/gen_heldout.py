#!/usr/bin/env python3
"""Benchmark data that is not shaped like gen_metrics.py, as Warp 10 fetch `=` text (newest first).

Profiles (seeded, reproducible byte for byte, standard library only):

  heldout   infra metrics unlike our own generator: counters with large random increments,
            gauges written as %.6f, series that mix LONG and DOUBLE values, and timestamps of
            every series irregular on their own (10 s step, microsecond jitter, drops).
  nab-like  a look-alike of the public NAB corpus (real CloudWatch and other metrics; NAB itself
            is AGPL and not reachable here): 47 series in five groups with NAB's sizes and steps
            (5 min, 30 min, 1 h, irregular), second-resolution timestamps, values that are short
            decimals, integers or 6-8 decimal readings, and per series a few float-noise values
            one or two ULPs off a short decimal (like 92.35799999999999, what upstream
            arithmetic leaves). Written one file per series into --out (a directory).

Doubles are rendered with Python's repr, which equals Java's Double.toString for the
magnitudes used (1e-3 <= |x| < 1e7, and 0.0).

Usage: gen_heldout.py heldout --hosts 100 --hours 6 --out heldout.txt
       gen_heldout.py nab-like --out nab-like/
"""
import argparse
import math
import os
import random

START_S = 1705276800  # 2024-01-15T00:00:00Z


def write_series(out, cls, labels, points):
    """points: [(ts_us, value_text)] oldest first; written newest first as Warp 10 does."""
    lab = ",".join("%s=%s" % kv for kv in labels)
    first = True
    for ts, v in reversed(points):
        if first:
            out.write("%d// %s{%s} %s\n" % (ts, cls, lab, v))
            first = False
        else:
            out.write("=%d// %s\n" % (ts, v))


def irregular_ts(rng, n, step_s, jitter_us, drop):
    """n timestamps (µs) every step_s seconds, each jittered on its own, some dropped."""
    phase = rng.randrange(step_s * 1_000_000)
    out = []
    for i in range(n):
        if rng.random() < drop:
            continue
        out.append(START_S * 1_000_000 + phase + i * step_s * 1_000_000 + int(rng.gauss(0, jitter_us)))
    return out


def heldout(args):
    rng = random.Random(args.seed)
    n = args.hours * 3600 // 10
    with open(args.out, "w") as out:
        for h in range(args.hosts):
            labels = [("host", "node-%04d" % h), ("zone", "z%d" % (h % 3)), ("svc", "api")]
            ts = lambda: irregular_ts(rng, n, 10, 2000, 0.001)
            # counters with large random increments (bytes, requests)
            for name, scale in (("net.rx_bytes", 5e7), ("net.tx_bytes", 2e7), ("http.requests", 3e4)):
                c = rng.randrange(1 << 40)
                pts = []
                for t in ts():
                    c += int(rng.expovariate(1 / scale))
                    pts.append((t, str(c)))
                write_series(out, name, labels, pts)
            # gauges written as %.6f
            for name, base, sd in (("cpu.util", 35.0, 4.0), ("disk.latency_s", 0.012, 0.003), ("load", 3.0, 0.5)):
                x = base
                pts = []
                for t in ts():
                    x = max(0.001, base + 0.95 * (x - base) + rng.gauss(0, sd * 0.3))
                    pts.append((t, repr(float("%.6f" % x))))
                write_series(out, name, labels, pts)
            # a gauge sent as LONG when integral, DOUBLE otherwise (mixed types)
            x = 500.0
            pts = []
            for t in ts():
                x = max(1.0, x + rng.gauss(0, 20))
                v = round(x) if rng.random() < 0.6 else round(x, 2)
                pts.append((t, str(v)))
            write_series(out, "jvm.heap_mb", labels, pts)
            # a memory gauge in bytes, pages of 4 KiB
            m = rng.randrange(1 << 20, 1 << 22)
            pts = []
            for t in ts():
                m = max(1, m + int(rng.gauss(0, 3000)))
                pts.append((t, str(m * 4096)))
            write_series(out, "mem.used_bytes", labels, pts)


def noisy(rng, x):
    """x one or two ULPs off, as float arithmetic upstream leaves it (92.358 -> 92.35799999999999)."""
    for _ in range(rng.choice((1, 1, 2))):
        x = math.nextafter(x, rng.choice((-math.inf, math.inf)))
    return x


# group, name, points, step (s), value shape, decimals, share of float-noise values
NAB_SERIES = (
    [("realAWSCloudwatch", "ec2_cpu_utilization_%d" % i, 4032, 300, "pct", 3, 0.04 + 0.02 * (i % 4)) for i in range(8)]
    + [("realAWSCloudwatch", "ec2_network_in_%d" % i, 4032, 300, "int", 0, 0.0) for i in range(3)]
    + [("realAWSCloudwatch", "ec2_disk_write_bytes_%d" % i, 4032, 300, "int", 0, 0.0) for i in range(2)]
    + [("realAWSCloudwatch", "rds_cpu_utilization_%d" % i, 4032, 300, "pct", 3, 0.08) for i in range(2)]
    + [("realAWSCloudwatch", "elb_request_count_%d" % i, 4032, 300, "int", 0, 0.0) for i in range(2)]
    + [("realAdExchange", "exchange_cpc_%d" % i, 1600, 3600, "reading", 6, 0.01) for i in range(3)]
    + [("realAdExchange", "exchange_cpm_%d" % i, 1600, 3600, "reading", 6, 0.01) for i in range(3)]
    + [
        ("realKnownCause", "machine_temperature_system_failure", 22695, 300, "reading", 8, 0.002),
        ("realKnownCause", "nyc_taxi", 10320, 1800, "int", 0, 0.0),
        ("realKnownCause", "ec2_request_latency_system_failure", 4032, 300, "pct", 3, 0.05),
        ("realKnownCause", "cpu_utilization_asg_misconfiguration", 18050, 300, "pct", 3, 0.03),
        ("realKnownCause", "ambient_temperature_system_failure", 7267, 3600, "reading", 8, 0.002),
        ("realKnownCause", "rogue_agent_key_hold", 1882, 600, "reading", 4, 0.01),
        ("realKnownCause", "rogue_agent_key_updown", 5315, 600, "reading", 4, 0.01),
    ]
    + [("realTraffic", "occupancy_%d" % i, 2500, 300, "pct", 2, 0.0) for i in range(4)]
    + [("realTraffic", "speed_%d" % i, 2500, 300, "int", 0, 0.0) for i in range(3)]
    + [("realTweets", "twitter_volume_%d" % i, 15900, 300, "int", 0, 0.0) for i in range(10)]
)


def nab_like(args):
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for group, name, n, step, shape, dec, noise in NAB_SERIES:
        t = START_S
        pts = []
        level = {"pct": rng.uniform(2, 60), "int": rng.uniform(10, 5e6), "reading": rng.uniform(0.05, 90)}[shape]
        x = level
        for _ in range(n):
            # CloudWatch-like irregularity: mostly on step, sometimes late by seconds, some gaps
            t += step if rng.random() > 0.02 else step * rng.randint(2, 6)
            ts = t + (rng.randint(1, 59) if rng.random() < 0.05 else 0)
            x = level + 0.9 * (x - level) + rng.gauss(0, level * 0.05)
            if rng.random() < 0.002:
                x *= rng.uniform(1.5, 3)  # anomalies
            if shape == "pct":
                v = round(min(100.0, max(0.0, x)), dec)
            elif shape == "int":
                v = float(max(0, round(x)))
            else:
                v = round(abs(x), dec)
            if v and rng.random() < noise:
                v = noisy(rng, v)
            pts.append((ts * 1_000_000, repr(v)))
        with open(os.path.join(args.out, "%s.%s.txt" % (group, name)), "w") as out:
            write_series(out, "nab." + name, [("group", group)], pts)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profile", choices=("heldout", "nab-like"))
    p.add_argument("--out", required=True)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=int, default=6)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    heldout(args) if args.profile == "heldout" else nab_like(args)


if __name__ == "__main__":
    main()
