#!/usr/bin/env bash
# Offline checks of the Kubernetes side and the image recipes (no cluster, no
# engine): helm lint, then tests/helm (helm template with the kind and the
# production-like values, every manifest validated against the Kubernetes API
# schema, RBAC/IRSA/secret/NetworkPolicy assertions, shellcheck, compose file)
# and tests/images (static Dockerfile checks).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh  # AIRFLOW_HOME: one test builds pods with Airflow's own operator
PY=.venv/orchestration/bin/python

if ! command -v shellcheck >/dev/null; then
  echo "installing shellcheck (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi
CHART=helm/superstore-pipeline

for values in "$CHART/ci/prod-values.yaml" helm/kind/pipeline-values.yaml; do
  scripts/helm.sh lint --strict --quiet "$CHART" --values "$values"
done
# --confcutdir: these suites need no local stack (tests/conftest.py asks for one).
status=0
for suite in tests/helm tests/images; do
  "$PY" -m pytest -q --confcutdir="$suite" "$suite" || status=1
done
exit $status
