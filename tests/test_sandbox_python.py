"""`python -m pytest -q` (the default check) runs in the sandbox on both backends: a project that declares no
dependencies uses the sandbox image (Docker) or the host's python3 with shims (bwrap); an environment whose inputs
do not name pytest gets it installed by the build; a sandbox image built from an older recipe is stale."""

from __future__ import annotations

import io
import shutil

import pytest

from env_fixtures import index_env, reachable_dir, scratch_root
from loop_fixtures import cli, events, of_type, script, tree
from tui_agent.environments import docker_store
from tui_agent.environments.detect import RUNS_PYTEST, detect
from tui_agent.environments.script import script as build_script
from tui_agent.sandbox.docker import image

BUGGY = "def double(x):\n    return x + x + 1\n"
FIXED = "def double(x):\n    return x + x\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(4) == 8\n"


@pytest.fixture
def root():
    """A folder the sandbox user can reach: the project, its sessions and environments."""
    yield from scratch_root("tui-agent-pyenv-")


def bare(root, requirements: str | None = None):
    """A flat project with a bug its test shows; no dependency declared unless `requirements` is given."""
    root.mkdir(parents=True)
    (root / "calc.py").write_text(BUGGY)
    (root / "test_calc.py").write_text(TEST)
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def fixing(tmp_path) -> str:
    return script(tmp_path, [{"expect": "assert", "text": "double() adds one too many.", "tool_calls": [
        {"name": "edit_file", "arguments": {"path": "calc.py", "old_string": BUGGY, "new_string": FIXED}}]},
        {"text": "Fixed double()."}])


def run(folder, backend, model, check, env):
    root = folder.parent
    env = {**env, "TUI_AGENT_ENV_ROOT": str(root / "envs")}
    return cli("run", str(folder), "--check", check, "--model", model, "--sandbox", backend, "--headless",
               "--allow", "edit_file", "--sessions", str(root / "sessions"), env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("check", ["python -m pytest -q", "pytest -q"])
def test_a_project_without_dependencies_runs_its_suite(check, backend, tmp_path, root):
    folder = bare(root / "proj")
    before = tree(folder)
    done = run(folder, backend, fixing(tmp_path), check, env={})
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-3000:]
    records = events(done.stdout)
    assert not of_type(records, "env_detected"), "nothing declared: the sandbox as it is, nothing built"
    baseline = of_type(records, "check_finished")[0]
    assert not baseline["passed"] and "assert 9 == 8" in baseline["output_tail"], baseline["output_tail"]
    assert "not found" not in baseline["output_tail"]
    assert of_type(records, "check_finished")[-1]["passed"]
    assert of_type(records, "finished")[-1]["outcome"] == "met"
    assert tree(folder) == before


@pytest.mark.slow
def test_an_environment_without_pytest_gets_it_from_the_build(backend, tmp_path, root, index):
    folder = bare(root / "proj", requirements="tinydep\n")
    (folder / "calc.py").write_text("import tinydep\n\n" + BUGGY)
    done = run(folder, backend, fixing(tmp_path), "python -m pytest -q", env=index_env(index.url))
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-3000:]
    records = events(done.stdout)
    detected = of_type(records, "env_detected")[0]
    assert any("installs pytest" in n for n in detected["notes"]), detected
    assert "pytest" in [e["step"] for e in of_type(records, "env_step")]
    assert any("/pytest-" in p for p in index.installs()), index.installs()
    baseline = of_type(records, "check_finished")[0]
    assert not baseline["passed"] and "assert 9 == 8" in baseline["output_tail"], baseline["output_tail"]
    assert of_type(records, "finished")[-1]["outcome"] == "met"


@pytest.mark.unit
@pytest.mark.parametrize("check,runs", [
    ("python -m pytest -q", True), ("pytest -q", True), ("py.test", True), ("cd src && pytest", True),
    ("python3 -m pytest tests/", True), (".venv/bin/pytest -x", True), ("make test", False),
    ("python -m unittest", False), ("pytest-watch", False), ("tox -e py311", False)])
def test_which_checks_run_pytest(check, runs):
    assert bool(RUNS_PYTEST.search(check)) is runs


@pytest.mark.unit
@pytest.mark.parametrize("requirements,added", [
    ("tinydep\n", True), ("tinydep\npytest>=7\n", False), ("pytest-cov\n", False), ("pytest_helpers\n", True)])
def test_the_build_makes_sure_of_pytest_and_says_so_when_no_input_names_it(tmp_path, requirements, added):
    """Whether an input installs pytest is a guess from its text (idna 3.10 names it in an extra it never
    installs): the guess only decides the note; the pytest step runs for every pytest check (a no-op if there)."""
    (tmp_path / "requirements.txt").write_text(requirements)
    recipe = detect(tmp_path, check="python -m pytest -q")
    assert recipe.pytest and "step pytest" in build_script(recipe)
    assert any("installs pytest" in n for n in recipe.notes) is added
    assert detect(tmp_path, check="make test").pytest is False
    assert detect(tmp_path).pytest is False, "without a check nothing is added"


@pytest.mark.unit
def test_a_stale_image_label():
    assert image.state_of(None) == "missing"
    assert image.state_of("") == "stale", "an image without the label predates it"
    assert image.state_of("f622d4f3a8244128") == "stale"
    assert image.state_of(image.recipe(True)) == "current"
    assert image.state_of(image.recipe(False)) == "current", "built from the Dockerfile"
    assert image.recipe(True) != image.recipe(True, "trixie")


@pytest.mark.docker
def test_an_image_with_an_older_label_is_stale_for_the_doctor():
    """A real image carrying another recipe label: image_state and the doctor say stale, with the fix."""
    from sandbox_fixtures import require_backend
    from tui_agent.sandbox.docker.image_doctor import doctor_lines

    require_backend("docker")
    name = "tui-agent-pyenv-stale-test:latest"
    client = image._client()
    try:
        client.images.build(fileobj=io.BytesIO(f"FROM {image.DEFAULT_IMAGE}\nLABEL {image.LABEL}=0ld\n".encode()),
                            tag=name, rm=True)
        assert image.image_label(name) == "0ld" and image.image_state(name) == "stale"
        said = {what: (ok, detail) for what, ok, detail in doctor_lines(name)}
        ok, detail = said["sandbox image"]
        assert not ok and "stale" in detail and "tui-agent sandbox build --offline" in detail, detail
        assert image.image_state(image.DEFAULT_IMAGE) == "current", "the shared image is built from this recipe"
    finally:
        client.images.remove(name, force=True)
        client.close()
    assert image.image_state(name) == "missing"


@pytest.mark.unit
def test_the_recipe_changes_with_the_packages(monkeypatch):
    current = image.recipe(True)
    monkeypatch.setattr(image, "PACKAGES", image.PACKAGES[:1])
    assert image.recipe(True) != current
    assert image.state_of(current) == "stale", "an image of the old package list is stale"


@pytest.mark.bwrap
def test_the_doctor_says_pytest_runs_in_the_bwrap_sandbox(tmp_path):
    """The doctor's line and the shims: python and pytest resolve in a real bwrap sandbox, shims or not."""
    import asyncio

    from sandbox_fixtures import require_backend
    from tui_agent.sandbox.base import SandboxSpec
    from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
    from tui_agent.sandbox.bwrap.setup import missing_commands, pytest_status

    require_backend("bwrap")
    ok, detail = pytest_status()
    assert ok and detail.startswith("pytest "), detail
    folder = reachable_dir("tui-agent-pyenv-")

    async def go():
        box = BwrapSandbox(SandboxSpec(folder))
        out: list = []
        try:
            result = await box.run("python -c 'import sys; print(sys.version_info[0])' && pytest --version && "
                                   "py.test --version", lambda _s, chunk: out.append(chunk), 60)
        finally:
            await box.close()
        return result, "".join(c if isinstance(c, str) else c.decode() for c in out)

    try:
        result, text = asyncio.run(go())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert result.exit_code == 0 and text.startswith("3\n") and text.count("pytest ") == 2, (text, missing_commands())


@pytest.mark.docker
def test_an_untagged_environment_image_is_listed_by_id_and_pruned(root):
    """An environment image whose tag a rebuild took is listed by its id (Docker 20 says <none>:<none>)."""
    from sandbox_fixtures import require_backend

    require_backend("docker")
    tag, project = "tui-agent-env:pyenv-untagged-test", str(root / "proj")
    client = image._client()
    built = []
    try:
        for n in (1, 2):  # the second build takes the tag: the first image is left untagged
            text = (f"FROM {image.DEFAULT_IMAGE}\nLABEL {docker_store.KEY_LABEL}=pyenv-test "
                    f"{docker_store.PROJECT_LABEL}={project} n={n}\n")
            built.append(client.images.build(fileobj=io.BytesIO(text.encode()), tag=tag, rm=True)[0].id)
        mine = [e for e in docker_store.entries() if e.project == project]
        assert sorted(e.name for e in mine) == sorted([tag, built[0]]), mine
        for entry in mine:
            assert docker_store.remove(entry) is None
        assert not [e for e in docker_store.entries() if e.project == project]
    finally:
        for ref in (tag, *built):
            try:
                client.images.remove(ref, force=True)
            except Exception:
                pass
        client.close()


@pytest.mark.podman
def test_podmans_copy_of_the_image_is_current():
    """bootstrap copies the image into Podman again when its copy is missing or stale (step 6)."""
    from sandbox_fixtures import require_backend
    from tui_agent.sandbox.docker.image_doctor import podman_label, podman_state

    require_backend("podman")
    assert podman_label() == image.image_label() and podman_state() == "current"
    assert podman_label("tui-agent-no-such-image:latest") is None


GIT_TEST = """import os, shutil, subprocess


def test_commits_have_an_identity(tmp_path):
    assert os.environ["GIT_AUTHOR_EMAIL"] == os.environ["GIT_COMMITTER_EMAIL"] == "sandbox@tui-agent.invalid"
    if shutil.which("git"):  # the host's git under bwrap; the image has none
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        subprocess.run(["git", "-C", str(tmp_path), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
"""


@pytest.mark.slow
def test_a_suite_that_commits_to_a_git_repository_has_an_identity(backend, tmp_path, root):
    """dunamai 1.23.0's tests make repositories and commit ("Author identity unknown" in the sandbox, where the
    person's ~/.gitconfig never goes): every check gets a neutral identity."""
    folder = root / "gitproj"
    folder.mkdir(parents=True)
    (folder / "test_git.py").write_text(GIT_TEST)
    done = run(folder, backend, script(tmp_path, [{"text": "nothing to do"}]), "python -m pytest -q", env={})
    first = of_type(events(done.stdout), "check_finished")[0]
    assert first["passed"], first["output_tail"]
