#!/usr/bin/env bash
# The real Airflow 3 scheduler for the local stack: api-server, scheduler,
# dag-processor and triggerer (LocalExecutor, the local runner), metadata on
# the stack's PostgreSQL in a database of its own.
#   up      start what is not running, wait until healthy and the DAGs are
#           parsed and unpaused, print the URL and how to log in
#   down    stop every process `up` started (each service is the leader of a
#           session of its own: its LocalExecutor workers and task processes
#           are stopped with it)
#   status  the services and their pids
# Settings (environment): AIRFLOW_PORT (8080), AIRFLOW_SERVER_HOME
# ($STACK_DIR/airflow-server: airflow.cfg, pids, logs), AIRFLOW_SERVER_DB
# (superstore_airflow), AIRFLOW_PARALLELISM (4). Tests start their own with
# other values. The in-process runs (dag.test, `make demo`) keep theirs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
REPO=$PWD
PORT="${AIRFLOW_PORT:-8080}"
SERVER_HOME="${AIRFLOW_SERVER_HOME:-$STACK_DIR/airflow-server}"
SERVER_DB="${AIRFLOW_SERVER_DB:-superstore_airflow}"
RUN_DIR="$SERVER_HOME/run"
LOG_DIR="$SERVER_HOME/logs"
SERVICES=(api-server scheduler dag-processor triggerer)
VENV_BIN="$REPO/.venv/orchestration/bin"
STOP_SECONDS="${AIRFLOW_STOP_SECONDS:-30}"

server_env() {
  export AIRFLOW_HOME="$SERVER_HOME"
  export PATH="$VENV_BIN:$PATH"
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor
  export AIRFLOW__CORE__PARALLELISM="${AIRFLOW_PARALLELISM:-4}"
  # LocalExecutor workers come from a forkserver that has imported what every
  # task process needs (the task runner, the DAG files' operators, the
  # project's modules): a task then parses its DAG file without importing them.
  export AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver
  export AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=airflow.sdk.execution_time.supervisor,airflow.sdk.execution_time.task_runner,airflow.dag_processing.dagbag,airflow.providers.amazon.aws.sensors.sqs,airflow.providers.standard.operators.python,superstore_orchestration.dag_parts,superstore_orchestration.sqs
  # One machine, short tasks: an idle scheduler loop looks again after 0.25 s
  # (default 1 s), so a finished task's downstream starts sooner.
  export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="${AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME:-0.25}"
  export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
  export AIRFLOW__API__BASE_URL="http://127.0.0.1:$PORT/"
  export AIRFLOW__API__HOST=127.0.0.1
  export AIRFLOW__API__PORT="$PORT"
  export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=False
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$SERVER_HOME/passwords.json"
  export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$LOG_DIR/tasks"
  export AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH="$SERVER_HOME/bundles"
  # Environment, not arguments: the password stays out of process lists.
  local url="postgresql+psycopg://$WAREHOUSE_USER:$WAREHOUSE_PASSWORD@$WAREHOUSE_HOST:$WAREHOUSE_PORT/$SERVER_DB"
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$url"
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC="$url"
}

psql_warehouse() {
  # psql of the server's Debian package; the password through the environment
  PGPASSWORD="$WAREHOUSE_PASSWORD" psql -h "$WAREHOUSE_HOST" -p "$WAREHOUSE_PORT" -U "$WAREHOUSE_USER" \
    -v ON_ERROR_STOP=1 -qAtX "$@"
}

alive() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

# Every process of a service's session (the service, its workers, their tasks).
session_pids() { ps -e -o pid=,sid= | awk -v sid="$1" '$2 == sid { print $1 }'; }

secrets() {
  umask 077
  mkdir -p "$SERVER_HOME" "$RUN_DIR" "$LOG_DIR"
  if [ ! -s "$SERVER_HOME/passwords.json" ]; then
    # written before the api-server starts, so it never generates (and logs) one
    "$VENV_BIN/python" -c 'import json, secrets; print(json.dumps({"admin": secrets.token_urlsafe(18)}))' \
      > "$SERVER_HOME/passwords.json"
  fi
  umask 022
}

database() {
  if [ -z "$(psql_warehouse -d "$WAREHOUSE_DB" -c "select 1 from pg_database where datname = '$SERVER_DB'")" ]; then
    psql_warehouse -d "$WAREHOUSE_DB" -c "create database \"$SERVER_DB\""
  fi
  # `airflow db migrate` only when something changed: another Airflow, or a
  # database that is not at the revision the last migrate left it at.
  local version revision stamp="$SERVER_HOME/migrated.stamp"
  version=$(find "$REPO"/.venv/orchestration/lib/python*/site-packages -maxdepth 1 -name 'apache_airflow_core-*.dist-info' -printf '%f\n')
  revision=$(psql_warehouse -d "$SERVER_DB" -c "select version_num from alembic_version" 2>/dev/null || true)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version $SERVER_DB $revision" ] && [ -n "$revision" ]; then
    return
  fi
  echo "airflow db migrate ($SERVER_DB)"
  airflow db migrate > "$LOG_DIR/migrate.log" 2>&1 || { tail -20 "$LOG_DIR/migrate.log"; exit 1; }
  revision=$(psql_warehouse -d "$SERVER_DB" -c "select version_num from alembic_version")
  echo "$version $SERVER_DB $revision" > "$stamp"
}

start() {
  local service=$1
  shift
  alive "$service" && return
  # setsid: the service leads a session of its own, which `down` stops whole.
  setsid airflow "$service" "$@" < /dev/null >> "$LOG_DIR/$service.log" 2>&1 &
  echo $! > "$RUN_DIR/$service.pid"
}

up() {
  server_env
  secrets
  database
  local started=$SECONDS
  start scheduler
  start dag-processor
  start triggerer
  start api-server --host 127.0.0.1 --port "$PORT" --workers 1
  "$VENV_BIN/python" scripts/airflow_server.py wait --services "${SERVICES[*]}" || {
    for service in "${SERVICES[@]}"; do echo "== $LOG_DIR/$service.log"; tail -5 "$LOG_DIR/$service.log"; done
    exit 1
  }
  echo "airflow: up ($((SECONDS - started)) s)"
  echo "  UI + REST API: http://127.0.0.1:$PORT/  (api: /api/v2)"
  echo "  log in as admin, password in $SERVER_HOME/passwords.json"
  echo "  logs: $LOG_DIR   stop: make down"
}

down() {
  local service pid sessions=() waited=0
  for service in "${SERVICES[@]}"; do
    [ -f "$RUN_DIR/$service.pid" ] || continue
    pid=$(cat "$RUN_DIR/$service.pid")
    if kill -0 "$pid" 2>/dev/null; then
      sessions+=("$pid")
      # its own process group first (the service and its forked workers), then
      # every other group of its session (task processes lead their own)
      kill -TERM -- "-$pid" 2>/dev/null || true
      # shellcheck disable=SC2046
      kill -TERM $(session_pids "$pid") 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$service.pid"
  done
  while [ ${#sessions[@]} -gt 0 ]; do
    local left=()
    for pid in "${sessions[@]}"; do [ -n "$(session_pids "$pid")" ] && left+=("$pid"); done
    sessions=("${left[@]+"${left[@]}"}")
    [ ${#sessions[@]} -eq 0 ] && break
    if [ "$waited" -ge $((STOP_SECONDS * 5)) ]; then
      for pid in "${sessions[@]}"; do
        # shellcheck disable=SC2046
        kill -KILL $(session_pids "$pid") 2>/dev/null || true
      done
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  echo "airflow stopped ($SERVER_HOME)"
}

status() {
  local service
  for service in "${SERVICES[@]}"; do
    if alive "$service"; then
      echo "$service: running, pid $(cat "$RUN_DIR/$service.pid"), $(session_pids "$(cat "$RUN_DIR/$service.pid")" | wc -l) processes"
    else
      echo "$service: stopped"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
