#!/usr/bin/env bash
# The static checks CI runs before the tests: ruff, the import contracts (the layers; no textual or rich outside
# tui/ and cli/), mypy (pyproject.toml says how strict, module by module). The `test` extra installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check --quiet --no-cache .
lint-imports --no-cache >/dev/null || lint-imports --no-cache
python -m mypy --no-error-summary
