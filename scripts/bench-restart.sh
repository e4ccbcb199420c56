#!/usr/bin/env bash
# Start-up time with acknowledged rows not yet persisted, tidemark beside InfluxDB 1.6.
#
#   scripts/bench-restart.sh [HOSTS] [SECONDS] [RUNS]     default: 1000 10000 3
#
# Generates TSBS cpu-only data with tidemark-bench (HOSTS x SECONDS at 10 s: 1,000,000 rows by
# default), loads it into a fresh server with durable acknowledgements, checks that nothing has
# left the WAL yet (tidemark: no Parquet file; InfluxDB: no TSM file), kills the server with
# SIGKILL, then restarts it RUNS times (SIGKILL again after each) and measures, per restart, the
# time from exec until a count query answers with every row:
#   tidemark: default flags (the buffer persists at 256 MiB or 10 minutes, so 1 M rows stay in
#             the WAL); SQL `SELECT count(*) FROM cpu` on /api/v3/query_sql.
#   InfluxDB: `cache-snapshot-memory-size` and the cold durations raised so its cache is not
#             snapshotted into TSM either; `SELECT count(usage_user) FROM cpu` on /query.
# Both are polled every 10 ms. Prints one table: the median and every run, in seconds.
# Needs the release binaries: cargo build --release -p tidemark && cargo build --release -p tidemark-bench
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
hosts="${1:-1000}"
secs="${2:-10000}"
runs="${3:-3}"
bin="$target/release"
for b in tidemark tidemark-bench; do
  [[ -x "$bin/$b" ]] || {
    echo "missing $bin/$b: cargo build --release -p tidemark && cargo build --release -p tidemark-bench" >&2
    exit 2
  }
done
if ! command -v influxd >/dev/null 2>&1; then
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb
fi

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

read -r tm_port ix_port ix_rpc < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

rows=$(( hosts * (secs / 10) ))
echo "==> generating $hosts hosts x ${secs}s ($rows rows)" >&2
"$bin/tidemark-bench" generate --hosts "$hosts" --duration "$secs" --out "$tmp/lp" >&2

# count URL-AND-ARGS...: prints the row count the server answers, or nothing.
tm_count() {
  curl -sf -G "http://127.0.0.1:$tm_port/api/v3/query_sql" -H 'Authorization: Token bench' \
    --data-urlencode db=benchmark --data-urlencode 'q=SELECT count(*) AS n FROM cpu' \
    --data-urlencode format=json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["n"])' 2>/dev/null || true
}
ix_count() {
  curl -sf -G "http://127.0.0.1:$ix_port/query" --data-urlencode db=benchmark \
    --data-urlencode 'q=SELECT count(usage_user) FROM cpu' 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])' \
      2>/dev/null || true
}

# ready COUNT-FN: waits (10 ms polls, at most 10 min) until the count equals $rows.
ready() {
  local deadline=$(( $(date +%s) + 600 ))
  while (( $(date +%s) < deadline )); do
    [[ "$($1)" == "$rows" ]] && return 0
    sleep 0.01
  done
  echo "the server never answered with $rows rows" >&2
  return 1
}

# restarts NAME COUNT-FN COMMAND...: RUNS timed restarts, each followed by SIGKILL.
restarts() {
  local name=$1 count=$2
  shift 2
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >>"$tmp/$name.log" 2>&1 &
    pid=$!
    ready "$count"
    t1=$(date +%s.%N)
    times+=("$(python3 -c "print(f'{$t1 - $t0:.3f}')")")
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
  done
  python3 - "$name" "${times[@]}" <<'PY'
import statistics, sys
name, times = sys.argv[1], [float(t) for t in sys.argv[2:]]
print(f"| {name} | {statistics.median(times):.3f} | {', '.join(f'{t:.3f}' for t in times)} |")
PY
}

tm=("$bin/tidemark" serve --data-dir "$tmp/tm" --bind "127.0.0.1:$tm_port" --operator-token bench)
echo "==> tidemark: load" >&2
"${tm[@]}" >"$tmp/tidemark.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$tm_port/ping" >/dev/null && break; sleep 0.2; done
org="$(curl -sf -H 'Authorization: Token bench' "http://127.0.0.1:$tm_port/api/v2/orgs" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["orgs"][0]["id"])')"
curl -sf -o /dev/null -H 'Authorization: Token bench' -H 'Content-Type: application/json' \
  "http://127.0.0.1:$tm_port/api/v2/buckets" \
  -d "{\"name\":\"benchmark\",\"orgID\":\"$org\",\"retentionRules\":[{\"type\":\"expire\",\"everySeconds\":0}]}"
"$bin/tidemark-bench" load --data "$tmp/lp" --url "http://127.0.0.1:$tm_port" --token bench >&2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=""
if [[ -n "$(find "$tmp/tm" -name '*.parquet' -print -quit)" ]]; then
  echo "tidemark persisted during the load: the measurement needs every row in the WAL" >&2
  exit 1
fi
tm_wal="$(du -sh "$tmp/tm/wal" | cut -f1)"

echo "==> InfluxDB 1.6: load" >&2
cat >"$tmp/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$ix_rpc"
[meta]
  dir = "$tmp/ix/meta"
[data]
  dir = "$tmp/ix/data"
  wal-dir = "$tmp/ix/wal"
  query-log-enabled = false
  cache-max-memory-size = "4g"
  cache-snapshot-memory-size = "2g"
  cache-snapshot-write-cold-duration = "1h"
  compact-full-write-cold-duration = "4h"
[http]
  bind-address = "127.0.0.1:$ix_port"
  log-enabled = false
[monitor]
  store-enabled = false
EOF
ix=(influxd run -config "$tmp/influxdb.conf")
"${ix[@]}" >"$tmp/influxdb.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ix_port/ping" >/dev/null && break; sleep 0.2; done
curl -sf -o /dev/null -XPOST "http://127.0.0.1:$ix_port/query" --data-urlencode "q=CREATE DATABASE benchmark"
"$bin/tidemark-bench" load --data "$tmp/lp" --url "http://127.0.0.1:$ix_port" --api v1 --db benchmark \
  --count-query v1 >&2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=""
if [[ -n "$(find "$tmp/ix/data" -name '*.tsm' -print -quit)" ]]; then
  echo "InfluxDB wrote TSM during the load: the measurement needs every row in the WAL" >&2
  exit 1
fi
ix_wal="$(du -sh "$tmp/ix/wal" | cut -f1)"

echo
echo "$rows acknowledged rows in the WAL only (tidemark WAL $tm_wal, InfluxDB WAL $ix_wal); $runs restarts each"
echo
echo "| server | median seconds from exec to a count of every row | runs |"
echo "|---|---|---|"
restarts tidemark tm_count "${tm[@]}"
restarts influxdb ix_count "${ix[@]}"
