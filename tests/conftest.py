"""Shared fixtures: `backend` runs a test on each sandbox backend (skipped locally, failed in CI, if missing)."""

import pytest

from sandbox_fixtures import require_backend

BACKENDS = ["docker", "bwrap"]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param
