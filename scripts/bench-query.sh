#!/usr/bin/env bash
# Cold-read benchmark: archives N days x (10 x HOSTS) series of fake-warp10's infra profile into a
# local SeaweedFS with `warp-offload all` (daily segments, columnar), then runs the target query,
# one series over one day, and prints the bytes it read against the bytes archived, and its
# wall time; with --encrypt, archives are encrypted. Everything stays on 127.0.0.1.
# Usage: scripts/bench-query.sh [--hosts 1000] [--days 30] [--interval 60s] [--encrypt]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

HOSTS=1000 DAYS=30 INTERVAL=60s ENCRYPT=0 KEY=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --hosts) HOSTS=$2; shift 2 ;;
        --days) DAYS=$2; shift 2 ;;
        --interval) INTERVAL=$2; shift 2 ;;
        --encrypt) ENCRYPT=1; shift ;;
        *) echo "usage: $0 [--hosts N] [--days N] [--interval 60s] [--encrypt]" >&2; exit 2 ;;
    esac
done

bench_setup
DEST=s3://$BUCKET/query-bench
S3_OPTS=(--s3-endpoint "$S3")
if [[ $ENCRYPT == 1 ]]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/archive.key"
    KEY=(--key-file "$TMP/archive.key")
fi
START=2024-01-01T00:00:00Z
END=$(date -u -d "2024-01-01 + $DAYS days" +%Y-%m-%dT%H:%M:%SZ)
bench_fake --generate infra --hosts "$HOSTS" --days "$DAYS" --interval "$INTERVAL" --start $START

echo "archiving $DAYS days x $((HOSTS * 10)) series every $INTERVAL (daily segments) into SeaweedFS..." >&2
"$BIN" -q --work-dir "$TMP/work" all --warp10-url "$URL" --selector '~os\..*{}' \
    --start $START --end "$END" --segment-length 1d --min-age 1h --dest "$DEST" "${S3_OPTS[@]}" \
    --read-token-file "$TMP/read.token" --jobs 2 "${KEY[@]}" >"$TMP/run.ndjson"
bench_stop_fake

TOTAL=$(python3 -c 'import json,sys; print(sum(json.loads(l)["upload"]["size"] for l in open(sys.argv[1])))' "$TMP/run.ndjson")
POINTS=$(python3 -c 'import json,sys; print(sum(json.loads(l)["fetch"]["points"] for l in open(sys.argv[1])))' "$TMP/run.ndjson")
echo "archive: $POINTS points in $(wc -l <"$TMP/run.ndjson") segments, $TOTAL bytes"

# The target query: one series, one day in the middle of the archive.
DAY=$(date -u -d "2024-01-01 + $((DAYS / 2)) days" +%Y-%m-%dT%H:%M:%SZ)
NEXT=$(date -u -d "2024-01-01 + $((DAYS / 2 + 1)) days" +%Y-%m-%dT%H:%M:%SZ)
for run in cold warm; do
    /usr/bin/time -f '%e' -o "$TMP/time" "$BIN" --log-format json query --dest "$DEST" "${S3_OPTS[@]}" "${KEY[@]}" \
        --selector 'os.cpu.usage_user{host~.*-0042\..*}' --start "$DAY" --end "$NEXT" \
        >"$TMP/out.txt" 2>"$TMP/log.json"
    python3 - "$TMP/log.json" "$TMP/out.txt" "$(cat "$TMP/time")" "$run" "$TOTAL" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
q = next(e for e in log if e.get("stage") == "query")
points = sum(1 for _ in open(sys.argv[2]))
read, met, total = q["bytes_read"], q["archived_bytes"], int(sys.argv[5])
print(f"{sys.argv[4]}: {q['msg']}; {points} points printed; read {read} bytes = {100 * read / total:.3f} % of the "
      f"archive ({100 * read / met:.2f} % of the segments met); wall {sys.argv[3]} s (target: <= 2 %, < 2 s)")
PY
done
