"""``manage.py assetpipe edge``: write the edge code and policies for the configured CDN."""

from __future__ import annotations

import importlib
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from assetpipe.build.outputs import WriteError, write_atomic
from assetpipe.conf.kit import OPTIONS
from assetpipe.conf.storages import manifest_name
from assetpipe.edge.negotiation import Negotiation
from assetpipe.management.subcommands.settings import storage_options


class Edge:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--out",
            metavar="DIR",
            help="write the files into DIR (created if missing); without it, print them",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        storage = storage_options()
        if storage.cdn is None:
            raise CommandError(f'{OPTIONS}["cdn"] is not set: name the CDN, e.g. "cloudfront"')
        negotiation = Negotiation.for_options(storage, manifest_name())
        if negotiation is None:
            raise CommandError(f'{OPTIONS}["cdn"] needs the "s3" option: the CDN serves it')
        module = importlib.import_module(f"assetpipe.edge.{storage.cdn}")
        try:
            written: dict[str, str] = module.edge_files(negotiation, storage.cors)
        except ImproperlyConfigured as exc:  # settings the CDN cannot state
            raise CommandError(str(exc)) from exc
        if options["out"] is None:
            for name, text in written.items():
                command.stdout.write(f"==> {name} <==\n{text}", ending="")
            return
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in written.items():
                write_atomic(out / name, text.encode())
        except (OSError, WriteError) as exc:
            raise CommandError(f"could not write the edge files into {out}: {exc}") from exc
        if options["verbosity"]:
            for name in written:
                command.stdout.write(f"wrote {out / name}")
