"""Django's copy phase under assetpipe's collectstatic: one build at a time, and one scan.

Django asks, for every file, whether its copy in STATIC_ROOT exists and how old it is: two stat
calls and three ``safe_join()``s per file. While assetpipe's collectstatic runs, the answers come
from one scan of the tree, which the build then reuses; a name the scan did not find, or that
this run has written or deleted since, is asked of the disk. Everything that writes into
STATIC_ROOT or removes from it, the scan included (it removes stale temporary files), runs under
the build lock, which is taken at the first such step and released when the command ends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError

from assetpipe.build.lock import BuildLock, LockTimeout
from assetpipe.build.outputs import Outputs, scan_tree
from assetpipe.build.report import current_console


class CopyPhase:
    def __init__(self, root: Callable[[], Path], state_dir: Callable[[], Path], timeout: float):
        # Callables: the storage's location and state_dir are only read once a command runs.
        self._root = root
        self._state_dir = state_dir
        self.timeout = timeout
        self.collecting = False
        self.saved: set[str] = set()  # names Django's copy phase wrote in this run
        self.scanned: Outputs | None = None  # STATIC_ROOT as one scan found it, under the lock
        self._lock: BuildLock | None = None

    def take_lock(self) -> None:
        if self._lock is not None:
            return
        console = current_console()
        self._lock = BuildLock(self._state_dir(), self._root().resolve())
        try:
            self._lock.acquire(self.timeout, console.warn)
        except LockTimeout as exc:
            self._lock = None
            raise CommandError(f"assetpipe: {exc}") from exc
        except OSError as exc:
            # A read-only state_dir: the state cannot be saved either; build without the lock.
            console.warn(f"assetpipe: could not lock {self._lock.path}: {exc}")

    def release(self) -> None:
        lock, self._lock = self._lock, None
        self.saved = set()
        self.scanned = None  # true only under the lock
        if lock is not None:
            lock.release()

    def scan(self) -> Outputs | None:
        """STATIC_ROOT's files while collectstatic runs; ``None`` outside it."""
        if not self.collecting:
            return None
        if self.scanned is None:
            self.take_lock()
            self.scanned = scan_tree(self._root())
        return self.scanned

    def wrote(self, name: str) -> None:
        self.saved.add(name)
        self.forget(name)

    def forget(self, name: str) -> None:
        """``name`` was written or removed since the scan: ask the disk about it."""
        if self.scanned is not None:
            self.scanned.replaced(name)
