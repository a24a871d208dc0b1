#!/usr/bin/env bash
# Build the pipeline's images with Docker or Podman: the four step images
# (one recipe, images/Dockerfile, a build arg + target per image) and the
# Airflow image helm/airflow-values.yaml and docker-compose.yml run
# (orchestration/Dockerfile). Unchanged images come from the layer cache.
#
#   scripts/images.sh build [IMAGE...]   build IMAGEs (default: all), print timings
#   scripts/images.sh refs [IMAGE...]    print the image references
#   scripts/images.sh list               print the image names
#
# Environment:
#   CONTAINER_ENGINE   docker | podman (default: docker when its engine answers)
#   IMAGE_REPOSITORY   default superstore      -> superstore/<image>:<tag>
#   IMAGE_TAG          default dev: the tag and the org.opencontainers.image.version
#                      label of every image
#   BASE_IMAGE         default python:3.11-slim-bookworm; when it can be neither
#                      found nor pulled, a local Debian base is built instead
#                      (scripts/base-image.sh) so no registry is needed
#   CA_BUNDLE          CA bundle pip trusts inside the build, passed as a build
#                      secret (default: the host's, if present)
#   IMAGE_SOURCE_URL   org.opencontainers.image.source label
set -euo pipefail
cd "$(dirname "$0")/.."

STEP_IMAGES=(generator loader dbt soda)
ALL_IMAGES=("${STEP_IMAGES[@]}" airflow)
IMAGE_REPOSITORY=${IMAGE_REPOSITORY:-superstore}
IMAGE_TAG=${IMAGE_TAG:-dev}
DEFAULT_BASE_IMAGE=python:3.11-slim-bookworm
LOCAL_BASE_IMAGE=${LOCAL_BASE_IMAGE:-localhost/python-base:3.11-bookworm}
PULL_TIMEOUT=${PULL_TIMEOUT:-120}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
IMAGE_SOURCE_URL=${IMAGE_SOURCE_URL:-${GITHUB_SERVER_URL:+$GITHUB_SERVER_URL/${GITHUB_REPOSITORY:-}}}

image_ref() { echo "$IMAGE_REPOSITORY/$1:$IMAGE_TAG"; }

# The official Python image when it is here or can be pulled; otherwise the
# local Debian base (a failed pull without a registry returns at once).
resolve_base_image() {
  if [ -n "${BASE_IMAGE:-}" ]; then return; fi
  if image_exists "$DEFAULT_BASE_IMAGE" \
    || timeout "$PULL_TIMEOUT" "$CONTAINER_ENGINE" pull -q "$DEFAULT_BASE_IMAGE" >/dev/null 2>&1; then
    BASE_IMAGE=$DEFAULT_BASE_IMAGE
  else
    echo "cannot pull $DEFAULT_BASE_IMAGE: using the local base $LOCAL_BASE_IMAGE" >&2
    scripts/base-image.sh "$LOCAL_BASE_IMAGE"
    BASE_IMAGE=$LOCAL_BASE_IMAGE
  fi
}

build_image() {
  local image=$1 ref start context
  ref=$(image_ref "$image")
  local args=(
    build --tag "$ref"
    --build-arg "BASE_IMAGE=$BASE_IMAGE"
    --build-arg "VERSION=$IMAGE_TAG"
    --build-arg "SOURCE_URL=${IMAGE_SOURCE_URL:-unknown}"
  )
  if [ "$image" = airflow ]; then
    # the orchestration package depends on superstore-common (images/common)
    args+=(--file orchestration/Dockerfile --build-context common=images/common)
    context=orchestration/
  else
    args+=(--file images/Dockerfile --build-arg "IMAGE=$image" --target "$image")
    context=images/
  fi
  if [ -s "$CA_BUNDLE" ]; then args+=(--secret "id=ca,src=$CA_BUNDLE"); fi
  start=$(date +%s)
  DOCKER_BUILDKIT=1 engine "${args[@]}" "$context"
  echo "built $ref in $(($(date +%s) - start)) s"
}

validate_images() {
  local image known
  for image in "$@"; do
    known=no
    for name in "${ALL_IMAGES[@]}"; do [ "$name" = "$image" ] && known=yes; done
    if [ "$known" = no ]; then
      echo "unknown image '$image' (images: ${ALL_IMAGES[*]})" >&2
      exit 2
    fi
  done
}

command=${1:-}
shift || true
images=("$@")
if [ ${#images[@]} -eq 0 ]; then images=("${ALL_IMAGES[@]}"); fi
validate_images "${images[@]}"
case "$command" in
  build)
    . scripts/container-engine.sh
    resolve_base_image
    echo "engine $CONTAINER_ENGINE, base $BASE_IMAGE"
    for image in "${images[@]}"; do build_image "$image"; done ;;
  refs)
    for image in "${images[@]}"; do image_ref "$image"; done ;;
  list)
    printf '%s\n' "${images[@]}" ;;
  *)
    echo "usage: $0 build|refs|list [IMAGE...]" >&2
    exit 2 ;;
esac
