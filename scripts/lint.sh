#!/usr/bin/env bash
# The static checks CI runs before the tests: ruff (lint, import order), the import contracts (the layers; no
# textual or rich outside tui/ and cli/). Installed with the `test` extra (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check --quiet --no-cache .
lint-imports --no-cache >/dev/null || lint-imports --no-cache
