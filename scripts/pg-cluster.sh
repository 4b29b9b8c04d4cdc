#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests of the PostgreSQL store: initdb into DIR as an
# unprivileged user, postgres listening on 127.0.0.1 only (a free port), trust authentication for
# its one role on loopback, fsync off (nothing in it outlives the test run).
#   eval "$(scripts/pg-cluster.sh start DIR)"   # exports BEATBOOK_TEST_PG_URL
#   scripts/pg-cluster.sh stop DIR              # stops it and removes DIR
set -euo pipefail
cmd="${1:?start or stop}"
dir="${2:?a directory for the cluster}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bin/initdb" ] || { echo "pg-cluster: PostgreSQL is not installed (apt: postgresql)" >&2; exit 1; }

# initdb refuses to run as root: use the postgres account the Debian package made.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      as_owner test -w "$dir" ||
        { echo "pg-cluster: the postgres account cannot reach $dir (a parent is private)" >&2; exit 1; }
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U beatbook --auth=trust -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    for _ in 1 2 3 4 5; do
      port=$(( 20000 + RANDOM % 30000 ))
      if as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 30 -l "$dir/server.log" \
           -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
           start >/dev/null; then
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U beatbook beatbook_test
        echo "export BEATBOOK_TEST_PG_URL=postgresql://beatbook@127.0.0.1:$port/beatbook_test"
        exit 0
      fi
    done
    echo "pg-cluster: postgres did not start; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "pg-cluster: unknown command '$cmd' (start or stop)" >&2
    exit 2
    ;;
esac
