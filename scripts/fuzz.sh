#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (the line-protocol parser: parse_lines, differential; the
# InfluxQL parser: influxql) for SECONDS each, default 60, on stable Rust. Exits non-zero if a
# target crashes; the input that did it is saved under fuzz/artifacts/<target>/ and
# `cargo fuzz run <target> <file>` replays it.
#
#   scripts/fuzz.sh [SECONDS]
#
# Idempotent: installs cargo-fuzz only if it is missing. libFuzzer needs a C++ compiler (g++ or
# clang++), which libfuzzer-sys builds it with.
#
# cargo-fuzz drives rustc with nightly-only flags (the sanitizer-coverage passes); RUSTC_BOOTSTRAP=1
# makes a stable rustc accept them. No sanitizer is used: the code under test has no `unsafe`, so
# AddressSanitizer would find nothing that a panic does not already report, and its runtime is not
# shipped with stable toolchains. Debug assertions are on, so arithmetic overflow is a crash too.
#
# Builds go to $FUZZ_TARGET_DIR (default fuzz/target), never the workspace's target directory:
# the instrumented flags would otherwise invalidate its cache.

set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if ! command -v c++ >/dev/null 2>&1; then
  echo "libFuzzer needs a C++ compiler (apt-get install g++)" >&2
  exit 1
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$fuzz/target}"
cd "$fuzz"

# Each target's read-only seeds and dictionary: the InfluxQL ones live with their crate.
influxql_inputs="$root/crates/tidemark-influxql/fuzz"
seeds_for() {
  case "$1" in
    influxql) echo "$influxql_inputs/seeds" ;;
    *) echo "$fuzz/seeds" ;;
  esac
}
dict_for() {
  case "$1" in
    influxql) echo "$influxql_inputs/influxql.dict" ;;
    *) echo "$fuzz/lp.dict" ;;
  esac
}

targets="$(cargo fuzz list)"
for target in $targets; do
  echo "==> fuzzing $target for ${seconds}s" >&2
  mkdir -p "corpus/$target"
  # corpus/<target> keeps what a run learns for the next one; the seeds are read only.
  cargo fuzz run --sanitizer none --debug-assertions "$target" "corpus/$target" \
    "$(seeds_for "$target")" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$(dict_for "$target")" \
    -print_final_stats=1
done
echo "all fuzz targets ran ${seconds}s without a crash: $(echo $targets)" >&2
