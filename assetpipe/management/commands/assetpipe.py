"""``manage.py assetpipe <subcommand>``: one entry point for assetpipe's operations.

Each subcommand lives with the concern it belongs to and is imported only when used, so a
project that never publishes to S3 never imports boto3 here.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assetpipe.subcommand import Subcommand

SUBCOMMANDS: dict[str, str] = {
    "sync": "assetpipe.publish.cli:Sync",
    "prune": "assetpipe.publish.cli:Prune",
    "status": "assetpipe.publish.cli:Status",
    "rollback": "assetpipe.publish.cli:Rollback",
    "nginx": "assetpipe.serve.cli:Nginx",
    "iam-policy": "assetpipe.media.cli:IamPolicy",
    "upload-media": "assetpipe.media.cli:UploadMedia",
}


def load(name: str) -> Subcommand:
    module_name, _, class_name = SUBCOMMANDS[name].partition(":")
    cls: type[Subcommand] = getattr(importlib.import_module(module_name), class_name)
    return cls()


class Command(BaseCommand):
    help = "assetpipe operations: " + ", ".join(SUBCOMMANDS)

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True)
        for name in SUBCOMMANDS:
            subcommand = load(name)
            subparser = subparsers.add_parser(name, help=subcommand.help)
            subcommand.add_arguments(subparser)

    def handle(self, *args: Any, **options: Any) -> None:
        load(options["subcommand"]).handle(self, options)
