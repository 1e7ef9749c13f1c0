"""Shared fixtures: `backend` runs a test on each sandbox backend (skipped locally, failed in CI, if missing);
`private_engine` is a second dockerd of the test's own on loopback TCP+TLS (a stand-in for a remote host)."""

import os

import pytest

from sandbox_fixtures import require_backend

BACKENDS = ["docker", "bwrap"]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture(scope="session")
def private_engine(tmp_path_factory):
    from private_engine import PrivateEngine, usable_reason

    reason = usable_reason()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"no private engine: {reason}")
    engine = PrivateEngine(tmp_path_factory.mktemp("engine"))
    try:
        engine.start()
        engine.load_image()
        yield engine
    finally:
        engine.stop()
