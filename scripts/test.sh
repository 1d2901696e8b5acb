#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test against a fake Warp 10
# (started by the tests themselves) and a real S3 store (SeaweedFS, started here on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

# The notify and scale-out tests run the retry commands and scripts they print, which use jq.
if ! command -v jq >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq jq >/dev/null
    else
        echo "test.sh: jq is needed by the tests (install it with your package manager)" >&2
        exit 1
    fi
fi

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

eval "$(scripts/seaweedfs.sh start)"
trap 'scripts/seaweedfs.sh stop' EXIT
# The S3 tests are #[ignore]d so that a plain `cargo test` reports them skipped; here SeaweedFS
# runs, so they run too (and fail without it, never pass).
cargo test -- --include-ignored
