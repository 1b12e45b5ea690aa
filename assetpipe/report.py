"""What ``collectstatic`` prints about assetpipe's work: one summary, grouped warnings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from assetpipe.state import MissingReference

# At verbosity 1 each warning group shows this many lines; -v2 shows all.
WARNING_LINES = 20


@dataclass
class BuildReport:
    files: int = 0
    hashed: int = 0
    hashed_reused: int = 0
    compressed: int = 0
    compressed_reused: int = 0
    saved_bytes: int = 0
    seconds: float = 0.0
    missing: list[MissingReference] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)
    cycles: list[tuple[str, ...]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.files} files: {self.hashed} hashed ({self.hashed_reused} reused), "
            f"{self.compressed} compressed ({self.compressed_reused} reused), "
            f"saved {format_bytes(self.saved_bytes)}; {self.seconds:.1f} s"
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


@dataclass
class Console:
    """Where collectstatic's own messages go, at its verbosity."""

    stdout: Any
    stderr: Any
    verbosity: int

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def warn(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stderr.write(message)

    def progress(self) -> Callable[[int, int], None] | None:
        stream: TextIO | None = getattr(self.stderr, "_out", None)
        if self.verbosity < 1 or stream is None or not stream.isatty():
            return None

        def show(done: int, total: int) -> None:
            end = "\n" if done == total else ""
            stream.write(f"\rcompressing {done}/{total}{end}")
            stream.flush()

        return show


def running_collectstatic() -> Any:
    """The collectstatic command this code runs under, if any.

    collectstatic passes neither its options nor its output streams to the storage; the
    command object is the caller a few frames up.
    """
    from django.contrib.staticfiles.management.commands.collectstatic import Command

    frame = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        # type(), not isinstance(): a lazy object's __class__ would instantiate it.
        if issubclass(type(candidate), Command):
            return candidate
        frame = frame.f_back  # type: ignore[assignment]
    return None


def collectstatic_console() -> Console:
    """collectstatic's output streams and verbosity; outside it, the process's streams."""
    command = running_collectstatic()
    if command is not None:
        return Console(command.stdout, command.stderr, int(command.verbosity))
    return Console(_Writer(sys.stdout), _Writer(sys.stderr), 1)


class _Writer:
    """Line-oriented writes, like Django's OutputWrapper."""

    def __init__(self, stream: TextIO) -> None:
        self._out = stream

    def write(self, message: str) -> None:
        self._out.write(message if message.endswith("\n") else message + "\n")
