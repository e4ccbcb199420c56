#!/usr/bin/env bash
# InfluxQL golden files: asks a real InfluxDB 1.x (Debian's `influxdb` package, 1.6.7) what
# every query of the suite answers, so tidemark's v1 `/query` can be compared with it.
#
#   scripts/influxql-goldens.sh                 regenerate crates/tidemark/tests/influxql/expected/
#   scripts/influxql-goldens.sh --run CMD...    start an empty influxd and run CMD with
#                                               TIDEMARK_GOLDEN_URL pointing at it and
#                                               TIDEMARK_GOLDEN_STRICT=1 (every case must
#                                               match: the goldens are this server's answers)
#     scripts/influxql-goldens.sh --run cargo test -p tidemark --test influxql_golden
#
# Regeneration: installs `influxdb` with apt-get when `influxd` is missing, starts influxd on
# throwaway directories and free loopback ports (HTTP and RPC), then for each data set
# `tests/influxql/data/<stem>.lp` runs `CREATE DATABASE "<stem>"` and writes the file through
# `/write?db=<stem>&precision=ns` (the write's answer becomes `expected/write-<stem>.json`:
# `null` for 204, else the error body), runs every query of `tests/influxql/queries/*.txt`
# through `GET /query` and stores the response body as `expected/<id>.json` (keys sorted,
# two-space indent, so diffs stay readable) and every HTTP status in `expected/statuses.txt`.
# Files of ids that no longer exist are removed.
# Everything is fixed (data timestamps, explicit time bounds), so two runs give identical files.
#
# Query files: one query per line, `id<TAB>db<TAB>query[<TAB>params]`; `db` `-` sends no `db`;
# `params` are extra URL parameters such as `epoch=s`; `#` lines and blank lines are ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=crates/tidemark/tests/influxql

mode=generate
if [[ "${1:-}" == "--run" ]]; then
  mode=run
  shift
  [[ $# -gt 0 ]] || { echo "usage: $0 [--run CMD...]" >&2; exit 2; }
fi

if ! command -v influxd >/dev/null 2>&1; then
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y influxdb
fi
echo "using $(influxd version)" >&2

tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Two free loopback ports (the kernel picks them; the tiny race with other programs is harmless).
read -r http_port rpc_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

# Everything that would add state or noise is off: the _internal database (it would show up in
# SHOW DATABASES), continuous queries, subscriptions, usage reporting and the logs.
cat >"$tmp/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"
[meta]
  dir = "$tmp/meta"
[data]
  dir = "$tmp/data"
  wal-dir = "$tmp/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$http_port"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[logging]
  level = "error"
EOF
influxd run -config "$tmp/influxdb.conf" >"$tmp/influxd.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$http_port"
for _ in $(seq 100); do
  curl -fsS "$url/ping" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/influxd.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$url/ping" >/dev/null

if [[ "$mode" == run ]]; then
  # The runner creates the databases and writes the data sets itself.
  TIDEMARK_GOLDEN_URL="$url" TIDEMARK_GOLDEN_TOKEN="" TIDEMARK_GOLDEN_STRICT=1 "$@"
  exit
fi

python3 - "$url" "$suite" <<'PY'
import glob, json, os, sys, urllib.error, urllib.parse, urllib.request

url, suite = sys.argv[1], sys.argv[2]
expected_dir = os.path.join(suite, "expected")
os.makedirs(expected_dir, exist_ok=True)

def call(method, path, params, body=None):
    req = urllib.request.Request(
        f"{url}{path}?{urllib.parse.urlencode(params)}", data=body, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

statuses = []

def store(case_id, status, raw):
    statuses.append(f"{case_id}\t{status}\n")
    value = json.loads(raw) if raw.strip() else None
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    with open(os.path.join(expected_dir, case_id + ".json"), "w", encoding="utf-8") as f:
        f.write(text)

ids = []
for path in sorted(glob.glob(os.path.join(suite, "data", "*.lp"))):
    stem = os.path.basename(path)[:-3]
    status, body = call("POST", "/query", {"q": f'CREATE DATABASE "{stem}"'})
    assert status == 200 and b"error" not in body, (stem, status, body)
    with open(path, "rb") as f:
        status, body = call("POST", "/write", {"db": stem, "precision": "ns"}, f.read())
    print(f"write {stem}: {status} {body.decode()[:200]}", file=sys.stderr)
    store(f"write-{stem}", status, body)
    ids.append(f"write-{stem}")

for path in sorted(glob.glob(os.path.join(suite, "queries", "*.txt"))):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            assert len(cols) in (3, 4), f"{path}:{n}: want id<TAB>db<TAB>query[<TAB>params]"
            case_id, db, q = cols[:3]
            assert case_id not in ids, f"{path}:{n}: duplicate id {case_id}"
            params = {"q": q}
            if db != "-":
                params["db"] = db
            if len(cols) == 4:
                params.update(urllib.parse.parse_qsl(cols[3], strict_parsing=True))
            status, body = call("GET", "/query", params)
            store(case_id, status, body)
            ids.append(case_id)

with open(os.path.join(expected_dir, "statuses.txt"), "w", encoding="utf-8") as f:
    f.write("# HTTP status of each case (id<TAB>status), by scripts/influxql-goldens.sh\n")
    f.writelines(statuses)

wanted = {i + ".json" for i in ids} | {"statuses.txt"}
for name in os.listdir(expected_dir):
    if name not in wanted:
        os.remove(os.path.join(expected_dir, name))
print(f"{len(ids)} cases stored in {expected_dir}", file=sys.stderr)
PY
