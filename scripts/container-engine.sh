# Sourced by the image scripts: picks the container engine and configures it.
#   CONTAINER_ENGINE  docker | podman (default: docker when a Docker engine
#                     answers, else podman)
# Podman runs with scripts/containers.conf (runc + cgroupfs), which hosts whose
# cgroups break crun need; an explicit CONTAINERS_CONF wins.
# shellcheck shell=bash

REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

docker_engine_answers() {
  command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1
}

install_podman() {
  command -v podman >/dev/null && command -v runc >/dev/null && return
  echo "installing podman, buildah, runc (Debian packages)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc >/dev/null
}

if [ -z "${CONTAINER_ENGINE:-}" ]; then
  if docker_engine_answers; then CONTAINER_ENGINE=docker; else CONTAINER_ENGINE=podman; fi
fi
case "$CONTAINER_ENGINE" in
  podman)
    install_podman
    export CONTAINERS_CONF="${CONTAINERS_CONF:-$REPO_ROOT/scripts/containers.conf}" ;;
  docker) ;;
  *) echo "CONTAINER_ENGINE must be docker or podman, not '$CONTAINER_ENGINE'" >&2; exit 2 ;;
esac
export CONTAINER_ENGINE

engine() { "$CONTAINER_ENGINE" "$@"; }

image_exists() { engine image inspect "$1" >/dev/null 2>&1; }
