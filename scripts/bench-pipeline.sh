#!/usr/bin/env bash
# Pipeline benchmark: `warp-offload all` on D1 (gen_metrics.py's default infra profile, 8.6 M
# points, served by fake-warp10) into a local SeaweedFS, against a baseline measured in the same
# run: curl of the same fetches piped into `zstd -3` and uploaded with curl --aws-sigv4, with the
# same parallelism. Prints wall time, CPU time, peak memory and bytes stored for both, and ratios.
# Everything stays on 127.0.0.1. Usage: scripts/bench-pipeline.sh [--hosts N] [--jobs N] [--segment 6h]
set -euo pipefail
cd "$(dirname "$0")/.."

HOSTS=100 JOBS=4 SEGMENT=6h
while [[ $# -gt 0 ]]; do
    case $1 in
        --hosts) HOSTS=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --segment) SEGMENT=$2; shift 2 ;;
        *) echo "usage: $0 [--hosts N] [--jobs N] [--segment LENGTH]" >&2; exit 2 ;;
    esac
done

cargo build --release --quiet
BIN=$PWD/target/release/warp-offload
TMP=$(mktemp -d)
export WARP_OFFLOAD_SEAWEEDFS_STATE=$TMP/seaweedfs
cleanup() {
    [[ -n ${FAKE_PID:-} ]] && kill "$FAKE_PID" 2>/dev/null || true
    scripts/seaweedfs.sh stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
eval "$(scripts/seaweedfs.sh start)"
export AWS_ACCESS_KEY_ID=$WARP_OFFLOAD_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$WARP_OFFLOAD_TEST_S3_SECRET_KEY
S3=$WARP_OFFLOAD_TEST_S3_ENDPOINT BUCKET=$WARP_OFFLOAD_TEST_S3_BUCKET

umask 077
printf 'bench-read' >"$TMP/read.token"
printf 'bench-write' >"$TMP/write.token"
"$BIN" -q fake-warp10 --listen 127.0.0.1:0 --port-file "$TMP/port" --read-token-file "$TMP/read.token" \
    --write-token-file "$TMP/write.token" --generate infra --hosts "$HOSTS" --days 1 >/dev/null &
FAKE_PID=$!
while [[ ! -s $TMP/port ]]; do sleep 0.1; done
URL=http://127.0.0.1:$(cat "$TMP/port")
START=2024-01-15T00:00:00Z END=2024-01-16T00:00:00Z SELECTOR='~os\..*{}'

"$BIN" -q plan --warp10-url "$URL" --selector "$SELECTOR" --start $START --end $END --segment-length $SEGMENT \
    --min-age 1h >"$TMP/plan.ndjson"
SEGMENTS=$(wc -l <"$TMP/plan.ndjson")

# Sum of the sizes of every object under a prefix (ListObjectsV2, one page of up to 1000 keys).
stored() {
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        "$S3/$BUCKET?list-type=2&prefix=$1%2F" |
        python3 -c 'import re,sys; print(sum(map(int, re.findall(r"<Size>(\d+)</Size>", sys.stdin.read()))))'
}

# Baseline: per segment, fetch (same range and parameters as warp-offload) | zstd -3 | PUT.
python3 - "$TMP/plan.ndjson" >"$TMP/baseline.jobs" <<'PY'
import json, sys
from datetime import datetime, timezone
def us(t): return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) * 1_000_000
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["id"], r["selector"], us(r["start"]), us(r["end"]) - 1)
PY
cat >"$TMP/baseline-one.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
read -r id selector start end <<<"$1"
curl -sf -G -H "X-Warp10-Token: $(cat "$TMP/read.token")" --data-urlencode "selector=$selector" \
    --data "start=$start" --data "end=$end" --data format=text --data showerrors "$URL/api/v0/fetch" |
    zstd -3 -T1 -q -c |
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        -T - "$S3/$BUCKET/baseline/$id.gts.zst" >/dev/null
SH
chmod +x "$TMP/baseline-one.sh"
export TMP URL S3 BUCKET

measure() { # label, command...: writes "label wall user sys maxrss_kb" to $TMP/label.time
    local label=$1; shift
    /usr/bin/time -f "$label %e %U %S %M" -o "$TMP/$label.time" "$@"
}

echo "D1 from fake-warp10 ($HOSTS hosts x 10 series x 1 day at 10 s, $SEGMENTS segments of $SEGMENT, $JOBS jobs)" >&2
measure baseline xargs -P "$JOBS" -d '\n' -n 1 "$TMP/baseline-one.sh" <"$TMP/baseline.jobs" >/dev/null
measure ours "$BIN" -q --work-dir "$TMP/work" all --warp10-url "$URL" --selector "$SELECTOR" --start $START \
    --end $END --segment-length $SEGMENT --min-age 1h --dest "s3://$BUCKET/ours" --s3-endpoint "$S3" \
    --read-token-file "$TMP/read.token" --jobs "$JOBS" >"$TMP/run.ndjson"

POINTS=$(python3 -c 'import json,sys; print(sum(json.loads(l)["fetch"]["points"] for l in open(sys.argv[1])))' "$TMP/run.ndjson")
BASE_BYTES=$(stored baseline)
OURS_BYTES=$(stored ours)
python3 - "$TMP/baseline.time" "$TMP/ours.time" "$BASE_BYTES" "$OURS_BYTES" "$POINTS" <<'PY'
import sys
b = sys.argv[1:3]
rows = [open(p).read().split() for p in b]
base_bytes, ours_bytes, points = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
(bl, bw, bu, bs, bm), (ol, ow, ou, os_, om) = rows
bw, bu, bs, bm, ow, ou, os_, om = map(float, (bw, bu, bs, bm, ow, ou, os_, om))
print(f"{points} points")
print(f"{'':10} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'stored MB':>10} {'B/pt':>6}")
for name, w, c, m, by in (("baseline", bw, bu + bs, bm, base_bytes), ("ours", ow, ou + os_, om, ours_bytes)):
    print(f"{name:10} {w:8.2f} {c:8.2f} {m / 1024:9.1f} {by / 1e6:10.2f} {by / points:6.2f}")
print(f"ours/baseline: wall {ow / bw:.2f}x, cpu {(ou + os_) / (bu + bs):.2f}x, stored {ours_bytes / base_bytes:.3f}x "
      f"(target: wall <= 1.00x, stored <= 0.25x)")
print("(baseline peak memory is that of its largest single process; ours is the whole tool)")
PY
