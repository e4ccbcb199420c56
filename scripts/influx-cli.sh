#!/usr/bin/env bash
# Makes sure the InfluxDB 1.x shell (`influx`, Debian's influxdb-client package) is installed,
# for the compatibility tests that drive v1 /query with it. Does nothing when it is present.
# Prints the path of the binary on its last line.
set -euo pipefail
if ! command -v influx >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends influxdb-client >&2
fi
command -v influx
