#!/usr/bin/env bash
# The tour: build warp-offload, start a fake Warp 10 full of generated metrics, offload them with
# `all --purge`, check the range is empty, restore every archived segment and prove the data came
# back bit for bit (same per-segment digests as before the offload).
#
#   scripts/demo.sh            # into a local directory
#   scripts/demo.sh --s3       # into SeaweedFS (real S3 API), started by scripts/seaweedfs.sh
#                              # (WARP_OFFLOAD_DEMO_S3=1 does the same)
#   scripts/demo.sh --hosts 5 --days 1 --bin target/debug/warp-offload   # smaller, no build
#
# Needs the Rust toolchain, Python 3 and curl (and pip, for --s3). Everything listens on 127.0.0.1
# and lives in a temp directory removed on exit. Exits non-zero if anything does not match.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,11s/^# \{0,1\}//p' "$0"
    cat <<'EOF'

Options:
  --s3          offload into SeaweedFS instead of a local directory
  --hosts N     hosts of generated metrics, 10 series each (default 20)
  --days N      whole days of data at 10 s intervals (default 2)
  --bin PATH    use this warp-offload binary instead of building the release one
EOF
}

s3=${WARP_OFFLOAD_DEMO_S3:-0}
hosts=20
days=2
bin=
while (($#)); do
    case $1 in
        --s3) s3=1 ;;
        --hosts) hosts=${2:?--hosts needs a value}; shift ;;
        --days) days=${2:?--days needs a value}; shift ;;
        --bin) bin=${2:?--bin needs a value}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $hosts =~ ^[1-9][0-9]*$ && $days =~ ^[1-9][0-9]*$ ]] || {
    echo "demo.sh: --hosts and --days take whole numbers >= 1" >&2
    exit 2
}

step() { printf '==> %s\n' "$*"; }
fail() { printf 'demo.sh: FAILED: %s\n' "$*" >&2; exit 1; }

if [[ -z $bin ]]; then
    step "building the release binary (cargo build --release)"
    cargo build --release --quiet
    target=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    bin=$target/release/warp-offload
fi
[[ -x $bin ]] || fail "no executable at $bin"
wo() { "$bin" --progress never "$@"; }
now() { python3 -c 'import time; print(time.time())'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/warp-offload-demo.XXXXXX")
fake_pid=
cleanup() {
    if [[ -n $fake_pid ]]; then
        kill "$fake_pid" 2>/dev/null || true
        wait "$fake_pid" 2>/dev/null || true
    fi
    if [[ $s3 == 1 ]]; then
        WARP_OFFLOAD_SEAWEEDFS_STATE=$tmp/seaweedfs scripts/seaweedfs.sh stop || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Test tokens in owner-only files: the fake and the tool read them from there, never from argv.
(
    umask 077
    python3 -c 'import secrets; print("demo-read-" + secrets.token_hex(16), end="")' >"$tmp/read.token"
    python3 -c 'import secrets; print("demo-write-" + secrets.token_hex(16), end="")' >"$tmp/write.token"
)
tokens=(--read-token-file "$tmp/read.token")
all_tokens=("${tokens[@]}" --write-token-file "$tmp/write.token")

# The range: whole days from the generator's default start; also in microseconds (inclusive end)
# for the fake's /admin/count.
start=2024-01-15T00:00:00Z
read -r end start_us end_us < <(python3 -c 'import datetime, sys
t0 = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)
t1 = t0 + datetime.timedelta(days=int(sys.argv[1]))
print(t1.strftime("%Y-%m-%dT%H:%M:%SZ"), int(t0.timestamp()) * 10**6, int(t1.timestamp()) * 10**6 - 1)' "$days")
selector='~os\..*{}'
range=(--selector "$selector" --start "$start" --end "$end")

step "starting fake-warp10 with $hosts hosts x 10 series, $days day(s) of metrics every 10 s"
"$bin" --progress never fake-warp10 --listen 127.0.0.1:0 --port-file "$tmp/port" "${all_tokens[@]}" \
    --generate infra --hosts "$hosts" --days "$days" --start "$start" >"$tmp/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 600); do
    [[ -s $tmp/port ]] && break
    kill -0 "$fake_pid" 2>/dev/null || { cat "$tmp/fake.log" >&2; fail "fake-warp10 exited"; }
    sleep 0.1
done
[[ -s $tmp/port ]] || fail "fake-warp10 did not start listening within 60 s"
export WARP10_URL=http://127.0.0.1:$(cat "$tmp/port")

if [[ $s3 == 1 ]]; then
    step "starting SeaweedFS (scripts/seaweedfs.sh)"
    exports=$(WARP_OFFLOAD_SEAWEEDFS_STATE=$tmp/seaweedfs scripts/seaweedfs.sh start 2>"$tmp/seaweedfs.log") ||
        { cat "$tmp/seaweedfs.log" >&2; fail "SeaweedFS did not start"; }
    eval "$exports"
    export AWS_ACCESS_KEY_ID=$WARP_OFFLOAD_TEST_S3_ACCESS_KEY
    export AWS_SECRET_ACCESS_KEY=$WARP_OFFLOAD_TEST_S3_SECRET_KEY
    export AWS_ENDPOINT_URL_S3=$WARP_OFFLOAD_TEST_S3_ENDPOINT
    dest=s3://$WARP_OFFLOAD_TEST_S3_BUCKET/demo
else
    dest=$tmp/archive
fi

# Per-segment points, series, bytes of Warp 10 text and digest, as Warp 10 serves them now.
snapshot() {
    wo plan "${range[@]}" --segment-length 6h >"$tmp/plan.ndjson" 2>"$tmp/plan.log" ||
        { cat "$tmp/plan.log" >&2; fail "plan failed"; }
    wo --work-dir "$tmp/work-$1" fetch "${tokens[@]}" <"$tmp/plan.ndjson" >"$tmp/$1.ndjson" 2>"$tmp/$1.log" ||
        { cat "$tmp/$1.log" >&2; fail "fetch ($1) failed"; }
    rm -rf "$tmp/work-$1"
}

step "fetching every segment once to record its digest"
snapshot before

step "offloading: all --purge --dest $dest"
t0=$(now)
wo --work-dir "$tmp/work" all "${range[@]}" --segment-length 6h --dest "$dest" "${all_tokens[@]}" \
    --purge --jobs 4 >"$tmp/all.ndjson" 2>"$tmp/all.log" || { cat "$tmp/all.log" >&2; fail "all --purge failed"; }
t1=$(now)
tail -n 1 "$tmp/all.log"

step "ls --dest $dest"
wo ls --dest "$dest" >"$tmp/ls.ndjson" 2>"$tmp/ls.log" || { cat "$tmp/ls.log" >&2; fail "ls failed"; }
python3 - "$tmp/ls.ndjson" <<'EOF'
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    print(f"    {r['id']}  {r['state']:<8}  {r['points']:>9} points  {r['bytes']:>9} bytes  {r['codec']}")
EOF

step "checking that the offloaded range is now empty in Warp 10"
count=$(curl -sf --get "$WARP10_URL/admin/count" --data-urlencode "selector=$selector" \
    --data-urlencode "start=$start_us" --data-urlencode "end=$end_us")
python3 -c 'import json, sys
points = json.loads(sys.argv[1])["points"]
print(f"    {points} points left in the range")
sys.exit(points != 0)' "$count" || fail "points are left in the purged range"

step "restoring every archived segment"
segments=()
while read -r id; do segments+=(--segment "$id"); done < <(python3 -c 'import json, sys
for line in open(sys.argv[1]): print(json.loads(line)["id"])' "$tmp/ls.ndjson")
t2=$(now)
wo --work-dir "$tmp/work" restore --dest "$dest" "${segments[@]}" "${all_tokens[@]}" \
    >"$tmp/restore.ndjson" 2>"$tmp/restore.log" || { cat "$tmp/restore.log" >&2; fail "restore failed"; }
t3=$(now)

step "fetching again and comparing digests"
snapshot after

python3 - "$tmp" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import json, sys

tmp, t0, t1, t2, t3 = sys.argv[1], *map(float, sys.argv[2:])
def records(name):
    return {r["id"]: r for r in map(json.loads, open(f"{tmp}/{name}.ndjson"))}

before, after, listed = records("before"), records("after"), records("ls")
def same(r, s):
    return all(r["fetch"][k] == s["fetch"][k] for k in ("points", "series", "digest"))
def summary(r):
    return {k: r["fetch"][k] for k in ("points", "series", "digest")} if r else "missing"
bad = [i for i in before if i not in after or not same(before[i], after[i])]
missing = [i for i in before if i not in listed]
points = sum(r["fetch"]["points"] for r in before.values())
text = sum(r["fetch"]["bytes"] for r in before.values())
archived = sum(r["bytes"] for r in listed.values())
print(f"    {len(before) - len(bad)}/{len(before)} segments restored with equal points, series and digest")
print()
print(f"points            {points:>14,}")
print(f"Warp 10 text      {text:>14,} bytes")
print(f"archived          {archived:>14,} bytes  ({archived / points:.2f} bytes/point, ratio {text / archived:.1f}x)")
print(f"offload (purged)  {t1 - t0:>14.1f} s  ({points / (t1 - t0):,.0f} points/s)")
print(f"restore + check   {t3 - t2:>14.1f} s")
for i in bad:
    print(f"MISMATCH {i}: before {summary(before[i])}, after {summary(after.get(i))}", file=sys.stderr)
for i in missing:
    print(f"NOT ARCHIVED {i}", file=sys.stderr)
sys.exit(1 if bad or missing else 0)
EOF
echo "demo OK"
