#!/usr/bin/env bash
# Install everything the tests need, then run them all: lint, types, unit, integration,
# notebooks (nbclient) and browser (Debian's chromium driven by Playwright), and
# the front end's own checks (biome, tsc, node's test runner under jsdom).
# Extra arguments go to pytest, e.g. `scripts/test.sh -k events`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
bash scripts/services.sh
# The front end: its locked dependencies, then the bundle in chat_widget/static/
# (pip's build step below would build it too; built first so a stale one never runs).
npm ci --no-audit --no-fund --silent
npm run --silent build
python3 -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
npm ci --prefix tests/js_client --no-audit --no-fund --silent
python3 -m ipykernel install --user --name python3 >/dev/null

python3 -m ruff check .
python3 -m mypy
npm run --silent lint
npm run --silent typecheck
npm test
# Three workers on two cores: most tests wait on servers, kernels and the browser, not the CPU.
# Each test file stays on one worker (its module-scoped servers and browsers start once).
python3 -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile "$@"
