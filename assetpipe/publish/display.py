"""How publishing reports to a person: sizes, and a progress bar when stdout is a terminal."""

from __future__ import annotations

import io
import threading
import time
from typing import TextIO, cast

from django.core.management.base import OutputWrapper

from assetpipe.report import format_bytes

__all__ = ["Progress", "format_bytes", "unwrapped"]


class Progress:
    """A one-line progress bar, redrawn at most ten times a second; called from many threads."""

    WIDTH = 30

    def __init__(self, stream: TextIO, files: int, size: int) -> None:
        self._stream = stream
        self._files = files
        self._size = size
        self._done_files = 0
        self._done_size = 0
        self._drawn_at = 0.0
        self._lock = threading.Lock()

    def advance(self, size: int) -> None:
        with self._lock:
            self._done_files += 1
            self._done_size += size
            now = time.monotonic()
            if now - self._drawn_at >= 0.1 or self._done_files == self._files:
                self._drawn_at = now
                self._draw()

    def close(self) -> None:
        with self._lock:
            if self._done_files != self._files:  # stopped by a failure: show where
                self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self) -> None:
        filled = self.WIDTH * self._done_size // self._size if self._size else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self._stream.write(
            f"\r[{bar}] {self._done_files:,}/{self._files:,} files, "
            f"{format_bytes(self._done_size)}/{format_bytes(self._size)}"
        )
        self._stream.flush()


def unwrapped(stream: TextIO) -> TextIO:
    """``stream``, writing text as given: a management command's OutputWrapper ends every write
    with a newline, which would put each redraw of the progress bar on a line of its own."""
    if isinstance(stream, OutputWrapper):
        return cast(TextIO, _Unwrapped(stream))
    return stream


class _Unwrapped(io.TextIOBase):
    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> int:
        self._wrapper.write(text, ending="")
        return len(text)

    def isatty(self) -> bool:
        return self._wrapper.isatty()

    def flush(self) -> None:
        self._wrapper.flush()
