"""How assetpipe reports to a person: the build's summary and warnings, sizes, progress bars.

collectstatic passes neither its output streams nor its verbosity to the storage. assetpipe's
own ``collectstatic`` command (which Django picks when ``assetpipe`` comes before
``django.contrib.staticfiles`` in INSTALLED_APPS) sets them here, around ``handle``; under
Django's command the build reports to the process's streams at verbosity 1.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO, cast

from django.core.management.base import OutputWrapper

from assetpipe.build.state import MissingReference

if TYPE_CHECKING:
    from assetpipe.build.compress import CompressStats
    from assetpipe.build.hashing import HashResult
    from assetpipe.build.images.step import ImageStats

# At verbosity 1 each warning group shows this many lines; -v2 shows all.
WARNING_LINES = 20


@dataclass
class BuildReport:
    files: int = 0
    hashed: int = 0
    hashed_reused: int = 0
    compressed: int = 0  # files whose variants were encoded in this run
    compressed_reused: int = 0  # files whose variants were in place or copied from the cache
    compressed_fetched: int = 0  # files whose variants came from the bucket, verified
    compressed_in_bucket: int = 0  # files whose variants are in the bucket only
    saved_bytes: int = 0
    seconds: float = 0.0
    missing: list[MissingReference] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)
    cycles: list[tuple[str, ...]] = field(default_factory=list)
    prehashed_changed: list[str] = field(default_factory=list)
    cache_problems: list[str] = field(default_factory=list)
    repaired: int = 0  # originals in STATIC_ROOT that were not their sources' bytes
    bundler_problems: list[str] = field(default_factory=list)  # from the bundlers' records
    # names that look content-named but nothing declares, by the pattern that covers them
    undeclared: dict[str, list[str]] = field(default_factory=dict)
    # The image step's, None with the images option off (the summary then leaves them out).
    images_converted: int | None = None  # files whose image variants were encoded in this run
    images_reused: int = 0  # files whose image variants were in place or copied from the cache
    images_saved_bytes: int = 0
    image_problems: list[str] = field(default_factory=list)  # images served without variants

    @classmethod
    def from_steps(
        cls,
        files: int,
        hashed: HashResult,
        compressed: CompressStats,
        repaired: int = 0,
        images: ImageStats | None = None,
    ) -> BuildReport:
        """The report of a build of ``files`` collected files from its steps' results."""
        done = hashed.rewritten + hashed.copied
        report = cls(
            files=files,
            hashed=done,
            hashed_reused=files - done,
            compressed=compressed.compressed,
            compressed_reused=compressed.reused,
            compressed_fetched=compressed.fetched,
            compressed_in_bucket=compressed.in_bucket,
            saved_bytes=compressed.original_bytes - compressed.smallest_bytes,
            missing=hashed.missing,
            undecodable=sorted(hashed.undecodable),
            cycles=hashed.cycles,
            prehashed_changed=hashed.prehashed_changed,
            cache_problems=list(compressed.warnings),
            repaired=repaired,
        )
        if images is not None:
            report.images_converted = images.converted
            report.images_reused = images.reused
            report.images_saved_bytes = images.original_bytes - images.smallest_bytes
            report.image_problems = list(images.problems)
            report.cache_problems += images.warnings
        return report

    def summary(self) -> str:
        fetched, in_bucket = self.compressed_fetched, self.compressed_in_bucket
        fetched_text = f", {fetched} fetched from the bucket" if fetched else ""
        if in_bucket:
            fetched_text += f", {in_bucket} left in the bucket"
        return (
            f"{self.files} files: {self.hashed} hashed ({self.hashed_reused} reused), "
            f"{self.compressed} files compressed ({self.compressed_reused} reused{fetched_text}), "
            f"saved {format_bytes(self.saved_bytes)}{self._images_summary()}; "
            f"{self.seconds:.1f} s"
        )

    def _images_summary(self) -> str:
        if self.images_converted is None:
            return ""
        return (
            f", {self.images_converted} images converted ({self.images_reused} reused), "
            f"{format_bytes(self.images_saved_bytes)} saved"
        )

    def warnings(self, limit: int | None) -> list[str]:
        lines: list[str] = []

        def group(title: str, items: list[str]) -> None:
            if not items:
                return
            lines.append(title)
            shown = items if limit is None else items[:limit]
            lines.extend(f"  {item}" for item in shown)
            if len(items) > len(shown):
                lines.append(f"  ... and {len(items) - len(shown)} more (-v 2 shows all)")

        count = len(self.missing)
        group(
            f"{count} reference{'s' if count != 1 else ''} to missing files, left as written:",
            [m.describe() for m in self.missing],
        )
        count = len(self.undecodable)
        group(
            f"{count} file{'s' if count != 1 else ''} not valid UTF-8, hashed as bytes "
            "with references not rewritten:",
            self.undecodable,
        )
        count = len(self.cycles)
        group(
            f"{count} circular reference{'s' if count != 1 else ''}, "
            "the reference closing each circle left unhashed:",
            [" <-> ".join(cycle) for cycle in self.cycles],
        )
        count = len(self.prehashed_changed)
        group(
            f"{count} prehashed file{'s' if count != 1 else ''} changed under the same name; "
            "caches that hold the old content keep serving it: rebuild the bundle (or check "
            "the prehashed patterns):",
            self.prehashed_changed,
        )
        count = len(self.bundler_problems)
        group(
            f"{count} bundler record problem{'s' if count != 1 else ''} (a build not done, or "
            "a file it lists not collected); rebuild the bundle:",
            self.bundler_problems,
        )
        count = sum(len(names) for names in self.undeclared.values())
        group(
            f"{count} file{'s' if count != 1 else ''} look content-named by a bundler, but no "
            "bundler record or prehashed pattern declares them, so they get a second hash; "
            "if a bundler wrote them, add to the prehashed option:",
            [
                f'"{pattern}"  ({len(names)}: {", ".join(names[:3])}'
                f"{', …' if len(names) > 3 else ''})"
                for pattern, names in self.undeclared.items()
            ],
        )
        count = len(self.image_problems)
        group(
            f"{count} image{'s' if count != 1 else ''} served without AVIF/WebP variants, "
            "as collected:",
            self.image_problems,
        )
        group("compressed cache (best effort, the build is complete):", self.cache_problems)
        if self.repaired:
            count = self.repaired
            lines.append(
                f"{count} original{'s' if count != 1 else ''} in STATIC_ROOT differed from "
                "the source and were copied again (edited there, or newer than the source)"
            )
        return lines


def format_bytes(size: int) -> str:
    """Decimal units, as S3 consoles and CDNs bill them: ``41.2 kB``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


class Progress:
    """A one-line progress bar, redrawn at most ten times a second; called from many threads."""

    WIDTH = 30

    def __init__(self, stream: TextIO, files: int, size: int, label: str = "") -> None:
        self._stream = stream
        self._files = files
        self._size = size
        self._label = f"{label} " if label else ""
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
            f"\r{self._label}[{bar}] {self._done_files:,}/{self._files:,} files, "
            f"{format_bytes(self._done_size)}/{format_bytes(self._size)}"
        )
        self._stream.flush()


def unwrapped(stream: TextIO) -> TextIO:
    """``stream``, writing text as given: a management command's OutputWrapper ends every write
    with a newline, which would put each redraw of a progress bar on a line of its own."""
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


@dataclass
class Console:
    """Where collectstatic's own messages go, at its verbosity."""

    stdout: OutputWrapper
    stderr: OutputWrapper
    verbosity: int

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def warn(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stderr.write(message)

    def progress(self, label: str) -> Callable[[int, int], Progress] | None:
        """Makes a progress bar on stderr for (files, bytes); None unless it is a terminal."""
        if self.verbosity < 1 or not self.stderr.isatty():
            return None
        stream = unwrapped(cast(TextIO, self.stderr))
        return lambda files, size: Progress(stream, files, size, label)


_console: ContextVar[Console | None] = ContextVar("assetpipe_console", default=None)


@contextmanager
def reporting_to(console: Console) -> Iterator[None]:
    """Builds started inside this block report to ``console``."""
    token = _console.set(console)
    try:
        yield
    finally:
        _console.reset(token)


def current_console() -> Console:
    """The console set by ``reporting_to``; outside it, the process's streams at verbosity 1."""
    console = _console.get()
    if console is not None:
        return console
    return Console(OutputWrapper(sys.stdout), OutputWrapper(sys.stderr), 1)
