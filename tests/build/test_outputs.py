"""Atomic writes into STATIC_ROOT: a write either lands whole or leaves the old file and no temp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assetpipe.build.outputs import (
    WriteError,
    copy_atomic,
    is_temp_name,
    replacing,
    save_through_temp,
    scan_tree,
    temp_path_for,
    write_atomic,
    write_if_changed,
)


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if is_temp_name(p.name)]


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
    assert path.read_bytes() == b"saved"
    assert seen[0].parent == path.parent and is_temp_name(seen[0].name)

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
    assert set(scan_tree(root).found) == {"css/a.css", "b.js"}
    assert not stale.exists()
    assert scan_tree(tmp_path / "missing").found == {}


def test_temp_names_fit_any_legal_name(tmp_path: Path) -> None:
    path = tmp_path / ("n" * 251 + ".css")  # 255 bytes, the longest legal name
    write_atomic(path, b"x")
    assert path.read_bytes() == b"x" and len(temp_path_for(path).name) < 24
    assert temp_path_for(path) != temp_path_for(path)  # two runs never share one


def test_failed_write_names_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(WriteError, match=r"could not write .*file/inside\.css"):
        write_atomic(blocker / "inside.css", b"data")
    assert temps(tmp_path) == []


def test_outputs_trust_only_what_was_recorded_as_written(tmp_path: Path) -> None:
    root = tmp_path / "static"
    write_atomic(root / "a.css", b"a")
    outputs = scan_tree(root)
    assert "a.css" in outputs and not outputs.holds("a.css", "d")
    outputs.wrote("a.css", "d")
    assert outputs.holds("a.css", "d") and not outputs.holds("a.css", "other")
    again = scan_tree(root, outputs.records())
    assert again.holds("a.css", "d")
    stat = (root / "a.css").stat()
    (root / "a.css").write_bytes(b"b")  # same size, and the mtime put back: the ctime moved
    os.utime(root / "a.css", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not scan_tree(root, outputs.records()).holds("a.css", "d")


def test_a_stamps_mtime_is_the_float_os_stat_gives(tmp_path: Path) -> None:
    from assetpipe.build.outputs import stamp_mtime, stamp_of

    path = tmp_path / "f"
    path.write_bytes(b"x")
    for mtime_ns in (0, 1_700_000_000_123_456_789, 1_999_999_999_999_999_999, -1_500_000_001):
        os.utime(path, ns=(mtime_ns, mtime_ns))
        stat = os.stat(path)
        assert stamp_mtime(stamp_of(stat)) == stat.st_mtime
