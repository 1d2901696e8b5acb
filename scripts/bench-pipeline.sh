#!/usr/bin/env bash
# Pipeline benchmark: `warp-offload all` on D1 (fake-warp10's `--generate infra` profile, 100 hosts
# x 10 series x 1 day at 10 s, 8.6 M points) into a local SeaweedFS, against a baseline measured in
# the same run, cell by cell: curl of the same fetches piped into `zstd -3` and uploaded with curl
# --aws-sigv4, with the same parallelism. The matrix is every segment length (4 x 6h, 24 x 1h,
# 1 x 1d) times every --jobs (2, 4); each cell runs the baseline then `all`, and the table shows
# wall time, CPU time, peak memory and bytes stored of both, and the ratios. With --repeat N each
# cell runs N times (alternating) and the medians are shown. The load average before each cell is
# printed: the machine may be shared. Everything stays on 127.0.0.1.
# Usage: scripts/bench-pipeline.sh [--hosts 100] [--segments "6h 1h 1d"] [--jobs "2 4"] [--repeat 1]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

HOSTS=100 SEGMENTS="6h 1h 1d" JOBS="2 4" REPEAT=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --hosts) HOSTS=$2; shift 2 ;;
        --segments) SEGMENTS=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        *) echo "usage: $0 [--hosts N] [--segments \"6h 1h 1d\"] [--jobs \"2 4\"] [--repeat N]" >&2; exit 2 ;;
    esac
done

bench_setup
bench_fake --generate infra --hosts "$HOSTS" --days 1
START=2024-01-15T00:00:00Z END=2024-01-16T00:00:00Z SELECTOR='~os\..*{}'

# Baseline, per segment: fetch (same range and parameters as warp-offload) | zstd -3 | PUT.
cat >"$TMP/baseline-one.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
read -r prefix id selector start end <<<"$1"
curl -sf -G -H "X-Warp10-Token: $(cat "$TMP/read.token")" --data-urlencode "selector=$selector" \
    --data "start=$start" --data "end=$end" --data format=text --data showerrors "$URL/api/v0/fetch" |
    zstd -3 -T1 -q -c |
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        -T - "$S3/$BUCKET/$prefix/$id.gts.zst" >/dev/null
SH
chmod +x "$TMP/baseline-one.sh"
export TMP URL S3 BUCKET

measure() { # output file, command...: writes "wall user sys maxrss_kb"
    local out=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$out" "$@"
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores; $(git rev-parse --short HEAD)"
: >"$TMP/results"
for seg in $SEGMENTS; do
    plan=$TMP/plan-$seg.ndjson
    "$BIN" -q plan --warp10-url "$URL" --selector "$SELECTOR" --start $START --end $END --segment-length "$seg" \
        --min-age 1h >"$plan"
    python3 - "$plan" >"$TMP/jobs-$seg" <<'PY'
import json, sys
from datetime import datetime
def us(t): return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) * 1_000_000
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["id"], r["selector"], us(r["start"]), us(r["end"]) - 1)
PY
    for jobs in $JOBS; do
        for rep in $(seq 1 "$REPEAT"); do
            cell=$seg-j$jobs-r$rep
            load=$(cut -d' ' -f1 /proc/loadavg)
            echo "cell $(wc -l <"$plan") x $seg, --jobs $jobs, run $rep (load $load)" >&2
            sed "s|^|baseline/$cell |" "$TMP/jobs-$seg" >"$TMP/jobs-$cell"
            measure "$TMP/base-$cell.time" xargs -P "$jobs" -d '\n' -n 1 "$TMP/baseline-one.sh" <"$TMP/jobs-$cell"
            measure "$TMP/ours-$cell.time" "$BIN" -q --work-dir "$TMP/work-$cell" all --warp10-url "$URL" \
                --selector "$SELECTOR" --start $START --end $END --segment-length "$seg" --min-age 1h \
                --dest "s3://$BUCKET/ours/$cell" --s3-endpoint "$S3" --read-token-file "$TMP/read.token" \
                --jobs "$jobs" >"$TMP/run-$cell.ndjson"
            points=$(python3 -c 'import json,sys; print(sum(json.loads(l)["fetch"]["points"] for l in open(sys.argv[1])))' \
                "$TMP/run-$cell.ndjson")
            echo "$seg $jobs $(wc -l <"$plan") $load $points $(cat "$TMP/base-$cell.time") $(bench_stored "baseline/$cell")" \
                "$(cat "$TMP/ours-$cell.time") $(bench_stored "ours/$cell")" >>"$TMP/results"
        done
    done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$TMP/results" <<'PY'
import statistics, sys
cells = {}
for line in open(sys.argv[1]):
    f = line.split()
    key = (f[0], int(f[1]), int(f[2]))
    cells.setdefault(key, []).append(f[3:])
print(f"{'cell':16} {'load':>5} {'':9} {'wall s':>7} {'CPU s':>6} {'peak MiB':>8} {'stored MB':>9} {'B/pt':>5}"
      f" | {'wall':>5} {'CPU':>5} {'stored':>6}  (all / baseline)")
worst = 0
for (seg, jobs, n), runs in cells.items():
    med = lambda i: statistics.median(float(r[i]) for r in runs)
    load, points = med(0), int(runs[0][1])
    base = dict(wall=med(2), cpu=med(3) + med(4), rss=med(5) / 1024, stored=int(runs[0][6]))
    ours = dict(wall=med(7), cpu=med(8) + med(9), rss=med(10) / 1024, stored=int(runs[0][11]))
    label, shown = f"{n} x {seg}, -j {jobs}", f"{load:5.1f}"
    for name, m in (("baseline", base), ("all", ours)):
        row = f"{label:16} {shown:>5} {name:9} {m['wall']:7.2f} {m['cpu']:6.2f} {m['rss']:8.1f} {m['stored'] / 1e6:9.2f}" \
              f" {m['stored'] / points:5.2f}"
        if name == "all":
            ratio = ours["wall"] / base["wall"]
            worst = max(worst, ratio)
            row += f" | {ratio:5.2f} {ours['cpu'] / base['cpu']:5.2f} {ours['stored'] / base['stored']:6.3f}"
        print(row)
        label, shown = "", ""
print(f"{points} points per cell; runs per cell: {len(runs)} (medians); worst wall ratio {worst:.2f}x"
      " (target: <= 1.00x; peak memory of `all` at -j 4 with 1d segments <= 128 MiB)")
print("(baseline peak memory is that of its largest single process; that of `all` is the whole tool)")
PY
