#!/usr/bin/env bash
# Creates (or reuses) a Python venv holding the real InfluxDB client libraries the compatibility
# tests drive. Prints the venv's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/compat/requirements.txt
venv="${TIDEMARK_VENV:-$HOME/.cache/tidemark-venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2 || {
    apt-get update >&2 && apt-get install -y python3-venv >&2 && python3 -m venv "$venv" >&2
  }
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv"
