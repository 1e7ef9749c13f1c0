"""A dependency published as an sdist with a C extension (no wheel for this platform) builds in the sandbox: the
image has a C compiler and the Python headers (bwrap uses the host's, which bootstrap installs). markupsafe 3.0.2's
own build failed on Docker and Podman without them."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from env_fixtures import IndexServer, index_folder
from loop_fixtures import of_type
from test_env_real_traits import baseline, env_root  # noqa: F401 (a fixture)

C = """#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *triple(PyObject *self, PyObject *arg) {
    long x = PyLong_AsLong(arg);
    return PyLong_FromLong(3 * x);
}

static PyMethodDef methods[] = {{"triple", triple, METH_O, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastdep", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fastdep(void) { return PyModule_Create(&module); }
"""
SDIST = {
    "PKG-INFO": "Metadata-Version: 2.1\nName: fastdep\nVersion: 1.0\n",
    "pyproject.toml": '[build-system]\nrequires = ["setuptools", "wheel"]\nbuild-backend = "setuptools.build_meta"\n',
    "setup.py": "from setuptools import Extension, setup\n\n"
                "setup(name='fastdep', version='1.0', ext_modules=[Extension('fastdep', ['fastdep.c'])])\n",
    "fastdep.c": C,
}


def sdist(dest: Path) -> None:
    with tarfile.open(dest / "fastdep-1.0.tar.gz", "w:gz") as tar:
        for rel, text in SDIST.items():
            data = text.encode()
            info = tarfile.TarInfo(f"fastdep-1.0/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.slow
def test_a_dependency_with_a_c_extension_is_compiled_in_the_environment_build(backend, tmp_path,
                                                                               env_root):  # noqa: F811
    index = index_folder(tmp_path / "index")
    sdist(index)
    server = IndexServer(index)
    try:
        folder = tmp_path / "proj"
        (folder / "tests").mkdir(parents=True)
        (folder / "requirements.txt").write_text("fastdep\npytest\n")
        (folder / "tests" / "test_fast.py").write_text(
            "import fastdep\n\n\ndef test_triple():\n"
            "    assert fastdep.triple(4) == 12 and '.so' in fastdep.__file__\n")
        records = baseline(folder, backend, env_root, {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": server.url},
                           tmp_path)
        assert not of_type(records, "env_failed"), of_type(records, "env_failed")
        first_check = of_type(records, "check_finished")[0]
        assert first_check["passed"], first_check["output_tail"]
        assert any(p.endswith("/fastdep-1.0.tar.gz") for p in server.requests), "built from the sdist"
    finally:
        server.close()
        shutil.rmtree(index, ignore_errors=True)


PROJECT = {
    ".gitignore": "*.so\nbuild/\n*.egg-info/\n",
    "pyproject.toml": SDIST["pyproject.toml"],
    "setup.py": "from setuptools import Extension, setup\n\n"
                "setup(name='fastdep', version='1.0', packages=['fastdep'],\n"
                "      ext_modules=[Extension('fastdep._fast', ['fastdep/_fast.c'])])\n",
    "fastdep/__init__.py": "from fastdep._fast import triple\n",
    "fastdep/_fast.c": C.replace('"fastdep"', '"_fast"').replace("PyInit_fastdep", "PyInit__fast"),
    "tests/test_fast.py": "from fastdep import triple\n\n\ndef test_triple():\n    assert triple(4) == 12\n",
}


@pytest.mark.slow
def test_the_projects_own_c_extension_reaches_the_workspace_never_the_persons_folder(backend, tmp_path,
                                                                                    env_root):  # noqa: F811
    """An editable install compiles the extension into the build's copy of the project; the checks run in the
    workspace, a copy of the person's folder: the build keeps the module and each run places it, gitignored."""
    index = index_folder(tmp_path / "index")
    server = IndexServer(index)
    try:
        folder = tmp_path / "own"
        for rel, text in PROJECT.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        for attempt in ("built", "cached"):
            records = baseline(folder, backend, env_root,
                               {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": server.url}, tmp_path)
            assert not of_type(records, "env_failed"), of_type(records, "env_failed")
            assert of_type(records, "env_ready")[0]["cached"] is (attempt == "cached")
            first_check = of_type(records, "check_finished")[0]
            assert first_check["passed"], (attempt, first_check["output_tail"])
        assert not list(folder.rglob("*.so")), "the person's folder never gets the build's outputs"
    finally:
        server.close()
        shutil.rmtree(index, ignore_errors=True)


@pytest.mark.unit
def test_outputs_are_kept_and_placed_only_where_the_workspace_never_looks(tmp_path):
    from tui_agent.environments import outputs
    from tui_agent.workspace.gitignore import DEFAULT_IGNORE, Ignore, RuleSet

    project, copy, kept, ws = (tmp_path / n for n in ("project", "copy", "kept", "ws"))
    for root in (project, copy, ws):
        (root / "pkg" / "sub").mkdir(parents=True)
    for rel in ("pkg/_a.so", "pkg/sub/_b.so", "top.so", "pkg/_c.so", "pkg/_d.so", "pkg/x.py", ".hidden/_e.so"):
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes(b"\x7fELF" + rel.encode())
    (project / "pkg" / "_d.so").write_bytes(b"the person's own")  # theirs: copied in as a generated file, not kept
    assert sorted(outputs.save(copy, project, kept)) == ["pkg/_a.so", "pkg/_c.so", "pkg/sub/_b.so", "top.so"]

    (ws / ".gitignore").write_text("/pkg/_a.so\n/pkg/_c.so\n")
    (ws / "pkg" / "sub" / ".gitignore").write_text("*.so\n")  # nested rules count
    (ws / "pkg" / "_c.so").write_bytes(b"already here")
    (ws / "elsewhere").mkdir()
    (ws / "pkg" / "sub").rename(ws / "elsewhere" / "sub")
    (ws / "pkg" / "sub").symlink_to(ws / "elsewhere" / "sub")  # a symlinked folder is never entered
    ignore = Ignore().push("", RuleSet.parse(DEFAULT_IGNORE))
    placed = outputs.place(kept, ws, ignore, None)
    assert placed == ["pkg/_a.so"], "top.so is not ignored: a scan would see it and the deploy would carry it"
    assert (ws / "pkg" / "_a.so").read_bytes() == b"\x7fELFpkg/_a.so"
    assert (ws / "pkg" / "_c.so").read_bytes() == b"already here" and not (ws / "top.so").exists()
    assert not (ws / "elsewhere" / "sub" / "_b.so").exists()
