"""The small interface every ``manage.py assetpipe`` subcommand implements."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any, Protocol

from django.core.management.base import BaseCommand


class Subcommand(Protocol):
    """A subcommand's arguments and work; its help is in the command's table of subcommands."""

    def add_arguments(self, parser: ArgumentParser) -> None: ...

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        """Do the work, writing to ``command.stdout``/``command.stderr``.

        Raise ``CommandError`` for failures the user can act on; a non-zero exit without an
        error message is ``raise SystemExit(1)``.
        """
