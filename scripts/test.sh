#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test against a fake Warp 10
# (started by the tests themselves) and a real S3 store (SeaweedFS, started here on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

eval "$(scripts/seaweedfs.sh start)"
trap 'scripts/seaweedfs.sh stop' EXIT
cargo test
