"""This process's open descriptors, for the tests that a run closes every socket it opens.

A socket left to the garbage collector is not closed when the run ends, so these tests turn the
collector off (``no_collection``) and keep every client the run makes alive: then only an
explicit close can close what the run opened.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FD_DIR = Path("/proc/self/fd")
# The in-process servers (moto, the fault proxy) close their end of a connection on their own
# threads, once they see the client's end closed.
SETTLE = 5.0

needs_fd_dir = pytest.mark.skipif(not FD_DIR.is_dir(), reason="needs /proc/self/fd (Linux)")


def open_descriptors() -> dict[int, str]:
    """This process's descriptors and what each refers to (``socket:[1234]``, a path, ...)."""
    found: dict[int, str] = {}
    for entry in os.listdir(FD_DIR):
        # listdir's own descriptor is listed, and closed by the time it is read.
        with contextlib.suppress(FileNotFoundError):
            found[int(entry)] = os.readlink(FD_DIR / entry)
    return found


def opened_since(before: dict[int, str]) -> dict[int, str]:
    """The descriptors open now that were not open in ``before``, once SETTLE has let the
    servers' threads close their ends."""
    deadline = time.monotonic() + SETTLE
    while True:
        new = {fd: what for fd, what in open_descriptors().items() if before.get(fd) != what}
        if not new or time.monotonic() > deadline:
            return new
        time.sleep(0.05)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """No cyclic garbage collection: it would close whatever socket a run left open."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
