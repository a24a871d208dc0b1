#!/usr/bin/env bash
# Build a local Python 3.11 base image (Debian bookworm) for hosts that cannot
# pull from a container registry: debootstrap a minimal root filesystem from
# the Debian mirror apt already uses, then import it as an image.
# Skips the work when the image exists.  Usage: scripts/base-image.sh [IMAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/container-engine.sh

IMAGE=${1:-${LOCAL_BASE_IMAGE:-localhost/python-base:3.11-bookworm}}
SUITE=bookworm
PACKAGES=python3,python3-venv,python3-pip,ca-certificates

# The first Debian archive (not the security one) configured for apt, in
# one-line or deb822 format; DEBIAN_MIRROR overrides.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local sources=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  { grep -hv '^[[:space:]]*#' "${sources[@]}" 2>/dev/null || true; } \
    | grep -oE 'https?://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n 1 | tr -d '[:space:]'
}

if image_exists "$IMAGE"; then
  echo "base image $IMAGE exists"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  echo "installing debootstrap (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
mirror=$(debian_mirror)
if [ -z "$mirror" ]; then
  echo "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
  exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
rootfs=$workdir/rootfs
echo "debootstrap $SUITE ($PACKAGES) from $mirror"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 \
  || { tail -n 20 "$workdir/debootstrap.log" >&2; exit 1; }
# Nothing the images need: package caches and lists, docs, man pages.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

tar -C "$rootfs" --numeric-owner -c . | engine import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE"
