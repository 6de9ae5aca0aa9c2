#!/usr/bin/env bash
# Run the test suite from the repository root; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m pytest -q "$@"
