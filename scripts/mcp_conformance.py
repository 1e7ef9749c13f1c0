#!/usr/bin/env python3
"""Run the official MCP conformance suite against our client and server (loopback only), compare with a baseline.

    python scripts/mcp_conformance.py client|auth|server|all [--spec 2025-11-25 --spec 2026-07-28] [--jobs 2]

`client` and `auth` drive tests/mcp_conformance_client.py (the agent's own McpManager); `server` starts
`tui-agent mcp serve --http` on 127.0.0.1. Per scenario, the suite's checks are counted; a failing scenario must be
listed in tests/mcp_conformance_expected.txt ("KIND SPEC SCENARIO  # why") and a listed one that passes is stale;
and per kind and spec version at least MINIMUM's scenarios and checks must pass (a scenario that stops running is a
regression too). Exit 0 when all hold, 1 otherwise, 2 (with the reason on stderr) when Node 22 or the suite is
missing (run scripts/node.sh --conformance).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / ".cache/mcp-conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
EXPECTED = ROOT / "tests/mcp_conformance_expected.txt"
SPECS = ("2025-11-25", "2026-07-28")
CLIENT = ["initialize", "tools_call", "elicitation-sep1034-client-defaults", "sse-retry", "request-metadata",
          "sep-2322-client-request-state", "http-standard-headers", "http-custom-headers", "http-invalid-tool-headers",
          "json-schema-ref-no-deref", "json-schema-2020-12-preservation"]
AUTH = ["auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3", "auth/basic-cimd",
        "auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported", "auth/scope-omitted-when-undefined",
        "auth/scope-step-up", "auth/scope-retry-limit", "auth/token-endpoint-auth-basic",
        "auth/token-endpoint-auth-post", "auth/token-endpoint-auth-none", "auth/pre-registration",
        "auth/resource-mismatch", "auth/offline-access-scope", "auth/offline-access-not-supported",
        "auth/authorization-server-migration", "auth/iss-supported", "auth/iss-not-advertised",
        "auth/iss-supported-missing", "auth/iss-wrong-issuer", "auth/iss-unexpected", "auth/iss-normalized",
        "auth/metadata-issuer-mismatch"]
# the protocol checks that apply to a tools-only server (the others need server-everything's fixtures)
SERVER = ["server-initialize", "server-session-lifecycle", "server-stateless", "ping", "tools-list",
          "dns-rebinding-protection", "http-header-validation"]


# what passes today, per KIND SPEC: (scenarios, checks) that must keep passing; fewer is a regression, even when
# the baseline is empty (a scenario the suite stopped running, a check that vanished). Raise them as things pass.
MINIMUM = {
    ("client", "2025-11-25"): (5, 20), ("client", "2026-07-28"): (8, 50),
    ("auth", "2025-11-25"): (14, 246), ("auth", "2026-07-28"): (25, 365),
    ("server", "2025-11-25"): (5, 13), ("server", "2026-07-28"): (4, 41),
}


def node() -> str:
    out = subprocess.run([str(ROOT / "scripts/node.sh")], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"mcp_conformance: no Node >= 22: {out.stderr.strip()[-300:]}", file=sys.stderr)
        raise SystemExit(2)
    if not SUITE.exists():
        print(f"mcp_conformance: the suite is not installed at {SUITE}: run scripts/node.sh --conformance",
              file=sys.stderr)
        raise SystemExit(2)
    return out.stdout.strip()


def below_minimum(kind: str, spec: str, scenarios: int, checks: int) -> str | None:
    """Why these passing counts are a regression, or None."""
    least = MINIMUM.get((kind, spec))
    if least is None or (scenarios >= least[0] and checks >= least[1]):
        return None
    return (f"BELOW MINIMUM: {kind} {spec}: {scenarios} scenarios and {checks} checks pass, "
            f"at least {least[0]} and {least[1]} must")


def applies(node_bin: str, kind: str, spec: str) -> set[str]:
    """Scenario names the suite runs at this spec version (it lists `name [versions]`)."""
    out = subprocess.run([node_bin, str(SUITE), "list"], capture_output=True, text=True, check=True).stdout
    names = set()
    section = None
    for line in out.splitlines():
        if line.endswith("(test against a server):"):
            section = "server"
        elif line.endswith("(test against a client):"):
            section = "client"
        elif line.startswith("Authorization"):
            section = None
        elif line.strip().startswith("- ") and section == ("server" if kind == "server" else "client"):
            name, _, versions = line.strip()[2:].partition(" ")
            dates = [v for v in versions.strip("[]").split(",") if v[:2] == "20"]
            if spec in dates:
                names.add(name)
    return names


def run_one(node_bin: str, kind: str, spec: str, scenario: str, target: str, out_dir: Path) -> tuple[int, int]:
    """(passed, failed) checks of one scenario; a crash or a timeout of the runner counts as one failure."""
    dest = out_dir / kind / spec / scenario.replace("/", "_")
    mode = ["server", "--url", target] if kind == "server" else ["client", "--command", target]
    cmd = [node_bin, str(SUITE), *mode, "--scenario", scenario, "--spec-version", spec, "--timeout", "60000",
           "-o", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    checks = [c for f in dest.rglob("checks.json") for c in json.loads(f.read_text())]
    passed = sum(c.get("status") == "SUCCESS" for c in checks)
    # a check the suite itself calls untestable (it needs a fixture tool our server does not offer) is not ours
    failed = sum(c.get("status") == "FAILURE" and not (c.get("details") or {}).get("untestable") for c in checks)
    if not checks and proc.returncode != 0:
        failed = 1
    for check in checks:
        if check.get("status") == "FAILURE" and not (check.get("details") or {}).get("untestable"):
            print(f"  {kind} {spec} {scenario}: {check.get('id')}: {check.get('errorMessage') or ''} "
                  f"{json.dumps(check.get('details'))[:400]}", file=sys.stderr)
    if failed and not checks:
        print(f"  {kind} {spec} {scenario}: no checks; runner said: {proc.stdout[-800:]} {proc.stderr[-800:]}",
              file=sys.stderr)
    return passed, failed


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", "mcp", "serve", str(folder), "--http",
                             "--sandbox", os.environ.get("MCP_CONFORMANCE_SANDBOX", "auto")],
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        if " at http://127.0.0.1:" in line:
            return proc, line.rsplit(" at ", 1)[1].strip()
    raise SystemExit(f"tui-agent mcp serve did not start (exit {proc.wait()})")


def expected() -> set[tuple[str, str, str]]:
    rows = set()
    for line in EXPECTED.read_text().splitlines() if EXPECTED.exists() else []:
        fields = line.split("#", 1)[0].split()
        if len(fields) == 3:
            rows.add((fields[0], fields[1], fields[2]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("client", "auth", "server", "all"))
    parser.add_argument("--spec", action="append", choices=SPECS)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    node_bin = node()
    kinds = ["client", "auth", "server"] if args.what == "all" else [args.what]
    client_cmd = f"{sys.executable} {ROOT / 'tests/mcp_conformance_client.py'}"
    results: dict[tuple[str, str, str], tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="mcp-conformance-") as tmp:
        out_dir, server = Path(tmp), None
        try:
            jobs = []
            for kind in kinds:
                target = client_cmd
                if kind == "server":
                    (out_dir / "ws").mkdir()
                    server, target = start_server(out_dir / "ws")
                for spec in args.spec or SPECS:
                    names = applies(node_bin, kind, spec)
                    todo = {"client": CLIENT, "auth": AUTH, "server": SERVER}[kind]
                    jobs += [(kind, spec, s, target) for s in todo if s in names]
            with ThreadPoolExecutor(max(1, args.jobs)) as pool:
                futures = {job[:3]: pool.submit(run_one, node_bin, *job, out_dir) for job in jobs}
                results = {key: fut.result() for key, fut in futures.items()}
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
    baseline, bad = expected(), 0
    for kind in kinds:
        for spec in args.spec or SPECS:
            rows = {k: v for k, v in results.items() if k[0] == kind and k[1] == spec}
            ok = sum(1 for p, f in rows.values() if not f)
            checks = sum(p for p, _ in rows.values()), sum(p + f for p, f in rows.values())
            print(f"{kind} {spec}: {ok}/{len(rows)} scenarios pass, {checks[0]}/{checks[1]} checks")
            if why := below_minimum(kind, spec, ok, checks[0]):
                bad += 1
                print(why)
    for key, (_passed, failed) in sorted(results.items()):
        if failed and key not in baseline:
            bad += 1
            print(f"UNEXPECTED FAILURE: {' '.join(key)} ({failed} failed checks)")
        elif not failed and key in baseline:
            bad += 1
            print(f"STALE BASELINE (now passes): {' '.join(key)}")
        elif failed:
            print(f"expected failure: {' '.join(key)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
