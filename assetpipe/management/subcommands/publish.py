"""``manage.py assetpipe sync|prune|status|rollback``: publishing as separate deploy steps."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assetpipe.conf import storages
from assetpipe.conf.s3 import PublishError
from assetpipe.edge.negotiation import Negotiation
from assetpipe.management.subcommands.settings import s3_config, storage_options
from assetpipe.publish.overlap import refuse_media_overlap
from assetpipe.publish.prune import prune
from assetpipe.publish.rollback import rollback
from assetpipe.publish.s3 import publish
from assetpipe.publish.status import status


class Sync:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be uploaded and why; send no writes.",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="List the bucket and repair what is missing, even when the build is the one "
            "the last publish made live.",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        config = s3_config()
        with _user_errors():
            refuse_media_overlap(config.bucket_name, config.prefix, "publish to")
            result = publish(
                _static_root(),
                storages.manifest_name(),
                config,
                dry_run=options["dry_run"],
                verify=options["verify"],
                state_dir=storages.static_state_dir(),
                stdout=_stdout(command, options),
                negotiation=Negotiation.for_options(storage_options(), storages.manifest_name()),
            )
        if options["verbosity"]:
            command.stdout.write(result.summary())


class Prune:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--keep",
            type=int,
            default=3,
            metavar="N",
            help="Keep everything the newest N manifests reference (default: 3).",
        )
        parser.add_argument(
            "--min-age",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="Keep unreferenced objects younger than this (default: 3600).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--keep-build",
            action="append",
            default=[],
            metavar="DIGEST",
            help="Also keep this build (its id, as status shows), e.g. one that app servers "
            "still running are pinned to; repeatable.",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        config = s3_config()
        with _user_errors():
            refuse_media_overlap(config.bucket_name, config.prefix, "prune")
            result = prune(
                config,
                keep=options["keep"],
                min_age=options["min_age"],
                keep_builds=options["keep_build"],
                manifest_name=storages.manifest_name(),
                dry_run=options["dry_run"],
                stdout=_stdout(command, options),
            )
        if options["verbosity"]:
            command.stdout.write(result.summary())


class Status:
    def add_arguments(self, parser: ArgumentParser) -> None:
        pass

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        storage = storage_options()
        with _user_errors():
            report = status(
                _static_root(),
                storages.manifest_name(),
                s3_config(),
                cors=storage.cors,
                negotiation=Negotiation.for_options(storage, storages.manifest_name()),
            )
        if options["verbosity"]:
            for line in report.lines():
                command.stdout.write(line)
        if not report.in_sync:
            raise SystemExit(1)


def _static_root() -> Path:
    if not settings.STATIC_ROOT:
        raise CommandError("STATIC_ROOT is not set: there is no build to publish")
    return Path(settings.STATIC_ROOT)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except PublishError as exc:
        raise CommandError(str(exc)) from exc


def _stdout(command: BaseCommand, options: dict[str, Any]) -> TextIO | None:
    # OutputWrapper is a text stream; publish() writes through it as it is.
    return cast(TextIO, command.stdout) if options["verbosity"] else None


class Rollback:
    def add_arguments(self, parser: ArgumentParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--to", metavar="DIGEST", help="The build to make live (its id, as status shows)."
        )
        target.add_argument(
            "--previous",
            action="store_true",
            help="The build that was live before the live one.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and print the plan; change nothing."
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        with _user_errors():
            result = rollback(
                s3_config(),
                to=options["to"],
                manifest_name=storages.manifest_name(),
                dry_run=options["dry_run"],
                stdout=_stdout(command, options),
            )
        if options["verbosity"]:
            command.stdout.write(result.summary())
