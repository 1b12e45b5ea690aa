"""``manage.py assetpipe edge``: write the edge code and policies for the configured CDN."""

from __future__ import annotations

import importlib
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from assetpipe.build.outputs import WriteError, write_atomic
from assetpipe.conf.kit import OPTIONS
from assetpipe.conf.storages import manifest_name
from assetpipe.edge import cloudfront
from assetpipe.edge.negotiation import Negotiation
from assetpipe.management.subcommands.settings import storage_options


class Edge:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--out",
            metavar="DIR",
            help="write the files into DIR (created if missing); without it, print them",
        )
        parser.add_argument(
            "--manifest",
            metavar="FILE",
            help="the build's staticfiles.json the CloudFront key value store is written from "
            "(the dictionaries option); default: the one in STATIC_ROOT",
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
            if storage.dictionaries is None:
                written: dict[str, str] = module.edge_files(negotiation, storage.cors)
            else:
                written = module.edge_files(negotiation, storage.cors, storage.dictionaries)
                if storage.cdn == "cloudfront":
                    written[cloudfront.KVS_FILE] = self._store(command, negotiation, options)
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

    def _store(
        self, command: BaseCommand, negotiation: Negotiation, options: dict[str, Any]
    ) -> str:
        """The key value store's content from the build's staticfiles.json."""
        if options["manifest"] is not None:
            path = Path(options["manifest"])
        elif settings.STATIC_ROOT:
            path = Path(settings.STATIC_ROOT) / negotiation.manifest_name
        else:
            raise CommandError("STATIC_ROOT is not set: name the build's manifest with --manifest")
        try:
            manifest = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"could not read {path} for the CloudFront key value store (run collectstatic "
                f"first, or name the build's staticfiles.json with --manifest): {exc}"
            ) from exc
        store, skipped = cloudfront.dictionary_store(negotiation, manifest)
        for name in skipped:
            command.stderr.write(
                f"assetpipe: {name} is left out of {cloudfront.KVS_FILE}: its key or entry is "
                "over the key value store's limits, so it is served without dictionaries"
            )
        return store
