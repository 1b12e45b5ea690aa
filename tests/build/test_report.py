"""What collectstatic prints: the summary line, grouped warnings, a progress line on a TTY only."""

from __future__ import annotations

import io

import pytest
from django.core.management.base import OutputWrapper

from assetpipe.build.compress import CompressStats
from assetpipe.build.hashing import HashResult
from assetpipe.build.report import BuildReport, Console, current_console, format_bytes, reporting_to
from assetpipe.build.state import MissingReference


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_summary_line() -> None:
    report = BuildReport(
        files=1534, hashed=12, hashed_reused=1522, compressed=9, compressed_reused=3011,
        saved_bytes=14_200_000, seconds=1.94,
    )  # fmt: skip
    assert report.summary() == (
        "1534 files: 12 hashed (1522 reused), 9 files compressed (3011 reused), "
        "saved 14.2 MB; 1.9 s"
    )


def test_report_from_the_steps_results() -> None:
    missing = [MissingReference("a.css", 1, "x.png", "url(x.png)")]
    hashed = HashResult(rewritten=2, copied=3, missing=missing, undecodable={"z.css": _bad_utf8()})
    compressed = CompressStats(
        encoded=1, compressed=4, reused=6, original_bytes=1000, smallest_bytes=300
    )
    report = BuildReport.from_steps(20, hashed, compressed)
    assert (report.files, report.hashed, report.hashed_reused) == (20, 5, 15)
    assert (report.compressed, report.compressed_reused, report.saved_bytes) == (4, 6, 700)
    assert report.missing == missing and report.undecodable == ["z.css"]


def _bad_utf8() -> UnicodeDecodeError:
    try:
        b"\xff".decode()
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("decoded")


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
    make = Console(OutputWrapper(io.StringIO()), OutputWrapper(terminal), 1).progress("compressing")
    assert make is not None
    progress = make(2, 2000)
    progress.advance(1000)
    progress.advance(1000)
    progress.close()
    # Redrawn in place (no newline between draws), one newline at the end.
    assert terminal.getvalue() == (
        "\rcompressing [###############...............] 1/2 files, 1.0 kB/2.0 kB"
        "\rcompressing [##############################] 2/2 files, 2.0 kB/2.0 kB\n"
    )
    quiet = Console(OutputWrapper(io.StringIO()), OutputWrapper(io.StringIO()), 1)
    assert quiet.progress("compressing") is None
    assert Console(OutputWrapper(terminal), OutputWrapper(terminal), 0).progress("x") is None


def test_console_is_the_commands_inside_reporting_to(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(OutputWrapper(io.StringIO()), OutputWrapper(io.StringIO()), 2)
    with reporting_to(console):
        assert current_console() is console
    # Outside: the process's streams, at verbosity 1.
    outside = current_console()
    outside.info("to stdout")
    outside.warn("to stderr")
    assert outside.verbosity == 1
    assert capsys.readouterr() == ("to stdout\n", "to stderr\n")
