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
