# Local stand-ins for the two registry images docker-compose.yml names
# (postgres:16-bookworm, motoserver/moto), for hosts where no container
# registry answers: built on the same local Python base as the project's
# images (scripts/base-image.sh), from Debian's and PyPI's packages only.
# Build context: scripts/. scripts/compose-check.sh builds them when a pull fails:
#   podman build -f scripts/compose-stand-ins.Dockerfile --target warehouse scripts
ARG BASE_IMAGE=python:3.11-slim-bookworm

# PostgreSQL (Debian's postgresql-15) with the official image's contract:
# POSTGRES_DB / POSTGRES_USER / POSTGRES_PASSWORD on first start, data in
# /var/lib/postgresql/data, pg_isready on PATH, listening on 5432.
FROM ${BASE_IMAGE} AS warehouse
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
    && pg_dropcluster 15 main \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
    && chmod 700 /var/lib/postgresql/data
COPY compose-postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint"]
LABEL org.opencontainers.image.title="superstore-stand-in-postgres" \
      org.opencontainers.image.description="Local stand-in for postgres:16-bookworm (Debian postgresql-15)"

# moto server with the pins of the host stack (moto.requirements.txt), and
# python3 + boto3 on PATH as in the moto image (aws-init runs a script with it).
FROM ${BASE_IMAGE} AS moto
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY moto.requirements.txt /build/requirements.txt
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && /opt/venv/bin/pip install -r /build/requirements.txt \
    && /opt/venv/bin/pip check
ENV PATH=/opt/venv/bin:$PATH
USER 10001:10001
EXPOSE 5000
ENTRYPOINT ["moto_server", "-H", "0.0.0.0", "-p", "5000"]
LABEL org.opencontainers.image.title="superstore-stand-in-moto" \
      org.opencontainers.image.description="Local stand-in for motoserver/moto (moto[server] from PyPI)"
