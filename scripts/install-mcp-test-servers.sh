#!/usr/bin/env bash
# Install the third-party MCP servers the tests run against: two from PyPI, two from npm (into .cache/npm).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "mcp-server-time==2026.10.19" "mcp-server-git==2026.10.19"

FS=.cache/npm/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
EVERYTHING=.cache/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [ ! -f "$FS" ] || [ ! -f "$EVERYTHING" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-mcp-test-servers: npm not found; install node/npm for the filesystem server tests" >&2
        exit 1
    fi
    npm install --silent --no-audit --no-fund --prefix .cache/npm "@modelcontextprotocol/server-filesystem@2026.8.31" \
        "@modelcontextprotocol/server-everything@2026.8.31"
fi
echo "MCP test servers ready: mcp-server-time, mcp-server-git, $FS, $EVERYTHING"
