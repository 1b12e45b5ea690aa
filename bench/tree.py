"""The source tree a benchmark collects: real third-party static files, copied out of site-packages.

The tree is a copy so that a scenario can modify a file without touching an installed package.
Each source becomes its own entry of ``STATICFILES_DIRS``, in the order given, as a project that
vendors several packages' statics would have it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Packages every benchmark tree includes; install them with ``pip install 'assetpipe[bench]'``.
DEFAULT_PACKAGES: tuple[str, ...] = ("django.contrib.admin", "rest_framework", "debug_toolbar")

# @imported by admin/css/forms.css, so a change to it also changes its referrer's hashed name.
DEFAULT_CHANGE_FILE = "admin/css/widgets.css"


@dataclass(frozen=True)
class Tree:
    """A benchmark source tree and what it holds."""

    root: Path
    dirs: tuple[Path, ...]  # STATICFILES_DIRS, in finder priority order
    sources: tuple[str, ...]  # what each dir was copied from, for the report
    files: int  # unique relative paths, i.e. what collectstatic collects
    bytes: int

    def find(self, relpath: str) -> Path:
        """The file collectstatic would collect for ``relpath`` (first dir wins, as in Django)."""
        for directory in self.dirs:
            candidate = directory / relpath
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"{relpath} is in none of {', '.join(map(str, self.dirs))}")


def package_static_dir(package: str) -> Path:
    """The ``static/`` directory of an installed package (or app module)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LookupError(f"package {package!r} is not installed (pip install 'assetpipe[bench]')")
    static = Path(spec.origin).parent / "static"
    if not static.is_dir():
        raise LookupError(f"package {package!r} has no static/ directory ({static})")
    return static


def build_tree(
    dest: Path,
    packages: Iterable[str] = DEFAULT_PACKAGES,
    extra_dirs: Iterable[Path] = (),
) -> Tree:
    """Copy the packages' static dirs and any extra dirs into ``dest`` (which must not exist)."""
    sources = [(package, package_static_dir(package)) for package in packages]
    sources += [(str(path), path) for path in extra_dirs]
    dest.mkdir(parents=True)
    dirs: list[Path] = []
    seen: set[str] = set()
    total_bytes = 0
    for index, (_, source) in enumerate(sources):
        target = dest / f"{index:02d}-{source.parent.name}"
        shutil.copytree(source, target)
        dirs.append(target)
        for top, _, names in os.walk(target):
            for name in names:
                path = Path(top, name)
                relpath = path.relative_to(target).as_posix()
                if relpath not in seen:  # shadowed duplicates are never collected
                    seen.add(relpath)
                    total_bytes += path.stat().st_size
    return Tree(
        root=dest,
        dirs=tuple(dirs),
        sources=tuple(label for label, _ in sources),
        files=len(seen),
        bytes=total_bytes,
    )


def touch_all(tree: Tree) -> None:
    """Give every source file a new mtime, its content unchanged: a fresh checkout."""
    now = time.time_ns()
    for directory in tree.dirs:
        for top, _, names in os.walk(directory):
            for name in names:
                os.utime(os.path.join(top, name), ns=(now, now))


class FileChange:
    """Rewrites one file of a tree with a fresh, distinct appended CSS rule on each ``apply``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.original = path.read_bytes()
        self.count = 0

    def apply(self) -> bytes:
        """Give the file content it has never had before in this run; return the added rule."""
        self.count += 1
        # A real rule rather than a comment, so that no minifying pipeline could drop it.
        rule = f".assetpipe-bench-change-{self.count} {{ outline-width: {self.count}px; }}"
        self.path.write_bytes(self.original + b"\n" + rule.encode() + b"\n")
        return rule.encode()

    def restore(self) -> None:
        self.path.write_bytes(self.original)


@contextmanager
def changing(path: Path) -> Iterator[FileChange]:
    """A :class:`FileChange` whose file gets its original content back however the block ends."""
    change = FileChange(path)
    try:
        yield change
    finally:
        change.restore()
