"""A private second dockerd for tests and benchmarks: own data root, exec root, pidfile and sockets, listening on
loopback TCP with TLS certificates made here (--tlsverify), runsc registered when installed. It stands in for a
remote host; the machine's shared engine is never touched (we only read the sandbox image from it)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tui_agent.sandbox.docker.engine import Engine

IMAGE = "tui-agent-sandbox:latest"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certs(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (the DOCKER_CERT_PATH layout)."""
    folder.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ssl("req", "-x509", *key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca")
    server_usage = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"
    for name, subject, usage in (("server", "/CN=127.0.0.1", server_usage),
                                 ("client", "/CN=client", "extendedKeyUsage=clientAuth")):
        (folder / f"{name}.ext").write_text(usage + "\n")
        ssl("req", *key, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", subject)
        ssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", f"{name}-cert.pem", "-days", "2", "-extfile", f"{name}.ext")
    shutil.copy(folder / "client-cert.pem", folder / "cert.pem")
    shutil.copy(folder / "client-key.pem", folder / "key.pem")


class PrivateEngine:
    """start(), load_image(), kill() (SIGKILL, as a dying host), stop(); `engine` is how tui-agent reaches it."""

    def __init__(self, root: Path, name: str = "private"):
        self.root, self.name = Path(root), name
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.runsc = shutil.which("runsc")
        make_certs(self.root / "certs")

    @property
    def engine(self) -> Engine:
        return Engine(url=f"tcp://127.0.0.1:{self.port}", tls=str(self.root / "certs"), name=self.name)

    @property
    def local_url(self) -> str:
        return f"unix://{self.root}/docker.sock"

    def start(self, wait_s: float = 60, attempts: int = 3) -> None:
        """Start dockerd; again (up to `attempts`) if it gives up on its containerd, which after a kill can take
        longer than dockerd waits to clean up the dead shims on a busy machine."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start(wait_s)
            except RuntimeError:
                if attempt == attempts or (self.proc and self.proc.poll() is None):
                    raise

    def _start(self, wait_s: float) -> None:
        runtimes = {"runsc": {"path": self.runsc, "runtimeArgs": ["--network=none"]}} if self.runsc else {}
        (self.root / "daemon.json").write_text(json.dumps({"runtimes": runtimes}))
        certs = self.root / "certs"
        argv = ["dockerd", "--config-file", str(self.root / "daemon.json"), "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
                "-H", self.local_url, "-H", f"tcp://127.0.0.1:{self.port}", "--tlsverify",
                "--tlscacert", str(certs / "ca.pem"), "--tlscert", str(certs / "server-cert.pem"),
                "--tlskey", str(certs / "server-key.pem"), "--bridge=none", "--iptables=false", "--ip-masq=false"]
        log = open(self.root / "dockerd.log", "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"private dockerd exited: {self._log_tail()}")
            if self._docker("version", check=False).returncode == 0 and self.engine.answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"private dockerd did not answer within {wait_s} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return " | ".join((self.root / "dockerd.log").read_text(errors="replace").splitlines()[-5:])

    def _docker(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        env = {**os.environ, "DOCKER_HOST": self.local_url}
        return subprocess.run(["docker", *args], env=env, check=check, capture_output=True, **kwargs)

    def load_image(self, image: str = IMAGE) -> None:
        """Copy the sandbox image from the machine's engine (docker save | docker load), unless it is there."""
        if self._docker("image", "inspect", image, check=False).returncode == 0:
            return
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE,
                                env={k: v for k, v in os.environ.items() if k != "DOCKER_HOST"})
        try:
            self._docker("load", stdin=save.stdout)
        finally:
            save.stdout.close()
            save.wait()

    def _ours(self) -> list[int]:
        """Processes started for this engine (its containerd and shims name our exec root or data root)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if str(self.root).encode() in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def kill(self) -> None:
        """SIGKILL the engine, its containerd and its shims at once, as when its machine dies."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self._ours():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Stop the engine and everything it started; unmount and remove its folders."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self._ours():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with open("/proc/mounts") as mounts:
            targets = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.root))]
        for target in sorted(targets, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def usable_reason() -> str | None:
    """Why a private engine cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "a private dockerd needs root"
    for tool in ("dockerd", "docker", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        return f"the machine's engine lacks {IMAGE} to copy"
    return None
