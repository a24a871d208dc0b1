#!/bin/sh
# The Airflow image's entrypoint, as the official image's behaves for the
# official chart and docker-compose.yml: an Airflow subcommand
# (`standalone`, `scheduler`, `db migrate`, ...) runs `airflow` with it; a
# program (`bash -c ...`, `python ...`, `airflow ...`) runs as given.
set -e
if [ "$#" -eq 0 ]; then
  exec airflow --help
fi
case "$1" in
  -*) exec airflow "$@" ;;
esac
if command -v "$1" >/dev/null 2>&1; then
  exec "$@"
fi
exec airflow "$@"
