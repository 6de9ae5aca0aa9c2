#!/usr/bin/env bash
# The test command: set up the real services (idempotent; seconds when already done), install
# a2c with its test tools, run pytest. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest -q "$@"
