#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need when missing, starts a private
# PostgreSQL on a loopback port (unless TEST_DATABASE_URL names one), then type-checks, lints,
# builds and runs every test. Extra arguments are passed to the test runner as test files.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

workdir=$(mktemp -d /tmp/cadence-test.XXXXXX)
cleanup() {
  if [[ -n "${PGDATA_DIR:-}" && -f "$PGDATA_DIR/postmaster.pid" ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

if [[ -z "${TEST_DATABASE_URL:-}" ]]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDATA_DIR="$workdir/pgdata"
  port=$(free_port)
  # initdb refuses to run as root; the postgres system user owns the private cluster.
  mkdir -p "$PGDATA_DIR"
  as_pg=()
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$workdir" "$PGDATA_DIR"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust --no-sync >/dev/null
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$workdir/postgres.log" -w \
    -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "test: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
fi

echo "test: type-check"; npx tsc -p tsconfig.json --noEmit && npx tsc -p web/tsconfig.json --noEmit
echo "test: lint and format"; npx eslint . && npx prettier --check . >/dev/null
echo "test: build"; npm run --silent build

if [[ $# -gt 0 ]]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
echo "test: ${#files[@]} test files"
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
