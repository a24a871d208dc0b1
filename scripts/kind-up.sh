#!/usr/bin/env bash
# The whole pipeline on a local Kubernetes cluster (kind), for machines with
# Docker: builds and loads the images, starts the local stand-ins (PostgreSQL,
# moto), installs the official Airflow chart + helm/superstore-pipeline, runs
# the initial load and then one incremental load.
#
#   SOURCE=path/to/superstore.csv scripts/kind-up.sh
#
# Needs docker, kind, and the official Airflow chart repository added to helm
# as AIRFLOW_CHART's repo (see the Apache Airflow Helm chart documentation);
# helm and kubectl come from scripts/helm.sh. Idempotent: rerunning upgrades
# what is there and reuses the generated passwords.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${KIND_CLUSTER:-superstore}
IMAGE_TAG=${IMAGE_TAG:-dev}
SOURCE=${SOURCE:-data/superstore.csv}
AIRFLOW_CHART=${AIRFLOW_CHART:-apache-airflow/airflow}
AIRFLOW_CHART_VERSION=${AIRFLOW_CHART_VERSION:-1.22.0}
DAG_RUN_TIMEOUT=${DAG_RUN_TIMEOUT:-1800}
AIRFLOW_NS=airflow
TASK_NS=superstore-tasks
LOCAL_NS=superstore-local
# moto accepts any credentials; these are not secrets.
MOTO_KEYS=(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing)
PATH="$(scripts/helm.sh --bin-dir):$PATH"

require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "kind-up: $tool is required" >&2; exit 1; }
  done
}

# Generic secret from KEY=VALUE pairs, created or updated in place. The values
# travel through a pipe (printf is a builtin), never through a command line.
apply_secret() {
  local namespace=$1 name=$2
  shift 2
  printf '%s\n' "$@" \
    | kubectl -n "$namespace" create secret generic "$name" --from-env-file=/dev/stdin --dry-run=client -o yaml \
    | kubectl apply -f - >/dev/null
}

# The warehouse password of an earlier run, or a new one.
warehouse_password() {
  local existing
  existing=$(kubectl -n "$LOCAL_NS" get secret warehouse-admin -o jsonpath='{.data.WAREHOUSE_PASSWORD}' 2>/dev/null || true)
  if [ -n "$existing" ]; then echo "$existing" | base64 -d; else head -c 18 /dev/urandom | base64 | tr -d '/+='; fi
}

create_cluster() {
  if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    kind create cluster --name "$CLUSTER" --wait 180s
  fi
  kubectl config use-context "kind-$CLUSTER" >/dev/null
}

# The step images and the Airflow image, all tagged IMAGE_TAG (scripts/images.sh).
build_and_load_images() {
  CONTAINER_ENGINE=docker IMAGE_TAG=$IMAGE_TAG scripts/images.sh build
  local ref
  for ref in $(IMAGE_TAG=$IMAGE_TAG scripts/images.sh refs); do
    kind load docker-image --name "$CLUSTER" "$ref"
  done
}

start_local_stack() {
  local password=$1
  kubectl apply -f helm/kind/local-stack.yaml
  apply_secret "$LOCAL_NS" warehouse-admin "WAREHOUSE_PASSWORD=$password"
  kubectl -n "$LOCAL_NS" rollout status deploy/warehouse deploy/moto --timeout 300s
  # Bucket, queue + dead-letter queue, bucket -> queue notification: the same
  # script as the host stack, run where boto3 already is (the moto image).
  kubectl -n "$LOCAL_NS" exec -i deploy/moto -- env "${MOTO_KEYS[@]}" AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:5000 \
    RAW_BUCKET=superstore-raw INCOMING_PREFIX=incoming/ \
    EVENTS_QUEUE=superstore-raw-events EVENTS_DLQ=superstore-raw-events-dlq \
    python3 - < scripts/aws_resources.py
  kubectl -n "$LOCAL_NS" exec -i deploy/moto -- env "${MOTO_KEYS[@]}" AWS_DEFAULT_REGION=us-east-1 python3 -c \
    "import sys, boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:5000').upload_fileobj(sys.stdin.buffer, 'superstore-raw', 'landing/superstore.csv')" \
    < "$SOURCE"
}

install_charts() {
  local password=$1
  kubectl create namespace "$AIRFLOW_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  helm upgrade --install superstore-pipeline helm/superstore-pipeline --namespace "$AIRFLOW_NS" \
    --values helm/kind/pipeline-values.yaml --set "image.tag=$IMAGE_TAG" --wait
  # Step pods: the warehouse password + moto's dummy keys. Airflow: the dummy keys.
  apply_secret "$TASK_NS" superstore-warehouse "WAREHOUSE_PASSWORD=$password" "${MOTO_KEYS[@]}"
  apply_secret "$AIRFLOW_NS" superstore-local-aws "${MOTO_KEYS[@]}"
  helm upgrade --install airflow "$AIRFLOW_CHART" --version "$AIRFLOW_CHART_VERSION" --namespace "$AIRFLOW_NS" \
    --values helm/airflow-values.yaml --values helm/kind/airflow-values.yaml \
    --set "images.airflow.tag=$IMAGE_TAG" --wait --timeout 15m
}

airflow_cli() {
  kubectl -n "$AIRFLOW_NS" exec deploy/airflow-scheduler -c scheduler -- airflow "$@"
}

# Trigger a DAG run and wait until it succeeds (exit 1 when it fails or times out).
run_dag() {
  local dag=$1 conf=$2 run_id deadline
  run_id="kind-up-$(date +%Y%m%dT%H%M%S)"
  deadline=$((SECONDS + DAG_RUN_TIMEOUT))
  until airflow_cli dags list -o plain 2>/dev/null | grep -q "$dag"; do
    [ $SECONDS -lt $deadline ] || { echo "kind-up: $dag was never parsed" >&2; exit 1; }
    sleep 10
  done
  airflow_cli dags unpause "$dag" >/dev/null
  airflow_cli dags trigger "$dag" --run-id "$run_id" --conf "$conf" >/dev/null
  echo "triggered $dag ($run_id)"
  while [ $SECONDS -lt $deadline ]; do
    if airflow_cli dags list-runs "$dag" --state success -o plain | grep -q "$run_id"; then
      echo "$dag $run_id: success"
      return
    fi
    if airflow_cli dags list-runs "$dag" --state failed -o plain | grep -q "$run_id"; then
      echo "kind-up: $dag $run_id failed" >&2
      exit 1
    fi
    sleep 15
  done
  echo "kind-up: $dag $run_id did not finish in ${DAG_RUN_TIMEOUT}s" >&2
  exit 1
}

require docker kind base64
[ -f "$SOURCE" ] || { echo "kind-up: no data file at $SOURCE (set SOURCE=path/to/superstore.csv)" >&2; exit 1; }
create_cluster
build_and_load_images
password=$(warehouse_password)
start_local_stack "$password"
install_charts "$password"
run_dag superstore_initial_load '{"source": "s3://superstore-raw/landing/superstore.csv"}'
run_dag superstore_incremental_load '{}'
echo "Airflow UI: kubectl -n $AIRFLOW_NS port-forward svc/airflow-api-server 8080:8080"
