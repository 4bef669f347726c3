#!/usr/bin/env bash
# Make sure the PostgreSQL server the tests use (127.0.0.1:5432, user postgres, database test) is up.
# Starts the local cluster with pg_ctlcluster when it is down; fails loudly when it cannot.
set -euo pipefail
HOST=${SIERRA_TEST_PG_HOST:-127.0.0.1}
PORT=${SIERRA_TEST_PG_PORT:-5432}

ready() { pg_isready -h "$HOST" -p "$PORT" -q; }

if ready; then exit 0; fi
echo "PostgreSQL is not answering on $HOST:$PORT; starting it with pg_ctlcluster" >&2
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$version" ]; then
  echo "FATAL: no PostgreSQL cluster under /etc/postgresql; install postgresql and create cluster 'main'" >&2
  exit 1
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  if ready; then echo "PostgreSQL $version/main is up" >&2; exit 0; fi
  sleep 1
done
echo "FATAL: PostgreSQL $version/main did not come up on $HOST:$PORT within 30 s (see /var/log/postgresql/)" >&2
exit 1
