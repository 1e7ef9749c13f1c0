#!/usr/bin/env bash
# A second, private Docker engine (own data/exec root, pid file and socket) with the sandbox image, for tests that
# stop the engine without taking a shared one down:  start DIR  (prints its DOCKER_HOST)  |  stop DIR
set -euo pipefail
IMAGE=${TUI_AGENT_IMAGE:-tui-agent-sandbox:latest}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR (a short path: it holds unix sockets)" >&2
    exit 2
fi
host="unix://$dir/docker.sock"
answers() { DOCKER_HOST=$host docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case "$cmd" in
start)
    mkdir -p "$dir"
    if ! answers; then
        setsid dockerd --bridge=none --iptables=false --data-root "$dir/data" --exec-root "$dir/exec" \
            --pidfile "$dir/docker.pid" -H "$host" >>"$dir/dockerd.log" 2>&1 </dev/null &
        for _ in $(seq 240); do answers && break; sleep 0.25; done
        answers || { echo "private dockerd did not answer; see $dir/dockerd.log" >&2; tail -n 20 "$dir/dockerd.log" >&2; exit 1; }
    fi
    if ! DOCKER_HOST=$host docker image inspect "$IMAGE" >/dev/null 2>&1; then
        if DOCKER_HOST= docker image inspect "$IMAGE" >/dev/null 2>&1; then
            DOCKER_HOST= docker save "$IMAGE" | DOCKER_HOST=$host docker load -q >/dev/null  # copy it from the main engine
        else
            (cd "$(dirname "$0")/.." && DOCKER_HOST=$host python -m tui_agent.sandbox.docker.image --offline) >&2
        fi
    fi
    echo "$host"
    ;;
stop)
    if [ -f "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
        pid=$(cat "$dir/docker.pid")
        DOCKER_HOST=$host docker ps -aq | xargs -r env DOCKER_HOST="$host" docker rm -f >/dev/null 2>&1 || true
        kill "$pid"
        for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    # the containerd and shims a killed engine left running (they name our exec root), what they left mounted, the roots
    for proc in /proc/[0-9]*; do
        case "$(cat "$proc/comm" 2>/dev/null)" in containerd*) ;; *) continue ;; esac
        if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -q "$dir/"; then
            kill -9 "${proc#/proc/}" 2>/dev/null || true
        fi
    done
    grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
