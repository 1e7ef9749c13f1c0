#!/usr/bin/env bash
# Print the path of a Node >= 22 binary, fetching one from the npm registry into .cache/node when needed.
# Idempotent and offline-tolerant: a binary already in the cache (or a system node >= 22) is used as it is.
# With --conformance, also install the pinned MCP conformance suite into .cache/mcp-conformance
# (server-everything, which the client tests run over stdio, comes from scripts/install-mcp-test-servers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=22.23.5
CONFORMANCE=@modelcontextprotocol/conformance@0.2.0-alpha.12
CACHE=$PWD/.cache/node
say() { echo "[node.sh] $*" >&2; }

major() { "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

find_node() {
    local cached=$CACHE/node-$NODE_VERSION/bin/node
    if [ -x "$cached" ]; then echo "$cached"; return 0; fi
    local sys
    sys=$(command -v node 2>/dev/null || true)
    if [ -n "$sys" ] && [ "$(major "$sys")" -ge 22 ] 2>/dev/null; then echo "$sys"; return 0; fi
    return 1
}

fetch_node() {
    command -v npm >/dev/null 2>&1 || { say "npm not found: cannot fetch Node $NODE_VERSION (apt-get install npm)"; exit 1; }
    local arch
    case "$(uname -m)" in
        x86_64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) say "no Node binary package for $(uname -m)"; exit 1 ;;
    esac
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    say "fetching node-linux-$arch@$NODE_VERSION from the npm registry"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
    tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp"
    mkdir -p "$CACHE/node-$NODE_VERSION/bin"
    install -m 0755 "$tmp/package/bin/node" "$CACHE/node-$NODE_VERSION/bin/node.part"
    mv "$CACHE/node-$NODE_VERSION/bin/node.part" "$CACHE/node-$NODE_VERSION/bin/node"
}

NODE=$(find_node || true)
if [ -z "$NODE" ]; then
    fetch_node
    NODE=$(find_node)
fi

if [ "${1:-}" = --conformance ]; then
    dest=.cache/mcp-conformance
    stamp=$dest/.installed
    want="$CONFORMANCE"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        command -v npm >/dev/null 2>&1 || { say "npm not found: cannot install $CONFORMANCE"; exit 1; }
        say "npm install $want into $dest"
        mkdir -p "$dest"
        # run npm itself under Node 22 so that engine checks see the right version
        PATH="$(dirname "$NODE"):$PATH" npm install --silent --no-audit --no-fund --prefix "$dest" $want >&2
        echo "$want" >"$stamp"
    fi
fi
echo "$NODE"
