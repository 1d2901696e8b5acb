# Shared setup of the benchmarks that run warp-offload against fake-warp10 and a local SeaweedFS
# (bench-pipeline.sh, bench-query.sh). Sourced from the repository's root, not run. Everything
# stays on 127.0.0.1.
#
#   bench_setup                      # release build, $BIN (or $BENCH_BIN: another build), $TMP (removed on exit), SeaweedFS
#                                    # started (S3 endpoint $S3, bucket $BUCKET, AWS_* exported),
#                                    # $TMP/read.token and $TMP/write.token
#   bench_fake ARGS...               # starts fake-warp10 with the tokens and ARGS (e.g.
#                                    # --generate infra --hosts 100 --days 1); sets $URL; its
#                                    # stderr (and its "interrupted" when stopped) goes to
#                                    # $TMP/fake-warp10.log
#   bench_stop_fake                  # stops it
#   bench_stored PREFIX              # bytes of every object under PREFIX/ in $BUCKET

bench_setup() {
    if [[ -n ${BENCH_BIN:-} ]]; then
        BIN=$(realpath "$BENCH_BIN")
    else
        cargo build --release --quiet
        BIN=$PWD/target/release/warp-offload
    fi
    TMP=$(mktemp -d)
    export WARP_OFFLOAD_SEAWEEDFS_STATE=$TMP/seaweedfs
    trap bench_cleanup EXIT
    eval "$(scripts/seaweedfs.sh start)"
    export AWS_ACCESS_KEY_ID=$WARP_OFFLOAD_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$WARP_OFFLOAD_TEST_S3_SECRET_KEY
    S3=$WARP_OFFLOAD_TEST_S3_ENDPOINT BUCKET=$WARP_OFFLOAD_TEST_S3_BUCKET
    umask 077
    printf 'bench-read' >"$TMP/read.token"
    printf 'bench-write' >"$TMP/write.token"
}

bench_cleanup() {
    bench_stop_fake
    scripts/seaweedfs.sh stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}

bench_fake() {
    rm -f "$TMP/port"
    "$BIN" -q fake-warp10 --listen 127.0.0.1:0 --port-file "$TMP/port" --read-token-file "$TMP/read.token" \
        --write-token-file "$TMP/write.token" "$@" >/dev/null 2>"$TMP/fake-warp10.log" &
    FAKE_PID=$!
    while [[ ! -s $TMP/port ]]; do
        kill -0 "$FAKE_PID" 2>/dev/null || { echo "fake-warp10 exited:" >&2; cat "$TMP/fake-warp10.log" >&2; exit 1; }
        sleep 0.2
    done
    URL=http://127.0.0.1:$(cat "$TMP/port")
}

bench_stop_fake() {
    if [[ -n ${FAKE_PID:-} ]]; then
        kill "$FAKE_PID" 2>/dev/null || true
        wait "$FAKE_PID" 2>/dev/null || true
    fi
    FAKE_PID=
}

# Sum of the sizes of every object under a prefix (ListObjectsV2, one page of up to 1000 keys).
bench_stored() {
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        "$S3/$BUCKET?list-type=2&prefix=$(python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1] + "/", safe=""))' "$1")" |
        python3 -c 'import re,sys; print(sum(map(int, re.findall(r"<Size>(\d+)</Size>", sys.stdin.read()))))'
}
