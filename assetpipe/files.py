"""Writing into STATIC_ROOT so that an interrupted run never leaves a partial file behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuiltFile:
    """A file in STATIC_ROOT: its name, the digest and size of its content, how to read it."""

    name: str
    digest: str
    size: int
    load: Callable[[], bytes]


# Temporary files are dotfiles (never served) with a suffix a later run recognises and removes.
TEMP_SUFFIX = ".assetpipe-tmp"


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces ``path``, on failure it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(path)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with replacing(path) as temp:
        temp.write_bytes(data)


def copy_atomic(source: Path, path: Path) -> None:
    with replacing(path) as temp:
        shutil.copyfile(source, temp)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` unless it holds exactly that already; True if written.

    A file left alone keeps its mtime, so servers and caches see no change.
    """
    if path.is_file() and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True


def save_through_temp(path: Path, save: Callable[[Path], Path]) -> None:
    """Have ``save`` write the file under a temporary name beside ``path``, then rename it.

    For writers that choose where the bytes go themselves (Django's ``FileSystemStorage._save``):
    ``save`` gets the temporary path and returns the path it actually wrote.
    """
    temp = temp_path_for(path)
    try:
        saved = save(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    try:
        os.replace(saved, path)
    except BaseException:
        saved.unlink(missing_ok=True)
        raise


def scan_tree(root: Path) -> set[str]:
    """Every file below ``root`` as a '/'-separated relative name; removes stale temp files.

    One directory walk answers "is this output already there?" for the whole run, instead of a
    stat per expected file.
    """
    found: set[str] = set()
    if not root.is_dir():
        return found
    root_str = str(root)
    prefix_len = len(root_str) + 1
    for dirpath, _dirnames, filenames in os.walk(root_str):
        rel_dir = dirpath[prefix_len:].replace(os.sep, "/")
        for filename in filenames:
            if filename.endswith(TEMP_SUFFIX):
                # Left by an interrupted run; the real file was never replaced by it.
                Path(dirpath, filename).unlink(missing_ok=True)
                continue
            found.add(f"{rel_dir}/{filename}" if rel_dir else filename)
    return found
