#!/usr/bin/env bash
# Scan rates over persisted data, tidemark beside InfluxDB 1.6 on the same data and box.
#
#   scripts/bench-scan.sh [HOSTS] [DURATION] [RUNS]        default: 1000 1d 20
#
# Generates TSBS cpu-only data with tidemark-bench (HOSTS x DURATION, ending at today's UTC
# midnight), loads it into a fresh tidemark (v2 API, persisted to Parquet within seconds) and a
# fresh InfluxDB 1.6 (v1 API; Debian's `influxdb`, installed with apt-get if missing), waits
# until both have moved everything out of their WALs, then times two queries on each, RUNS
# times after 2 warm-ups, one at a time:
#   count:    tidemark SQL `SELECT count(*) FROM cpu`;
#             InfluxDB `SELECT count(usage_user) FROM cpu`
#   max/1m:   tidemark SQL `SELECT date_bin(INTERVAL '1 minute', time) AS minute,
#             max(usage_user) FROM cpu GROUP BY minute`;
#             InfluxDB `SELECT max(usage_user) FROM cpu WHERE <the data's range> GROUP BY time(1m)`
# It prints, per query: wall milliseconds per run, the server's CPU milliseconds per run
# (utime+stime from /proc, in clock ticks), and rows scanned per server CPU-second.
# Needs the release binaries: cargo build --release -p tidemark && cargo build --release -p tidemark-bench
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
hosts="${1:-1000}"
duration="${2:-1d}"
runs="${3:-20}"
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
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

read -r tm_port ix_port ix_rpc < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

end="$(date -u +%Y-%m-%dT00:00:00Z)"
secs="$(python3 -c "
import re,sys
d=sys.argv[1]; n=0
for v,u in re.findall(r'(\d+)([dhms])', d): n+=int(v)*{'d':86400,'h':3600,'m':60,'s':1}[u]
print(n)" "$duration")"
start="$(date -u -d "@$(( $(date -u -d "$end" +%s) - secs ))" +%Y-%m-%dT%H:%M:%SZ)"
rows=$(( hosts * secs / 10 ))

echo "==> generating $hosts hosts x $duration ($rows rows) from $start" >&2
"$bin/tidemark-bench" generate --hosts "$hosts" --duration "$duration" --start "$start" --out "$tmp/lp" >&2

# Waits until a directory holds less than 1 MiB (a WAL emptied into the data files).
drained() {
  for _ in $(seq 600); do
    (( $(du -sb "$1" | cut -f1) < 1048576 )) && return 0
    sleep 1
  done
  echo "$1 never drained" >&2
  return 1
}

echo "==> tidemark" >&2
"$bin/tidemark" serve --data-dir "$tmp/tm" --bind "127.0.0.1:$tm_port" --operator-token bench \
  --persist-max-age-seconds 5 >"$tmp/tm.log" 2>&1 &
tm_pid=$!
pids+=("$tm_pid")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$tm_port/ping" >/dev/null && break; sleep 0.2; done
org="$(curl -sf -H 'Authorization: Token bench' "http://127.0.0.1:$tm_port/api/v2/orgs" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["orgs"][0]["id"])')"
curl -sf -o /dev/null -H 'Authorization: Token bench' -H 'Content-Type: application/json' \
  "http://127.0.0.1:$tm_port/api/v2/buckets" \
  -d "{\"name\":\"benchmark\",\"orgID\":\"$org\",\"retentionRules\":[{\"type\":\"expire\",\"everySeconds\":0}]}"
"$bin/tidemark-bench" load --data "$tmp/lp" --url "http://127.0.0.1:$tm_port" --token bench \
  --count-query sql >&2
drained "$tmp/tm/wal"

echo "==> InfluxDB 1.6" >&2
cat >"$tmp/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$ix_rpc"
[meta]
  dir = "$tmp/ix/meta"
[data]
  dir = "$tmp/ix/data"
  wal-dir = "$tmp/ix/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "10s"
[http]
  bind-address = "127.0.0.1:$ix_port"
  log-enabled = false
[monitor]
  store-enabled = false
EOF
influxd run -config "$tmp/influxdb.conf" >"$tmp/ix.log" 2>&1 &
ix_pid=$!
pids+=("$ix_pid")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ix_port/ping" >/dev/null && break; sleep 0.2; done
curl -sf -o /dev/null -XPOST "http://127.0.0.1:$ix_port/query" --data-urlencode "q=CREATE DATABASE benchmark"
"$bin/tidemark-bench" load --data "$tmp/lp" --url "http://127.0.0.1:$ix_port" --api v1 \
  --db benchmark --count-query v1 >&2
drained "$tmp/ix/wal"
sleep 15 # the full compaction that follows a cold shard

tck="$(getconf CLK_TCK)"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure NAME PID URL-AND-QUERY...: curl's arguments after the URL
measure() {
  local name=$1 pid=$2
  shift 2
  for _ in 1 2; do curl -sf -o /dev/null -G "$@"; done
  local c0 t0 t1 c1
  c0=$(cpu "$pid")
  t0=$(date +%s.%N)
  for _ in $(seq "$runs"); do curl -sf -o /dev/null -G "$@"; done
  t1=$(date +%s.%N)
  c1=$(cpu "$pid")
  python3 - "$name" "$t0" "$t1" "$c0" "$c1" "$tck" "$runs" "$rows" <<'PY'
import sys
name, t0, t1, c0, c1, tck, runs, rows = sys.argv[1:]
wall = (float(t1) - float(t0)) / int(runs)
cpu = (int(c1) - int(c0)) / int(tck) / int(runs)
rate = f"{int(rows) / cpu / 1e6:,.1f}M" if cpu > 0 else "(under one tick)"
print(f"| {name} | {wall * 1000:,.1f} | {cpu * 1000:,.1f} | {rate} |")
PY
}

echo
echo "$rows rows, $runs runs each after 2 warm-ups"
echo
echo "| query | wall ms per run | server CPU ms per run | rows per server CPU-second |"
echo "|---|---|---|---|"
measure "tidemark count(*)" "$tm_pid" "http://127.0.0.1:$tm_port/api/v3/query_sql" \
  -H "Authorization: Token bench" --data-urlencode db=benchmark \
  --data-urlencode "q=SELECT count(*) FROM cpu"
measure "InfluxDB 1.6 count(usage_user)" "$ix_pid" "http://127.0.0.1:$ix_port/query" \
  --data-urlencode db=benchmark --data-urlencode "q=SELECT count(usage_user) FROM cpu"
measure "tidemark date_bin(1 minute) + max" "$tm_pid" "http://127.0.0.1:$tm_port/api/v3/query_sql" \
  -H "Authorization: Token bench" --data-urlencode db=benchmark \
  --data-urlencode "q=SELECT date_bin(INTERVAL '1 minute', time) AS minute, max(usage_user) FROM cpu GROUP BY minute"
measure "InfluxDB 1.6 max GROUP BY time(1m)" "$ix_pid" "http://127.0.0.1:$ix_port/query" \
  --data-urlencode db=benchmark \
  --data-urlencode "q=SELECT max(usage_user) FROM cpu WHERE time >= '$start' AND time < '$end' GROUP BY time(1m)"
