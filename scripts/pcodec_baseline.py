#!/usr/bin/env python3
"""pcodec reference size (and speed) of Warp 10 fetch `=` text files, for scripts/bench.sh.

Per series: timestamps as int64 and values as float64 (LONG values converted), each compressed
with pcodec's standalone format at its default level (or --level). Prints one line per file:
"path bytes". With --speed, also the CPU seconds of compressing and of decompressing every
column of the file (median of 3 runs; the columns are parsed before the clock starts, so these
are pcodec's own times, without any text parsing): "path bytes compress_s decompress_s".
Needs numpy and pcodec (PyPI).

Usage: pcodec_baseline.py [--level N] [--speed] FILE...
"""
import argparse
import statistics
import time

import numpy as np
from pcodec import ChunkConfig, standalone


def series_of(path):
    ts, vals = [], []
    with open(path) as f:
        for line in f:
            if not line.startswith("="):
                if ts:
                    yield ts, vals
                ts, vals = [], []
            head, value = line.rstrip("\n").rsplit(" ", 1)
            ts.append(int(head.lstrip("=").split("/", 1)[0]))
            vals.append(float(value))
    if ts:
        yield ts, vals


def columns_of(path):
    for ts, vals in series_of(path):
        yield np.array(ts, dtype=np.int64)
        yield np.array(vals, dtype=np.float64)


def median_cpu(run):
    times = []
    for _ in range(3):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--level", type=int, help="pcodec compression level (default: pcodec's)")
    parser.add_argument("--speed", action="store_true", help="also print compress and decompress CPU s")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    config = ChunkConfig() if args.level is None else ChunkConfig(compression_level=args.level)
    for path in args.files:
        columns = list(columns_of(path))
        compressed = [standalone.simple_compress(c, config) for c in columns]
        line = [path, str(sum(len(b) for b in compressed))]
        if args.speed:
            comp = median_cpu(lambda: [standalone.simple_compress(c, config) for c in columns])
            decomp = median_cpu(lambda: [standalone.simple_decompress(b) for b in compressed])
            line += ["%.4f" % comp, "%.4f" % decomp]
        print(" ".join(line))


if __name__ == "__main__":
    main()
