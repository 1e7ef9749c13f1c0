"""What comes back from a remote sandbox is an untrusted tar: names, kinds and sizes are checked, no symlink on
the local side is followed, and every hash is computed here."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile

import pytest

from tui_agent.sandbox.docker.untrusted_tar import UnsafeTar, apply, clean_name, remove


def make_tar(*members: tuple) -> bytes:
    """members: (name, kind, payload) with kind file | dir | link | hardlink | fifo | device."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.mode = 0o4755 if kind == "setuid" else 0o644
            if kind in ("file", "setuid"):
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE, "device": tarfile.CHRTYPE}[kind]
            info.linkname = payload.decode() if payload else ""
            tar.addfile(info)
    return buf.getvalue()


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


def test_files_folders_and_links_land_with_hashes_computed_here(root):
    data = make_tar(("pkg", "dir", b""), ("pkg/mod.py", "file", b"x = 1\n"), ("pkg/alias", "link", b"mod.py"))
    applied = apply(root, data, 1 << 20, None)
    assert (root / "pkg/mod.py").read_bytes() == b"x = 1\n"
    assert os.readlink(root / "pkg/alias") == "mod.py"
    assert applied["pkg/mod.py"][1] == hashlib.sha256(b"x = 1\n").hexdigest()
    assert stat.S_ISDIR(applied["pkg"][0]) and stat.S_ISLNK(applied["pkg/alias"][0])


@pytest.mark.parametrize("name", ["/etc/evil", "../evil", "a/../../evil", "a//b", "./", "a/./b", "x\0y"])
def test_names_that_lead_outside_are_refused(root, name):
    with pytest.raises(UnsafeTar):
        clean_name(name)
    if "\0" not in name:  # tar itself cannot carry a NUL
        with pytest.raises(UnsafeTar):
            apply(root, make_tar((name, "file", b"boom")), 1 << 20, None)
    assert not (root.parent / "evil").exists()


def test_a_symlink_on_the_way_is_never_followed(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "a").symlink_to(outside)  # planted by the sandboxed code, brought back earlier
    with pytest.raises(OSError):
        apply(root, make_tar(("a/evil", "file", b"boom")), 1 << 20, None)
    assert list(outside.iterdir()) == []
    remove(root, "a/evil")  # a removal through the link is not one either
    assert (root / "a").is_symlink()


def test_a_link_is_replaced_not_written_through(root, tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep")
    (root / "f").symlink_to(target)
    apply(root, make_tar(("f", "file", b"new")), 1 << 20, None)
    assert target.read_text() == "keep" and not (root / "f").is_symlink()
    assert (root / "f").read_bytes() == b"new"


def test_other_kinds_never_leave_the_sandbox_and_setuid_is_dropped(root):
    apply(root, make_tar(("h", "hardlink", b"/etc/passwd"), ("p", "fifo", b""), ("d", "device", b""),
                         ("s", "setuid", b"#!/bin/sh\n")), 1 << 20, None)
    assert sorted(p.name for p in root.iterdir()) == ["s"]
    assert stat.S_IMODE((root / "s").stat().st_mode) == 0o755


def test_more_than_the_cap_is_refused(root):
    with pytest.raises(UnsafeTar, match="MB came back"):
        apply(root, make_tar(("a", "file", b"x" * 600), ("b", "file", b"y" * 600)), 1000, None)


def test_a_malformed_stream_is_refused(root):
    with pytest.raises(UnsafeTar, match="malformed"):
        apply(root, make_tar(("a", "file", b"x" * 5000))[:3000], 1 << 20, None)


def test_a_folder_replaces_a_file_and_the_other_way_round(root):
    (root / "x").write_text("file")
    (root / "y").mkdir()
    (root / "y/inner").write_text("gone")
    apply(root, make_tar(("x", "dir", b""), ("x/in", "file", b"1"), ("y", "file", b"2")), 1 << 20, None)
    assert (root / "x/in").read_bytes() == b"1" and (root / "y").read_bytes() == b"2"
