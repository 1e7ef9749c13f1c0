"""Engine connections: where container sandboxes run (a local socket, DOCKER_HOST over TCP+TLS or ssh, Podman's API)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

DOCKER_SOCKET = "unix:///var/run/docker.sock"
MIN_API = "1.24"  # the oldest API we may talk; the engine's own version is negotiated down from the SDK's
PODMAN_ULIMITS = (("nofile", 1024), ("nproc", 1024))  # Podman's defaults exceed this machine kind's hard limits
# gVisor's ptrace platform runs each sandboxed process as host tasks too (measured: about 50 for the sandbox's
# kernel, 11 per process), and the engine's pids limit counts host tasks: scale it to keep meaning "processes".
HOST_TASKS = {"runsc": (64, 12)}
# ...and when a run exhausts them, gVisor's kernel panics ("error initializing first thread: resource temporarily
# unavailable", Go exits 2): the run was killed by its limits, as an out-of-memory kill is under runc.
LIMIT_DEATHS = {"runsc": 2}


@dataclass(frozen=True)
class Engine:
    """One container engine: its API address, its kind, TLS material, and whether the workspace is shipped."""

    url: str = DOCKER_SOCKET  # unix:///..., tcp://host:port, ssh://user@host[:port]
    kind: str = "docker"  # docker | podman
    name: str = "local"  # the person's name for it (a sandbox_hosts entry), shown in messages and tables
    tls: str | None = None  # folder with ca.pem, cert.pem, key.pem (the DOCKER_CERT_PATH layout); None: plain
    ship: bool | None = None  # None: ship unless the url is a unix socket on this machine (bind mounts work there)
    capacity: int | None = None  # sandboxes at once in a batch; None: the engine's CPU count
    socket: str | None = None  # ssh only: the engine's socket on the remote machine
    runtime: str | None = None  # this host's OCI runtime (e.g. runsc), overriding sandbox_runtime
    service: tuple[str, ...] = field(default=(), compare=False)  # podman: argv that starts the service if absent

    @property
    def ships(self) -> bool:
        """The workspace goes through the engine's API (a remote engine cannot see this machine's folders)."""
        return (not self.url.startswith("unix://")) if self.ship is None else self.ship

    @property
    def label(self) -> str:
        what = "Podman service" if self.kind == "podman" else "Docker engine"
        return f"the {what} at {self.url}"

    def client(self, timeout: float = 30):
        """A docker SDK client for this engine (raises when it does not answer)."""
        import docker
        from docker.utils.proxy import ProxyConfig

        url, tls = self.url, None
        if url.startswith("ssh://"):
            from tui_agent.sandbox.docker.tunnel import forward

            url = forward(url, self.socket or ("/run/podman/podman.sock" if self.kind == "podman"
                                                else "/var/run/docker.sock"))
        if self.tls:
            folder = Path(self.tls).expanduser()
            tls = docker.tls.TLSConfig(ca_cert=str(folder / "ca.pem"), verify=True,
                                       client_cert=(str(folder / "cert.pem"), str(folder / "key.pem")))
        client = docker.DockerClient(base_url=url, tls=tls, timeout=int(timeout), version=MIN_API)
        api = client.api
        api.trust_env = False  # REQUESTS_CA_BUNDLE must not replace our CA, nor an HTTP proxy carry engine traffic
        api._proxy_configs = ProxyConfig()  # ~/.docker/config.json proxies are never injected into a sandbox
        try:  # Podman answers /version in about 0.3 s, /_ping in 1 ms: the version is asked once per process
            server = _api_versions.get(self.url)
            if server is None:
                server = _api_versions[self.url] = api.version(api_version=False).get("ApiVersion", MIN_API)
            else:
                api.ping()  # it still answers
        except Exception:
            client.close()
            raise
        api._version = min(server, docker.constants.DEFAULT_DOCKER_API_VERSION, key=_version_key)
        return client

    def answers(self, timeout: float = 3) -> bool:
        try:
            self.client(timeout).close()
            return True
        except Exception:
            return False

    def container_options(self, runtime: str | None, pids: int) -> dict:
        """Engine-specific containers.create() arguments on top of the common hardening."""
        import docker

        options: dict = {}
        if self.kind == "podman":
            options["ulimits"] = [docker.types.Ulimit(name=n, soft=v, hard=v) for n, v in PODMAN_ULIMITS]
        elif runtime:  # Podman's API ignores a per-container runtime: its service runs under it instead
            options["runtime"] = runtime
        if runtime in HOST_TASKS:
            base, per_process = HOST_TASKS[runtime]
            options["pids_limit"] = base + per_process * pids
        return options


_api_versions: dict[str, str] = {}  # engine url -> the API version its server said


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def from_env(runtime: str | None = None) -> Engine:
    """The Docker engine of DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (the docker CLI's variables)."""
    url = os.environ.get("DOCKER_HOST") or DOCKER_SOCKET
    if url.startswith("tcp://") and os.environ.get("DOCKER_TLS_VERIFY") not in (None, "", "0"):
        tls = os.environ.get("DOCKER_CERT_PATH") or str(Path.home() / ".docker")
    else:
        tls = None
    name = "local" if url == DOCKER_SOCKET else "DOCKER_HOST"
    return Engine(url=url, kind="docker", name=name, tls=tls, runtime=runtime)


def plaintext_problem(engine: Engine) -> str | None:
    """A tcp:// engine without TLS is refused (loopback too): its API hands root on that machine to anyone who
    reaches the port, and every workspace and check crosses the wire in the clear."""
    if not engine.url.startswith("tcp://") or engine.tls:
        return None
    return (f"{engine.url} is an engine API without TLS (root on that machine for anyone on the path): set "
            "DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use ssh://")


def runtime_dir() -> Path:
    """Where our Podman sockets live: /run/tui-agent as root, else $XDG_RUNTIME_DIR/tui-agent."""
    if os.geteuid() == 0:
        return Path("/run/tui-agent")
    return Path(os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/tui-agent-{os.getuid()}") / "tui-agent"


RUNTIME_FLAGS = {"runsc": ("network=none",)}  # runsc refuses a netns it did not make without it (measured here)


def local_podman(runtime: str | None = None) -> Engine:
    """The Podman service on this machine (CONTAINER_HOST, else the standard socket); started on demand.

    A runtime gets its own service (`podman --runtime R system service`): Podman's API ignores the
    runtime a container asks for, so the service is the only place where it can be chosen."""
    if os.environ.get("CONTAINER_HOST") and not runtime:
        return Engine(url=os.environ["CONTAINER_HOST"], kind="podman", name="podman")
    if runtime:
        sock = runtime_dir() / f"podman-{runtime}.sock"
        flags = [a for f in RUNTIME_FLAGS.get(runtime, ()) for a in ("--runtime-flag", f)]
        head = ["podman", "--runtime", runtime, *flags]
    else:
        base = Path("/run") if os.geteuid() == 0 else Path(os.environ.get("XDG_RUNTIME_DIR") or runtime_dir())
        sock = base / "podman" / "podman.sock"
        head = ["podman"]
    url = f"unix://{sock}"
    return Engine(url=url, kind="podman", name="podman" if not runtime else f"podman+{runtime}", runtime=runtime,
                  service=(*head, "system", "service", "--time=600", url))


def machine_id() -> str:
    """This machine's id (a shared remote engine tells its clients' containers apart by it)."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(path).read_text().strip()[:64]
        except OSError:
            continue
    return socket.gethostname()


def unix_path(url: str) -> str | None:
    return url[len("unix://"):] if url.startswith("unix://") else None


def socket_listens(url: str) -> bool:
    path = unix_path(url)
    if path is None:
        return False
    probe = socket.socket(socket.AF_UNIX)
    probe.settimeout(1)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
