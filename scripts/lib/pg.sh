# Sourced by scripts/test and bench/run: starts a throwaway PostgreSQL (initdb in a temporary
# directory as the postgres user, a random port, Unix socket only) and stops it on exit.
# Sets PG_DSN. Usage: start_throwaway_pg
start_throwaway_pg() {
  local pgbin attempt port
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/scimd-pg.XXXXXX)
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_DIR"  # initdb and pg_ctl refuse to run as root
    PG_AS=(runuser -u postgres --)
  fi
  PG_BIN=$pgbin
  trap stop_throwaway_pg EXIT
  "${PG_AS[@]}" "$pgbin/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    if "${PG_AS[@]}" "$pgbin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
         -o "-p $port -k $PG_DIR -c listen_addresses='' -c max_connections=200 ${PG_EXTRA_OPTS:-}" \
         start >/dev/null; then
      PG_DSN="postgresql://postgres@/postgres?host=$PG_DIR&port=$port"
      return 0
    fi
  done
  cat "$PG_DIR/server.log" >&2
  return 1
}

stop_throwaway_pg() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
