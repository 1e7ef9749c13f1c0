"""The host's package-index configuration (pip.conf, PIP_*/UV_* settings, CA bundle) as a build sandbox sees it."""

from __future__ import annotations

import base64
import configparser
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from tui_agent.config import ConfigError

PYPI = "https://pypi.org/simple"
FILE_HOSTS = {"pypi.org": ("files.pythonhosted.org",)}  # an index whose files live on another host
CA_DEFAULT = Path("/etc/ssl/certs/ca-certificates.crt")
INSIDE_CA = "/run/tui-agent/ca.crt"  # where the CA bundle is bound in the build sandbox


@dataclass(frozen=True)
class Upstream:
    """Where the proxy sends what the sandbox asks of one (host, port)."""

    port: int
    tls: bool = False  # the proxy speaks TLS upstream (an https index with credentials, shown as http inside)
    auth: str | None = None  # an Authorization header value that only the proxy knows


@dataclass
class Indexes:
    index: str = PYPI  # URLs as the sandbox sees them: no credentials in them
    extra: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    allowed: dict = field(default_factory=dict)  # (host, port) -> Upstream
    binds: list[Path] = field(default_factory=list)  # local index folders, bound read-only at the same path
    ca: Path | None = None
    # https indexes shown as http inside (the proxy re-encrypts)
    insecure_hosts: list[str] = field(default_factory=list)
    # uv looks a package up on the first index that has it; pip (whose extra-index-url the host may set) takes the
    # best version over all of them: a pip-configured host gets pip's behaviour, or a build fails where pip works
    strategy: str | None = None

    def summary(self) -> dict:
        """What the cache key and `tui-agent env` show: no credentials."""
        shown = {"index": None if self.no_index else self.index, "extra": self.extra, "find_links": self.find_links,
                 "hosts": sorted(f"{h}:{p}" for h, p in self.allowed)}
        return {**shown, "strategy": self.strategy} if self.strategy else shown

    def sandbox_env(self) -> dict[str, str]:
        """uv's and pip's settings inside the build sandbox (no config file of the image is read by pip)."""
        env = {"PIP_CONFIG_FILE": "/dev/null", "UV_PYTHON_DOWNLOADS": "never"}
        if self.no_index:
            env.update(UV_NO_INDEX="1", PIP_NO_INDEX="1")
        else:
            env.update(UV_DEFAULT_INDEX=self.index, PIP_INDEX_URL=self.index)
        if self.extra:
            env.update(UV_INDEX=" ".join(self.extra), PIP_EXTRA_INDEX_URL=" ".join(self.extra))
        if self.find_links:
            env.update(UV_FIND_LINKS=",".join(self.find_links), PIP_FIND_LINKS=" ".join(self.find_links))
        if self.ca:
            env.update(SSL_CERT_FILE=INSIDE_CA, PIP_CERT=INSIDE_CA, REQUESTS_CA_BUNDLE=INSIDE_CA)
        if self.strategy:
            env["UV_INDEX_STRATEGY"] = self.strategy
        if self.insecure_hosts:
            env["PIP_TRUSTED_HOST"] = " ".join(self.insecure_hosts)
        return env


def pip_config_files(environ: dict[str, str]) -> list[Path]:
    """pip's configuration files in its order (later ones win); PIP_CONFIG_FILE=/dev/null means none."""
    chosen = environ.get("PIP_CONFIG_FILE")
    if chosen == os.devnull:
        return []
    dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    home = Path(environ.get("HOME", str(Path.home())))
    config_home = Path(environ.get("XDG_CONFIG_HOME", str(home / ".config")))
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(dirs) if d] + [Path("/etc/pip.conf")]
    files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if environ.get("VIRTUAL_ENV"):
        files.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if chosen:
        files.append(Path(chosen))
    return [f for f in files if f.is_file()]


def _pip_conf(environ: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for path in pip_config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except configparser.Error as exc:
            raise ConfigError(f"{path}: unreadable pip configuration: {str(exc).splitlines()[0]}") from None
        for section in ("global", "install"):
            if parser.has_section(section):
                values.update({k.replace("_", "-"): v for k, v in parser.items(section)})
    return values


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _words(text: str | None, sep: str = r"[\s]+") -> list[str]:
    return [w for w in re.split(sep, text or "") if w]


def read(environ: dict[str, str] | None = None) -> Indexes:
    """UV_* settings win over PIP_* settings, which win over pip.conf; pypi.org when nothing is set."""
    env = dict(os.environ if environ is None else environ)
    conf = _pip_conf(env)
    index = _first(env.get("UV_DEFAULT_INDEX"), env.get("UV_INDEX_URL"), env.get("PIP_INDEX_URL"),
                   conf.get("index-url")) or PYPI
    strategy = env.get("UV_INDEX_STRATEGY") or None
    if "UV_INDEX" in env or "UV_EXTRA_INDEX_URL" in env:
        extra = [w.split("=", 1)[1] if re.match(r"^[\w.-]+=", w) else w
                 for w in _words(env.get("UV_INDEX")) + _words(env.get("UV_EXTRA_INDEX_URL"))]
    else:
        extra = _words(_first(env.get("PIP_EXTRA_INDEX_URL"), conf.get("extra-index-url")))
        strategy = strategy or ("unsafe-best-match" if extra else None)  # pip's: the best version of every index
    if "UV_FIND_LINKS" in env:
        links = _words(env["UV_FIND_LINKS"], r"[\s,]+")
    else:
        links = _words(_first(env.get("PIP_FIND_LINKS"), conf.get("find-links")))
    no_index = any(str(v).lower() in ("1", "true", "yes", "on")
                   for v in (env.get("UV_NO_INDEX"), env.get("PIP_NO_INDEX"), conf.get("no-index")) if v)
    ca = _first(env.get("SSL_CERT_FILE"), env.get("PIP_CERT"), conf.get("cert"), env.get("REQUESTS_CA_BUNDLE"))
    ca_path = Path(ca) if ca else (CA_DEFAULT if CA_DEFAULT.is_file() else None)
    if ca_path is not None and not ca_path.is_file():
        raise ConfigError(f"the CA bundle {ca_path} (SSL_CERT_FILE / PIP_CERT / pip.conf cert) is not a file")
    found = Indexes(ca=ca_path, no_index=no_index, strategy=strategy)
    found.index = "" if no_index else _source(index, found, page=True)
    found.extra = [_source(u, found, page=True) for u in ([] if no_index else extra)]
    found.find_links = [_source(u, found, page=False) for u in links]
    return found


def _source(url: str, found: Indexes, page: bool) -> str:
    """Register one index or find-links location; return it as the sandbox must name it."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme else url).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"package index location {url!r} is a relative path; use an absolute one")
        # an index folder named simple/ links to files beside it (../../files/...): bind its parent
        found.binds.append(path.parent if page and path.name == "simple" else path)
        return url
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"package index {_redact(url)!r}: only http(s) and file locations are supported")
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    auth = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode()).decode()
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if auth and parts.scheme == "https":  # the proxy holds the credentials and speaks TLS itself
        inside = (host, parts.port or 80)
        found.allowed[inside] = Upstream(port, tls=True, auth=auth)
        found.insecure_hosts.append(host)
        return urlunsplit(("http", netloc, parts.path, parts.query, ""))
    found.allowed[(host, port)] = Upstream(port, auth=auth)
    for extra_host in FILE_HOSTS.get(host, ()):
        found.allowed.setdefault((extra_host, 443), Upstream(443))
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, parts.query, ""))
