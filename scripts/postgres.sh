#!/usr/bin/env bash
# Starts a PostgreSQL server for the catalog tests, listening on 127.0.0.1:5432 with user
# `postgres`, password `postgres`. Idempotent: installs the server only if missing, reuses a
# running cluster. Meant for Debian 12 (bookworm) as root, including containers without systemd.
#
#   eval "$(scripts/postgres.sh | tail -1)"
#   cargo test -p tidemark-catalog --test postgres
#
# The last line on stdout is the `export TIDEMARK_TEST_POSTGRES_URL=...` to evaluate; everything
# else goes to stderr. Exits non-zero, saying why, if the server cannot be made to work.

set -euo pipefail

readonly HOST=127.0.0.1
readonly PORT=5432
readonly PASSWORD=postgres
readonly URL="postgres://postgres:${PASSWORD}@${HOST}:${PORT}/postgres"
# Used only where Debian's cluster tools are missing.
readonly FALLBACK_DIR=/tmp/tidemark-postgres

log() { echo "postgres.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}
as_postgres() { runuser -u postgres -- "$@"; }

server_installed() {
    [ "$(dpkg-query -W -f='${Status}' postgresql 2>/dev/null)" = "install ok installed" ] &&
        compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

install_server() {
    if server_installed; then
        return
    fi
    log "installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q postgresql >&2 || die "apt-get install postgresql failed"
    server_installed || die "postgresql is still not installed after apt-get install"
}

# The newest installed major version, e.g. 15.
newest_version() {
    local versions
    versions=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n)
    [ -n "$versions" ] || die "no PostgreSQL server under /usr/lib/postgresql"
    echo "$versions" | tail -1
}

port_taken() { pg_isready -q -h "$HOST" -p "$PORT" || [ $? -eq 1 ]; }

# Debian's way: a cluster managed by postgresql-common (pg_lsclusters, pg_ctlcluster).
start_debian_cluster() {
    local version name status
    # Columns: version, cluster, port, status, owner, data directory, log file.
    read -r version name status < <(pg_lsclusters --no-header |
        awk -v port="$PORT" '$3 == port { print $1, $2, $4; exit }') || true
    if [ -z "${version:-}" ]; then
        if port_taken; then
            die "something that is not a Debian cluster already listens on port $PORT"
        fi
        version=$(newest_version)
        name=main
        if [ -n "$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main"')" ]; then
            name=tidemark
        fi
        log "creating cluster $version/$name on port $PORT"
        pg_createcluster "$version" "$name" --port "$PORT" >&2 ||
            die "pg_createcluster $version $name failed"
        status=down
    fi
    if [[ "$status" != online* ]]; then
        log "starting cluster $version/$name"
        # Without systemd (containers) pg_ctlcluster starts the server itself.
        mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
        pg_ctlcluster "$version" "$name" start >&2 || {
            tail -n 20 "/var/log/postgresql/postgresql-$version-$name.log" >&2 2>/dev/null || true
            die "pg_ctlcluster $version $name start failed (log above)"
        }
    else
        log "cluster $version/$name is already running"
    fi
    SOCKET_DIR=/var/run/postgresql
}

# Without postgresql-common: initdb and pg_ctl into a directory of our own.
start_private_cluster() {
    local bin data
    bin="/usr/lib/postgresql/$(newest_version)/bin"
    data="$FALLBACK_DIR/data"
    SOCKET_DIR="$FALLBACK_DIR"
    mkdir -p "$FALLBACK_DIR"
    chown postgres:postgres "$FALLBACK_DIR"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initialising $data"
        as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=peer \
            --auth-host=scram-sha-256 >&2 || die "initdb failed"
    fi
    if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "server in $data is already running"
        return
    fi
    port_taken && die "another server already listens on port $PORT"
    log "starting the server in $data"
    as_postgres "$bin/pg_ctl" -D "$data" -l "$FALLBACK_DIR/server.log" -w -t 30 \
        -o "-c listen_addresses=$HOST -c port=$PORT -c unix_socket_directories=$FALLBACK_DIR" \
        start >&2 || {
        tail -n 20 "$FALLBACK_DIR/server.log" >&2 2>/dev/null || true
        die "pg_ctl start failed (log above)"
    }
}

wait_until_ready() {
    local i
    for i in $(seq 1 60); do
        if pg_isready -q -h "$HOST" -p "$PORT"; then
            return
        fi
        sleep 0.5
    done
    die "the server does not accept connections on $HOST:$PORT after 30 s"
}

main() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts a cluster)"
    install_server
    command -v psql >/dev/null || die "psql is missing (install postgresql-client)"
    SOCKET_DIR=
    if command -v pg_lsclusters >/dev/null && command -v pg_ctlcluster >/dev/null; then
        start_debian_cluster
    else
        start_private_cluster
    fi
    wait_until_ready

    log "setting the password of user postgres"
    as_postgres psql -q -X -h "$SOCKET_DIR" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
        -c "ALTER USER postgres PASSWORD '$PASSWORD'" ||
        die "could not set the password of user postgres"

    # Prove that the URL we hand out works: TCP, password authentication.
    PGPASSWORD="$PASSWORD" psql -q -X -At "$URL" -c 'SELECT 1' >/dev/null ||
        die "cannot log in with $URL (check pg_hba.conf allows password logins from $HOST)"
    log "PostgreSQL is ready at $HOST:$PORT"
}

# Everything but the final line goes to stderr. The server started in main must not inherit
# stdout: a caller reading it through a pipe (`$(...)`, `| tail -1`) would wait for the server
# to exit.
main </dev/null >&2
echo "export TIDEMARK_TEST_POSTGRES_URL=$URL"
