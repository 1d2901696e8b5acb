#!/usr/bin/env bash
# Benchmarks (method: ../shared/reference/compression.md §5).
#
# Codec part: generates D1 (infra, ms jitter), D3 (µs jitter) and D4 (TSBS cpu-only) as Warp 10
# `=` text with gen_metrics.py, then prints per dataset: bytes per point of the columnar archive
# (every byte of the object), encode (parse + encode) and decode (decode + render text) speed in
# M points/s per core (CPU time), and zstd -3 / zstd -19 on the same text as baselines. Every
# run checks the decoded digest against the input. Then the peak memory of `compress` on a
# small and a ~10 M-point segment, to show it does not grow with the segment.
#
# Usage: scripts/bench.sh            (data and results in $BENCH_DIR, default target/bench)
set -euo pipefail
cd "$(dirname "$0")/.."

GEN=../shared/reference/gen_metrics.py
DIR=${BENCH_DIR:-target/bench}
BIN=${CARGO_TARGET_DIR:-target}/release/warp-offload
mkdir -p "$DIR"

python3 -c 'import numpy' 2>/dev/null || pip install --quiet numpy
cargo build --release --quiet
command -v zstd >/dev/null || { echo "bench.sh: the zstd CLI is needed for the baselines" >&2; exit 1; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "generator: $GEN sha256 $(sha256sum "$GEN" | cut -c1-16)"

gen() { # name, generator args...
    local name=$1
    shift
    if [ ! -s "$DIR/$name.txt" ]; then
        python3 "$GEN" --format text "$@" --out "$DIR/$name.txt" 2>/dev/null
    fi
}

# zstd at a level on a text: "bytes cpu_seconds".
zstd_baseline() {
    /usr/bin/time -f '%U %S' -o "$DIR/time" zstd "-$1" -T1 -c "$2" >"$DIR/baseline.zst"
    echo "$(stat -c %s "$DIR/baseline.zst") $(awk '{ print $1 + $2 }' "$DIR/time")"
}

gen D1
gen D3 --ts-mode us-jitter
gen D4 --profile tsbs-cpu --ts-mode aligned --drop 0

echo
echo "dataset   points    B/pt  enc M/s  dec M/s | zstd-3 B/pt  M/s | zstd-19 B/pt   M/s | ratio vs -3  vs -19"
for d in D1 D3 D4; do
    text=$DIR/$d.txt
    "$BIN" bench-codec "$text" >"$DIR/$d.json"
    # shellcheck disable=SC2046
    python3 - "$DIR/$d.json" "$d" $(zstd_baseline 3 "$text") $(zstd_baseline 19 "$text") <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
d, z3, c3, z19, c19 = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
n, a = r["points"], r["archive_bytes"]
m = lambda cpu: n / max(cpu, 1e-9) / 1e6
print("%-4s %11d %7.3f %8.2f %8.2f | %11.3f %4.1f | %12.3f %5.3f | %10.1fx %6.1fx" % (
    d, n, a / n, r["encode_mpts_per_core"], r["decode_mpts_per_core"], z3 / n, m(c3), z19 / n, m(c19),
    z3 / a, z19 / a))
EOF
done
echo "(B/pt = archive bytes / points; enc = parse \`=\` text + encode + zstd, dec = decode + render text;"
echo " M/s = M points per CPU-second on one core; zstd baselines: the zstd CLI, -T1, on the same text)"

# Peak memory of `compress` (which also decodes and checks the archive): a 1-host segment and
# a ~10 M-point one. The record's fetch section comes from bench-codec's digest of the text.
segment() { # name, text file
    local name=$1 text=$2 work=$DIR/work-$1 id=bench-$1
    rm -rf "$work"
    mkdir -p "$work/spool"
    cp "$text" "$work/spool/$id.gts"
    "$BIN" bench-codec "$text" | python3 -c '
import json, sys
r = json.load(sys.stdin)
id, size = sys.argv[1], int(sys.argv[2])
print(json.dumps({"v": 1, "id": id, "selector": "~.*{}", "start": "2024-01-01T00:00:00Z",
    "end": "2024-01-02T00:00:00Z", "warp10_url": "http://127.0.0.1:8080", "time_unit": "us",
    "fetch": {"points": r["points"], "series": r["series"], "bytes": size, "digest": r["digest"],
              "spool": "spool/%s.gts" % id, "at": "2024-01-02T00:00:00Z", "duration_ms": 0}}))
' "$id" "$(stat -c %s "$text")" >"$work/in.ndjson"
    /usr/bin/time -f '%M %U %S' -o "$DIR/time" "$BIN" --work-dir "$work" -q compress --jobs 1 \
        <"$work/in.ndjson" >"$work/out.ndjson"
    read -r kb user sys <"$DIR/time"
    python3 - "$work/out.ndjson" "$name" "$kb" "$user" "$sys" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert "error" not in r, r["error"]
n = r["fetch"]["points"]
cpu = max(float(sys.argv[4]) + float(sys.argv[5]), 0.01)  # /usr/bin/time counts in 10 ms steps
print("%-6s %10d points  peak RSS %6.1f MiB  compress (encode + decode + check) %.2f M pts/s/core" % (
    sys.argv[2], n, int(sys.argv[3]) / 1024, n / cpu / 1e6))
EOF
}
gen small --hosts 1
gen 10M --hours 28
echo
segment small "$DIR/small.txt"
segment 10M "$DIR/10M.txt"

# Pipeline part: `all` against curl | zstd -3 | curl --aws-sigv4 on D1 (see the script).
scripts/bench-pipeline.sh
