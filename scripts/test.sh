#!/usr/bin/env bash
# Set up (idempotent) and run the test suite. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export TF_CPP_MIN_LOG_LEVEL=2
# Test files are spread over SEPZOO_TEST_WORKERS processes (pytest-xdist, default 2: one per core of the CI
# machine); each file stays in one process, so its module fixtures are built once. SEPZOO_TEST_WORKERS=0 runs
# everything in this process.
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${SEPZOO_TEST_WORKERS:-2}" --dist loadfile --durations=20 tests "$@"
