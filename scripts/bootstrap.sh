#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine, as root: system tools, Python deps, a Docker engine, the sandbox image.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[bootstrap] $*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "[bootstrap] run me as root (apt-get, dockerd and the offline image build need it)" >&2
    exit 2
fi

# 1. system packages, only those whose command is missing (package:command)
missing=()
for pair in docker.io:dockerd bubblewrap:bwrap debootstrap:debootstrap tmux:tmux strace:strace python3-pip:pip3 \
            python-is-python3:python python3-pytest:pytest-3 podman:podman openssl:openssl gcc:gcc npm:npm \
            chromium:chromium chromium-driver:chromedriver; do  # the browser test of `tui-agent serve`
    pkg=${pair%%:*}
    cmd=${pair##*:}
    if [ "$pkg" = python3-pip ] && python3 -m pip --version >/dev/null 2>&1; then continue; fi
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)  # the static libc the sandbox supervisor is built with
dpkg -s python3-dev >/dev/null 2>&1 || missing+=(python3-dev)  # bwrap environments build C extensions with it
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    say "system packages present (docker.io, bubblewrap, debootstrap, tmux, strace, podman, openssl, gcc, libc6-dev, python3-dev, npm, chromium, chromium-driver)"
fi
# gVisor, where this Debian release packages it (its tests say "skipped: <reason>" where it cannot run)
if ! command -v runsc >/dev/null 2>&1; then
    # install it outright: a `apt-cache policy | grep -q` test under pipefail can lose the race to SIGPIPE
    get_runsc() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runsc >/dev/null 2>&1; }
    if get_runsc || { apt-get update -qq && get_runsc; }; then
        say "apt-get install runsc (gVisor)"
    else
        say "runsc (gVisor) is not packaged for this Debian release: gVisor tests will be skipped"
    fi
fi

# 2. the project and its test dependencies (skipped when pyproject.toml did not change since last time)
PY=python
if $PY -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"; then
    export PIP_BREAK_SYSTEM_PACKAGES=1  # a throw-away root CI box: install next to Debian's own packages
fi
stamp=.cache/bootstrap-pip.sha256
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && $PY -c "import tui_agent, pytest, docker" 2>/dev/null; then
    say "python dependencies up to date"
else
    say "pip install -e '.[test]'"
    $PY -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'
    mkdir -p .cache
    echo "$want" >"$stamp"
fi
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash >/dev/null 2>&1 || true  # so that the new `tui-agent` command is on PATH at once
fi

# 3. third-party MCP servers some tests talk to (another script owns the details)
if [ -x scripts/install-mcp-test-servers.sh ]; then
    scripts/install-mcp-test-servers.sh || say "WARNING: MCP test servers not installed (see above)"
fi
# the MCP conformance suite needs Node >= 22 (fetched from the npm registry into .cache/node when missing)
if NODE22=$(scripts/node.sh --conformance); then
    say "Node for the MCP conformance suite: $NODE22"
else
    say "WARNING: Node 22 / MCP conformance suite not installed (see above); its tests are skipped here and fail in CI"
fi

# 4. a Docker engine, without a bridge or iptables rules: sandboxes get no network anyway
engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if engine_up; then
    say "Docker engine answers ($(docker version --format '{{.Server.Version}}'))"
elif [ -n "${DOCKER_HOST:-}" ]; then
    say "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local engine" >&2
    exit 1
else
    say "starting dockerd --bridge=none --iptables=false (log: /tmp/dockerd.log)"
    setsid nohup dockerd --bridge=none --iptables=false >>/tmp/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 120); do
        engine_up && break
        sleep 0.5
    done
    if ! engine_up; then
        say "dockerd did not answer within 60 s; last lines of /tmp/dockerd.log:" >&2
        tail -n 20 /tmp/dockerd.log >&2
        exit 1
    fi
    say "Docker engine answers"
fi

# 5. the sandbox image, built offline once (debootstrap + docker import); skipped when present and current (its
#    tui-agent.recipe label matches this checkout's recipe), rebuilt when stale
$PY -m tui_agent.sandbox.docker.image --offline

# 5b. the sandbox supervisor every container starts (gcc -static once, into a content-addressed cache)
supervisor=$($PY -m tui_agent.sandbox.docker.host_supervisor)
say "sandbox supervisor: $supervisor"

# 6. the same image in Podman's storage (tui-agent starts Podman's API service itself when it is needed), copied
#    again when Podman's copy is missing or stale
if command -v podman >/dev/null 2>&1; then
    podman_state=$($PY -m tui_agent.sandbox.docker.image --state | sed -n 's/^podman //p')
    if [ "$podman_state" != current ]; then
        say "copying tui-agent-sandbox:latest into Podman ($podman_state there; docker save | podman load)"
        docker save tui-agent-sandbox:latest | podman load -q >/dev/null
    fi
fi
say "done"
