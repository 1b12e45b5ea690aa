"""The scratch directory of a benchmark run: a given one kept, or a temporary one removed."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def check_workdir(parser: argparse.ArgumentParser, workdir: Path | None, marker: str) -> None:
    """Refuse a ``--workdir`` that exists and that no earlier run of this benchmark made."""
    if workdir is not None and workdir.exists() and not (workdir / marker).exists():
        parser.error(f"--workdir {workdir} exists and is no earlier benchmark's")


@contextmanager
def fresh_workdir(workdir: Path | None, marker: str, prefix: str) -> Iterator[Path]:
    """An empty directory marked as this benchmark's; a temporary one is removed afterwards."""
    path = workdir or Path(tempfile.mkdtemp(prefix=prefix))
    try:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        (path / marker).touch()
        yield path
    finally:
        if workdir is None:
            shutil.rmtree(path, ignore_errors=True)
