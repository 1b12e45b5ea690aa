"""One build at a time per STATIC_ROOT: an ``fcntl.flock`` on a file in the state directory.

A second run on the same tree waits for the first, saying so once, and fails with a clear error
after ``timeout`` seconds. The lock is the kernel's: it goes with the process, so a killed run
never leaves a stale lock behind. Everything that writes into STATIC_ROOT or removes files from
it (Django's copy and ``--clear``, the build's steps, the removal of stale temporary files)
runs while it is held, so one run never removes another live run's temporary file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assetpipe.digests import md5_bytes

# How often a waiting run tries again; the kernel offers no flock with a timeout.
POLL_SECONDS = 0.05


class LockTimeout(Exception):
    pass


def lock_path(state_dir: Path, root: Path) -> Path:
    return state_dir / f"{root.name or 'static'}-{md5_bytes(str(root).encode())[:12]}.lock"


class BuildLock:
    """The lock of one STATIC_ROOT, taken once and held until ``release``."""

    def __init__(self, state_dir: Path, root: Path) -> None:
        self.path = lock_path(state_dir, root)
        self.root = root
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float, say: Callable[[str], None]) -> None:
        """Take the lock, waiting up to ``timeout`` seconds for another run to finish."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._wait(fd, timeout, say)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _wait(self, fd: int, timeout: float, say: Callable[[str], None]) -> None:
        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another build of {self.root} still holds {self.path} after {timeout:g} s; "
                    "wait for it to finish, or raise the lock_timeout option"
                )
            if not said:
                say(f"assetpipe: another build of {self.root} is running; waiting for it")
                said = True
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def build_lock(
    state_dir: Path, root: Path, *, timeout: float, say: Callable[[str], None]
) -> Iterator[BuildLock]:
    lock = BuildLock(state_dir, root)
    lock.acquire(timeout, say)
    try:
        yield lock
    finally:
        lock.release()
