#!/usr/bin/env bash
# Late writes into a busy day: what compaction leaves for queries before the day goes cold.
#
#   scripts/bench-late-writes.sh [TIDEMARK_BIN] [PORT]     default: target/release/tidemark 18300
#
# Generates 1,000 hosts x 8 h of TSBS cpu-only data (2.88 M rows, one day's partition) and
# lists every 40th body last in its manifest, so that 14 of 576 bodies arrive after the rest
# of their hours: the file persisted after them overlaps the earlier ones. Loads it into a
# fresh server (`--persist-max-age-seconds 5`, the default 600 s cold period) with 2 workers,
# waits 45 s for compaction, lists the day's files from the catalog, and runs lastpoint,
# groupby-orderby-limit and single-groupby-1-1-1 (20 runs each, 3 warm-up). Pass another
# build's binary to compare. Needs the release binaries, python3 and curl (sqlite3 to list
# the files).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
server="${1:-$target/release/tidemark}"
port="${2:-18300}"
bench="$target/release/tidemark-bench"
for b in "$server" "$bench"; do
  [[ -x "$b" ]] || {
    echo "missing $b: cargo build --release -p tidemark -p tidemark-bench" >&2
    exit 2
  }
done
data="${TMPDIR:-/tmp}/tidemark-late-writes-data"
if [[ ! -f "$data/manifest.json" ]]; then
  "$bench" generate --hosts 1000 --duration 8h --start 2026-11-20T00:00:00Z --out "$data" >/dev/null
  python3 - "$data/manifest.json" <<'PY'
import json, sys
path = sys.argv[1]
m = json.load(open(path))
files = m["files"]
m["files"] = [f for i, f in enumerate(files) if i % 40 != 20] + [f for i, f in enumerate(files) if i % 40 == 20]
json.dump(m, open(path, "w"), indent=2)
PY
fi
work="$(mktemp -d)"
token=tidemark-late-writes-token-0123456789abcdef
url="http://127.0.0.1:$port"
"$server" serve --data-dir "$work/data" --bind "127.0.0.1:$port" --operator-token "$token" \
  --org-name default --persist-max-age-seconds 5 --log-filter info >"$work/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.1; done
auth="Authorization: Token $token"
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
org=$(curl -sf -H "$auth" "$url/api/v2/orgs?org=default" | json '["orgs"][0]["id"]')
bucket=$(curl -sf -XPOST -H "$auth" -H 'Content-Type: application/json' "$url/api/v2/buckets" \
  -d "{\"orgID\":\"$org\",\"name\":\"benchmark\",\"retentionRules\":[{\"type\":\"expire\",\"everySeconds\":0}]}" |
  json '["id"]')
curl -sf -XPOST -H "$auth" -H 'Content-Type: application/json' "$url/api/v2/dbrps" \
  -d "{\"orgID\":\"$org\",\"bucketID\":\"$bucket\",\"database\":\"benchmark\",\"retention_policy\":\"autogen\",\"default\":true}" >/dev/null
"$bench" load --data "$data" --url "$url" --token "$token" --bucket benchmark --workers 2 --pid "$pid"
sleep 45
sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -E "persisted the buffer|compacted" || true
if command -v sqlite3 >/dev/null 2>&1; then
  echo "the day's files (level, rows, min time, max time):"
  sqlite3 "$work/data/catalog.sqlite" \
    "select level, row_count, min_time, max_time from parquet_files order by min_time"
fi
"$bench" query --url "$url" --token "$token" --db benchmark --data "$data" --pid "$pid" \
  --families lastpoint,groupby-orderby-limit,single-groupby-1-1-1 --runs 20 --warmup 3
