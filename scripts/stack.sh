#!/usr/bin/env bash
# Local stand-ins for AWS: PostgreSQL (warehouse) and moto server (S3 + SQS).
# Idempotent: `up` starts what is not running, `down` stops what is.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
PGDATA="$STACK_DIR/pg"

install_postgres() {
  [ -n "$PG_BIN" ] && return
  echo "installing PostgreSQL (Debian package postgresql)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
}

as_postgres() { runuser -u postgres -- "$@"; }

pg_up() {
  install_postgres
  mkdir -p "$STACK_DIR"
  if [ ! -f "$STACK_DIR/secrets.env" ]; then
    umask 077
    echo "export WAREHOUSE_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$STACK_DIR/secrets.env"
    umask 022
  fi
  . "$STACK_DIR/secrets.env"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chown postgres "$PGDATA"
    as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  chmod o+x "$STACK_DIR"
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o "-p $WAREHOUSE_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  fi
  psql_admin() { as_postgres psql -h /tmp -p "$WAREHOUSE_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
  # The password goes through stdin, never a command line (process lists).
  local verb=alter
  [ -n "$(psql_admin -c "select 1 from pg_roles where rolname='$WAREHOUSE_USER'")" ] || verb=create
  psql_admin <<< "$verb role \"$WAREHOUSE_USER\" login createdb password '$WAREHOUSE_PASSWORD'" >/dev/null
  if [ -z "$(psql_admin -c "select 1 from pg_database where datname='$WAREHOUSE_DB'")" ]; then
    psql_admin -c "create database \"$WAREHOUSE_DB\" owner \"$WAREHOUSE_USER\""
  fi
  echo "warehouse: postgresql://$WAREHOUSE_USER@$WAREHOUSE_HOST:$WAREHOUSE_PORT/$WAREHOUSE_DB"
}

pg_down() {
  [ -n "$PG_BIN" ] && [ -f "$PGDATA/PG_VERSION" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
}

moto_port() { echo "${AWS_ENDPOINT_URL##*:}" | tr -d /; }

moto_up() {
  local port; port=$(moto_port)
  if ! curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
    nohup .venv/moto/bin/moto_server -H 127.0.0.1 -p "$port" > "$STACK_DIR/moto.log" 2>&1 &
    echo $! > "$STACK_DIR/moto.pid"
    for _ in $(seq 50); do curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  .venv/orchestration/bin/python scripts/aws_resources.py
  echo "s3/sqs: $AWS_ENDPOINT_URL (bucket $RAW_BUCKET, queue $EVENTS_QUEUE, dlq $EVENTS_DLQ)"
}

moto_down() {
  if [ -f "$STACK_DIR/moto.pid" ]; then kill "$(cat "$STACK_DIR/moto.pid")" 2>/dev/null || true; rm -f "$STACK_DIR/moto.pid"; fi
}

case "${1:-}" in
  up) pg_up; moto_up ;;
  down) moto_down; pg_down; echo "stack stopped" ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
