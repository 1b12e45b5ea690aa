"""What collectstatic prints: the summary line, grouped warnings, a progress line on a TTY only."""

from __future__ import annotations

import io

from django.core.management.base import OutputWrapper

from assetpipe.report import BuildReport, Console, format_bytes
from assetpipe.state import MissingReference


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_summary_line() -> None:
    report = BuildReport(
        files=1534, hashed=12, hashed_reused=1522, compressed=9, compressed_reused=3011,
        saved_bytes=14_200_000, seconds=1.94,
    )  # fmt: skip
    assert report.summary() == (
        "1534 files: 12 hashed (1522 reused), 9 compressed (3011 reused), saved 14.2 MB; 1.9 s"
    )


def test_format_bytes() -> None:
    assert format_bytes(999) == "999 B"
    assert format_bytes(1_500) == "1.5 kB"
    assert format_bytes(3_200_000_000) == "3.2 GB"


def test_warnings_are_grouped_and_limited() -> None:
    missing = [MissingReference("a.css", n, f"img/{n}.png", f"url({n}.png)") for n in range(30)]
    report = BuildReport(missing=missing, undecodable=["latin.css"], cycles=[("a.css", "b.css")])
    lines = report.warnings(limit=20)
    assert lines[0] == "30 references to missing files, left as written:"
    assert lines[1] == "  a.css:0: url(0.png) -> img/0.png (not found)"
    assert "  ... and 10 more (-v 2 shows all)" in lines
    assert "1 file not valid UTF-8, hashed as bytes with references not rewritten:" in lines
    assert "  a.css <-> b.css" in lines
    assert len(report.warnings(limit=None)) == len(lines) - 1 + 10


def test_progress_only_on_a_terminal() -> None:
    terminal = Terminal()
    show = Console(OutputWrapper(io.StringIO()), OutputWrapper(terminal), 1).progress()
    assert show is not None
    show(1, 2)
    show(2, 2)
    assert terminal.getvalue() == "\rcompressing 1/2\rcompressing 2/2\n"
    assert Console(OutputWrapper(io.StringIO()), OutputWrapper(io.StringIO()), 1).progress() is None
    assert Console(OutputWrapper(terminal), OutputWrapper(terminal), 0).progress() is None
