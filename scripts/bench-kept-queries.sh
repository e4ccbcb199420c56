#!/usr/bin/env bash
# Query families against a tidemark data directory kept after a load, with the server's context
# switches and CPU counted by `perf stat` over every query (BENCHMARKS.md, "Thread hand-offs").
# Running many cold queries against the same files separates one build from another better
# than a `compare` run, whose data and files differ from run to run.
#
#   scripts/bench-kept-queries.sh DATA_DIR START [FAMILIES] [RUNS]
#
# DATA_DIR: tidemark's `data` directory kept by `tidemark-bench compare --keep` (below the
# directory that compare prints as "kept PATH"). START: where the generated data begins, as
# compare's first line prints it (e.g. 2026-11-24T00:00:00Z). FAMILIES: comma-separated
# (default single-groupby-1-1-1); RUNS: timed runs per family (default 1000). HOSTS and
# DURATION come from the environment (default 1000 and 1d); BIN=path/to/tidemark serves with
# another build. Without `perf` (Debian: linux-perf), the counts are left out.
# Needs the release binaries: cargo build --release -p tidemark && cargo build --release -p tidemark-bench
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
[[ $# -ge 2 ]] || {
  sed -n '7,15p' "$0" >&2
  exit 2
}
data_dir="$1"
start="$2"
families="${3:-single-groupby-1-1-1}"
runs="${4:-1000}"
server="${BIN:-$target/release/tidemark}"
bench="$target/release/tidemark-bench"
# The operator token `tidemark-bench compare` gives its servers, unless TOKEN says otherwise.
token="${TOKEN:-tidemark-bench-operator-token-0123456789abcdef}"
port=18190
for b in "$server" "$bench"; do
  [[ -x "$b" ]] || {
    echo "missing $b: cargo build --release -p tidemark && cargo build --release -p tidemark-bench" >&2
    exit 2
  }
done
[[ -d "$data_dir/objects" ]] || {
  echo "$data_dir has no objects/: give the data directory of a tidemark that was loaded" >&2
  exit 2
}

log="$(mktemp)"
"$server" serve --data-dir "$data_dir" --bind "127.0.0.1:$port" --operator-token "$token" \
  --log-filter warn >"$log" 2>&1 &
pid=$!
stat_pid=""
cleanup() {
  [[ -z "$stat_pid" ]] || kill -INT "$stat_pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break
  sleep 0.1
done
# The series indexes of the files are built in the background at start; wait until the
# server is idle (under one clock tick of CPU in a second) so they are not timed.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
for _ in $(seq 60); do
  before=$(ticks)
  sleep 1
  (($(ticks) - before < 1)) && break
done

stats="$(mktemp)"
if command -v perf >/dev/null 2>&1; then
  perf stat -e context-switches,task-clock -p "$pid" -o "$stats" &
  stat_pid=$!
fi
"$bench" query --url "http://127.0.0.1:$port" --api influxql --db benchmark --token "$token" \
  --hosts "${HOSTS:-1000}" --duration "${DURATION:-1d}" --start "$start" --pid "$pid" \
  --runs "$runs" --warmup 3 --families "$families"
if [[ -n "$stat_pid" ]]; then
  kill -INT "$stat_pid"
  wait "$stat_pid" 2>/dev/null || true
  stat_pid=""
  queries=$(($(tr ',' '\n' <<<"$families" | wc -l) * (runs + 3)))
  awk -v q="$queries" '
    /context-switches/ { gsub(",", "", $1); printf "context switches per query: %.1f\n", $1 / q }
    /task-clock/       { gsub(",", "", $1); printf "server CPU-ms per query:    %.3f\n", $1 / q }
  ' "$stats"
fi
