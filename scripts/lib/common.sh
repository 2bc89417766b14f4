# Shared by scripts/test, scripts/demo and scripts/bench. Source it; do not run it.
# Installs missing Debian packages and manages a throwaway PostgreSQL cluster.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"
# The revision in slotworker_build_info (read by Package.swift at build time; "unknown" outside git).
export SLOT_WORKER_GIT_REVISION="${SLOT_WORKER_GIT_REVISION:-$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG... — apt-get install the ones not installed yet (one apt-get update first).
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# unpacked_tool PACKAGE FILE — prints the path of FILE (relative to /) from Debian's PACKAGE, downloaded and
# unpacked under .build-tools/PACKAGE, never installed (so no daemon of the package starts).
unpacked_tool() {
    local dir="$REPO_ROOT/.build-tools/$1"
    if [ ! -x "$dir/$2" ]; then
        log "fetching $2 (Debian package $1, unpacked only)"
        mkdir -p "$dir"
        (cd "$dir" && { ls "$1"_*.deb >/dev/null 2>&1 || { as_root apt-get update -qq; apt-get download "$1" >/dev/null; }; } \
            && dpkg-deb -x "$1"_*.deb .)
    fi
    echo "$dir/$2"
}

# ensure_promtool — exports PROMTOOL: the installed promtool, else the one of Debian's prometheus package.
ensure_promtool() {
    PROMTOOL="$(command -v promtool || unpacked_tool prometheus usr/bin/promtool)"
    export PROMTOOL
}

# ensure_nginx — exports NGINX (the http benchmark's static-file reference): the installed nginx, else the one of
# Debian's nginx package (installing the package would start a server on port 80).
ensure_nginx() {
    NGINX="$(command -v nginx || unpacked_tool nginx usr/sbin/nginx)"
    export NGINX
}

# ensure_python_module MODULE PIPNAME
ensure_python_module() {
    python3 -c "import $1" 2>/dev/null || { log "pip install $2"; python3 -m pip install -q "$2" 2>/dev/null || pip install -q "$2"; }
}

PG_BIN="$(pg_config --bindir 2>/dev/null || true)"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_start [EXTRA_CONF...] — starts a throwaway cluster in a temp dir on a free port (as the postgres user when
# run as root), exports DATABASE_URL, PG_TMP, PG_PORT. pg_stop removes it; callers trap it on EXIT.
pg_start() {
    PG_BIN="$(pg_config --bindir)"
    PG_TMP="$(mktemp -d /tmp/slotworker-pg.XXXXXX)"
    PG_PORT="$(free_port)"
    local run=()
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_TMP" postgres
        chown postgres "$PG_TMP"
        chmod 755 "$PG_TMP"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PG_PORT"
        echo "unix_socket_directories = '$PG_TMP'"
        echo "max_connections = 300"
        echo "log_min_messages = warning"
        for line in "$@"; do echo "$line"; done
    } >>"$PG_TMP/data/postgresql.conf"
    "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 start >/dev/null
    export PG_TMP PG_PORT PG_BIN
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
    PG_RUN=("${run[@]}")
    log "PostgreSQL running on 127.0.0.1:$PG_PORT (data in $PG_TMP)"
}

# pgbouncer_start — PgBouncer (Debian's, 1.18 on bookworm) in transaction mode on a free port in front of the
# throwaway server started by pg_start (every database name is routed to it), as the postgres user when run as root,
# its ini, auth file and log in $PG_TMP/pgbouncer. Exports PGBOUNCER_URL (database postgres). pg_stop stops it.
pgbouncer_start() {
    local dir="$PG_TMP/pgbouncer" port tries=0
    port="$(free_port)"
    mkdir -p "$dir"
    echo '"postgres" ""' >"$dir/users.txt"
    printf '%s\n' "[databases]" "* = host=127.0.0.1 port=$PG_PORT" "[pgbouncer]" "listen_addr = 127.0.0.1" \
        "listen_port = $port" "unix_socket_dir =" "auth_type = trust" "auth_file = $dir/users.txt" \
        "pool_mode = transaction" "max_client_conn = 500" "default_pool_size = 4" \
        "logfile = $dir/pgbouncer.log" "pidfile = $dir/pgbouncer.pid" >"$dir/pgbouncer.ini"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$dir"; fi
    "${PG_RUN[@]}" /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
    until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            log "PgBouncer did not start: $(tail -5 "$dir/pgbouncer.log" 2>/dev/null)"
            return 1
        fi
        sleep 0.1
    done
    export PGBOUNCER_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    log "PgBouncer $(/usr/sbin/pgbouncer --version | head -1 | awk '{print $2}') (transaction mode) on 127.0.0.1:$port"
}

pg_stop() {
    # PgBouncer first (started by pgbouncer_start; stopped through its own pid file).
    if [ -n "${PG_TMP:-}" ] && [ -s "$PG_TMP/pgbouncer/pgbouncer.pid" ]; then
        kill "$(cat "$PG_TMP/pgbouncer/pgbouncer.pid")" 2>/dev/null || true
    fi
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
        "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ -n "${PG_TMP:-}" ] && rm -rf "$PG_TMP"
    PG_TMP=""
}
