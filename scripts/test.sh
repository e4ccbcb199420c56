#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: formatting and lints, unit and end-to-end
# tests (the real binary on loopback), the catalog conformance suite on SQLite and PostgreSQL,
# the compatibility tests with the real InfluxDB client libraries, and a bounded fuzzing run.
# Installs what it needs (PostgreSQL, a Python venv, the 1.x `influx` shell) through scripts/
# beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"
step() { printf '\n==> %s\n' "$*" >&2; }

step "PostgreSQL for the catalog suite"
eval "$(scripts/postgres.sh | tail -n 1)"
export TIDEMARK_TEST_POSTGRES_URL

step "Python venv with the real client libraries"
venv="$(scripts/python-venv.sh | tail -n 1)"
# The storage crate's Parquet tests check that pyarrow reads what persistence writes.
export TIDEMARK_TEST_PYTHON="$venv/bin/python"

step "the InfluxDB 1.x shell for the v1 /query compatibility tests"
scripts/influx-cli.sh >/dev/null

step "cargo fmt"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo test (unit, end-to-end, catalog conformance on SQLite and PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
fi

step "compatibility tests with the real client libraries"
# The end-to-end tests above built this binary (with the same features); building it again
# separately would resolve features differently and recompile the whole tree.
bin="$target/debug/tidemark"
[ -x "$bin" ] || { echo "missing $bin after the test build" >&2; exit 1; }
TIDEMARK_BIN="$bin" "$venv/bin/python" -m pytest -q tests/compat

step "benchmark tool smoke run (tidemark-bench compare against InfluxDB 1.6, tiny scale)"
TIDEMARK_BENCH_PROFILE=debug scripts/bench-smoke.sh

if [ -x scripts/fuzz.sh ]; then
  step "fuzzing (bounded)"
  scripts/fuzz.sh "${TIDEMARK_FUZZ_SECONDS:-40}"
fi
step "all tests passed"
