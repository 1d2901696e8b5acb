#!/usr/bin/env python3
"""pcodec reference size of Warp 10 fetch `=` text files, for scripts/bench.sh.

Per series: timestamps as int64 and values as float64 (LONG values converted), each compressed
with pcodec's standalone format at its default level. Prints one line per file: "path bytes".
Needs numpy and pcodec (PyPI).

Usage: pcodec_baseline.py FILE...
"""
import sys

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


def main():
    config = ChunkConfig()
    for path in sys.argv[1:]:
        total = 0
        for ts, vals in series_of(path):
            total += len(standalone.simple_compress(np.array(ts, dtype=np.int64), config))
            total += len(standalone.simple_compress(np.array(vals, dtype=np.float64), config))
        print(path, total)


if __name__ == "__main__":
    main()
