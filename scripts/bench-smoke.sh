#!/usr/bin/env bash
# Keeps the benchmark tool working: builds tidemark and tidemark-bench, then runs
# `tidemark-bench compare` at a tiny scale (5 hosts x 10 min, 1 worker) against InfluxDB 1.6
# from Debian's `influxdb` package, which `compare` installs if influxd is missing (needs root
# or password-less sudo), then the TSBS query families on both. Fails if any write is refused,
# a count does not match the rows sent, the data never settles on disk, a query family's
# answers differ between the two systems, or a figure is missing from the output.
# Takes well under 2 minutes after the build. TIDEMARK_BENCH_PROFILE=debug (what scripts/test.sh
# uses) reuses the debug build of the test run instead of a release build: the smoke checks
# that the tool works, not how fast anything is.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"
step() { printf '\n==> %s\n' "$*" >&2; }

profile="${TIDEMARK_BENCH_PROFILE:-release}"
if [ "$profile" = debug ]; then
  # The same features as the test build, so nothing is compiled twice.
  step "cargo build --workspace --all-features --bins"
  cargo build --workspace --all-features --bins
else
  step "cargo build --release -p tidemark -p tidemark-bench"
  cargo build --release -p tidemark -p tidemark-bench
fi
bin="$target/$profile"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

step "tidemark-bench compare (5 hosts x 10 min, 1 worker)"
"$bin/tidemark-bench" compare \
  --hosts 5 --duration 10m --batch-size 100 --workers 1 \
  --tidemark "$bin/tidemark" \
  --tidemark-port "${TIDEMARK_BENCH_PORT:-18181}" \
  --influx-port "${INFLUX_BENCH_PORT:-18086}" \
  --influx-rpc-port "${INFLUX_BENCH_RPC_PORT:-18088}" \
  --full-compaction-cold 2 \
  --settle-timeout 90 \
  --query-runs 2 --query-warmup 1 \
  --json-out "$out/compare.json"

step "checking the figures"
# compare itself fails on a refused write or a count that differs from the rows sent; this
# checks that both systems reported every figure the table needs, with the expected row count.
"$bin/tidemark-bench" check-compare "$out/compare.json" --rows 300
step "bench smoke passed"
