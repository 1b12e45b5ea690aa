"""Atomic writes into STATIC_ROOT: a write either lands whole or leaves the old file and no temp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assetpipe.files import (
    TEMP_SUFFIX,
    copy_atomic,
    replacing,
    save_through_temp,
    scan_tree,
    temp_path_for,
    write_atomic,
    write_if_changed,
)


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_write_atomic_creates_parents_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.css"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert temps(tmp_path) == []


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "file.css"
    write_atomic(path, b"old")

    with pytest.raises(RuntimeError), replacing(path) as temp:
        temp.write_bytes(b"half of the ne")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert temps(tmp_path) == []


def test_failed_rename_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_bytes(b"x")  # a non-empty directory cannot be replaced by a file
    with pytest.raises(OSError):
        write_atomic(target, b"data")
    assert temps(tmp_path) == []
    assert (target / "inside").read_bytes() == b"x"


def test_copy_atomic(tmp_path: Path) -> None:
    source = tmp_path / "source.js"
    source.write_bytes(b"var a;\n")
    copy_atomic(source, tmp_path / "out" / "copy.js")
    assert (tmp_path / "out" / "copy.js").read_bytes() == b"var a;\n"
    with pytest.raises(FileNotFoundError):
        copy_atomic(tmp_path / "missing.js", tmp_path / "out" / "copy.js")
    assert (tmp_path / "out" / "copy.js").read_bytes() == b"var a;\n"
    assert temps(tmp_path) == []


def test_write_if_changed_leaves_an_identical_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "staticfiles.json"
    assert write_if_changed(path, b"{}")
    mtime = path.stat().st_mtime_ns - 10**9
    os.utime(path, ns=(mtime, mtime))
    assert not write_if_changed(path, b"{}")
    assert path.stat().st_mtime_ns == mtime
    assert write_if_changed(path, b'{"a": 1}')
    assert path.read_bytes() == b'{"a": 1}'


def test_save_through_temp(tmp_path: Path) -> None:
    path = tmp_path / "app.css"
    seen: list[Path] = []

    def save(temp: Path) -> Path:
        seen.append(temp)
        temp.write_bytes(b"saved")
        return temp

    save_through_temp(path, save)
    assert path.read_bytes() == b"saved" and seen == [temp_path_for(path)]

    def failing(temp: Path) -> Path:
        temp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_through_temp(path, failing)
    assert path.read_bytes() == b"saved"
    assert temps(tmp_path) == []


def test_scan_tree_lists_files_and_removes_stale_temps(tmp_path: Path) -> None:
    root = tmp_path / "static"
    write_atomic(root / "css" / "a.css", b"a")
    write_atomic(root / "b.js", b"b")
    stale = temp_path_for(root / "css" / "c.css")
    stale.write_bytes(b"partial")
    assert scan_tree(root) == {"css/a.css", "b.js"}
    assert not stale.exists()
    assert scan_tree(tmp_path / "missing") == set()
