#!/usr/bin/env bash
# A streaming hot standby of the machine's PostgreSQL cluster (15 main, port 5432) on port 5433,
# for the read-replica tests (DATABASE_REPLICA_URL). Debian's cluster tools, run as root.
#   start   create (or repair) the standby and wait until it replays the primary's WAL
#   stop    drop the standby cluster
#   status  exit 0 when the standby is up, in recovery and streaming
# Idempotent: `start` on a healthy standby only checks it; a stale or broken one is recreated.
set -euo pipefail

VERSION="${PG_VERSION:-$(ls /etc/postgresql | sort -n | tail -1)}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PORT="${STANDBY_PORT:-5433}"
NAME=standby
DATA="/var/lib/postgresql/${VERSION}/${NAME}"
HBA="/etc/postgresql/${VERSION}/main/pg_hba.conf"
HBA_LINE="host replication all 127.0.0.1/32 trust"

as_pg() { runuser -u postgres -- "$@"; }
psql_at() { psql -X -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atqc "$2"; }
exists() { pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v n="$NAME" '$1==v && $2==n {f=1} END {exit !f}'; }

streaming() {
  # In recovery and receiving WAL from the primary right now.
  [ "$(psql_at "$PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ] &&
    [ "$(psql_at "$PORT" "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null)" = 1 ]
}

caught_up() {
  # Replays a WAL position written after this call (a fresh primary LSN) within the timeout.
  local target
  target="$(psql_at "$PRIMARY_PORT" "SELECT pg_current_wal_insert_lsn()")"
  for _ in $(seq "${1:-60}"); do
    # A paused replay (a test left it) is resumed: a standby that never replays is useless.
    [ "$(psql_at "$PORT" "SELECT pg_is_wal_replay_paused()" 2>/dev/null)" = t ] &&
      psql_at "$PORT" "SELECT pg_wal_replay_resume()" >/dev/null
    [ "$(psql_at "$PORT" "SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn" 2>/dev/null)" = t ] && return 0
    sleep 1
  done
  return 1
}

allow_replication() {
  if ! grep -qE '^\s*host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$HBA"; then
    echo "$HBA_LINE" >> "$HBA"
    psql_at "$PRIMARY_PORT" "SELECT pg_reload_conf()" >/dev/null
  fi
  [ "$(psql_at "$PRIMARY_PORT" "SHOW wal_level")" != minimal ] || { echo "wal_level=minimal on the primary" >&2; exit 1; }
}

drop() {
  if exists; then
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" stop -m immediate 2>/dev/null || true
    pg_dropcluster "$VERSION" "$NAME"
  fi
  rm -rf "$DATA"
}

create() {
  drop
  pg_createcluster "$VERSION" "$NAME" -p "$PORT" >/dev/null
  # Debian reads the configuration from /etc: the standby takes the primary's client
  # authentication, so every role connects to it as it does to the primary.
  cp "$HBA" "/etc/postgresql/${VERSION}/${NAME}/pg_hba.conf"
  cat >> "/etc/postgresql/${VERSION}/${NAME}/postgresql.conf" <<CONF
# Read-replica standby (.ci/standby.sh)
hot_standby = on
# Queries on the standby are not cancelled by vacuum on the primary.
hot_standby_feedback = on
# A throwaway standby: syncfs instead of an fsync of every file on start.
recovery_init_sync_method = syncfs
CONF
  # An empty data directory owned by postgres (its parent is root's on Debian).
  rm -rf "$DATA" && install -d -o postgres -g postgres -m 700 "$DATA"
  as_pg pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast --no-sync
  # The primary's auto.conf came along with the base backup; the standby keeps its own port.
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start
}

start() {
  pg_isready -q -h 127.0.0.1 -p "$PRIMARY_PORT" || { echo "primary on $PRIMARY_PORT is down" >&2; exit 1; }
  allow_replication
  if exists; then
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start >/dev/null 2>&1 || true
    for _ in $(seq 15); do streaming && break; sleep 1; done
    if streaming && caught_up 30; then
      echo "standby ${VERSION}/${NAME} on ${PORT}: streaming, caught up"
      return 0
    fi
    echo "standby ${VERSION}/${NAME} is stale or broken: recreating"
  fi
  create
  for _ in $(seq 60); do streaming && break; sleep 1; done
  streaming || { echo "standby did not start streaming" >&2; tail -20 "/var/log/postgresql/postgresql-${VERSION}-${NAME}.log" >&2; exit 1; }
  caught_up 60 || { echo "standby does not replay" >&2; exit 1; }
  echo "standby ${VERSION}/${NAME} on ${PORT}: streaming, caught up"
}

case "${1:-}" in
  start) start ;;
  stop) drop; echo "standby ${VERSION}/${NAME} dropped" ;;
  status)
    if exists && streaming; then
      echo "standby ${VERSION}/${NAME} on ${PORT}: streaming, replay lag $(psql_at "$PORT" \
        "SELECT coalesce(now() - pg_last_xact_replay_timestamp(), '0')")"
    else
      echo "standby ${VERSION}/${NAME}: not streaming"; exit 1
    fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
