"""``manage.py assetpipe iam-policy`` and ``manage.py assetpipe upload-media``."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from assetpipe.conf.storages import configured_options
from assetpipe.media.iam import tenant_policy
from assetpipe.media.storage import TenantMediaStorage
from assetpipe.media.upload import Action, UploadReport, upload_media


def media_storage(alias: str, tenant: str | None = None) -> TenantMediaStorage:
    """The TenantMediaStorage configured as ``STORAGES[alias]``, for ``tenant`` if given."""
    config = settings.STORAGES.get(alias)
    if config is None:
        raise CommandError(f"STORAGES has no {alias!r} storage.")
    backend = import_string(config["BACKEND"])
    if not (isinstance(backend, type) and issubclass(backend, TenantMediaStorage)):
        raise CommandError(
            f"STORAGES[{alias!r}] is {config['BACKEND']}, not assetpipe.media.TenantMediaStorage."
        )
    options = configured_options(config)
    if tenant is not None:
        options["tenant"] = tenant
        options.pop("tenant_resolver", None)
    try:
        storage: TenantMediaStorage = backend(**options)
    except ImproperlyConfigured as error:
        raise CommandError(f"STORAGES[{alias!r}]: {error}") from error
    return storage


def _add_storage_argument(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--storage",
        default="default",
        metavar="ALIAS",
        help="The STORAGES alias of the media storage (default: %(default)s).",
    )


class IamPolicy:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant id.")
        _add_storage_argument(parser)
        parser.add_argument(
            "--bucket",
            help="The media bucket, instead of the storage's bucket_name (no settings needed).",
        )
        parser.add_argument(
            "--location", default="", help="The base prefix, with --bucket (default: none)."
        )
        parser.add_argument(
            "--partition", default="aws", help="The AWS partition (default: %(default)s)."
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        if options["bucket"]:
            try:
                storage = TenantMediaStorage(
                    bucket_name=options["bucket"],
                    location=options["location"],
                    tenant=options["tenant"],
                )
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from error
        else:
            storage = media_storage(options["storage"], options["tenant"])
        try:
            policy = tenant_policy(
                storage.bucket_name, storage.tenant_prefix(), partition=options["partition"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        command.stdout.write(json.dumps(policy, indent=2))


class UploadMedia:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be uploaded; upload nothing."
        )
        parser.add_argument(
            "--tenant", help="The tenant id (default: the storage's tenant option)."
        )
        _add_storage_argument(parser)
        parser.add_argument(
            "--source", type=Path, help="The directory to upload (default: MEDIA_ROOT)."
        )
        parser.add_argument(
            "--jobs", type=int, default=8, help="Parallel uploads (default: %(default)s)."
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        root = options["source"] or (Path(settings.MEDIA_ROOT) if settings.MEDIA_ROOT else None)
        if root is None:
            raise CommandError("MEDIA_ROOT is not set; pass --source DIRECTORY.")
        if not root.is_dir():
            raise CommandError(f"{root} is not a directory.")
        if options["jobs"] < 1:
            raise CommandError("--jobs must be at least 1.")
        storage = media_storage(options["storage"], options["tenant"])
        if storage.tenant_resolver is not None:
            raise CommandError(
                f"STORAGES[{options['storage']!r}] resolves its tenant per request; pass --tenant."
            )
        try:
            report = upload_media(storage, root, dry_run=options["dry_run"], jobs=options["jobs"])
        except (ClientError, BotoCoreError) as error:
            # Listing the prefix failed; per-file failures are in the report instead.
            raise CommandError(
                f"Cannot list s3://{storage.bucket_name}/{storage.tenant_prefix()}: {error}"
            ) from error
        finally:
            # The storage is this command's own: its pool would stay open until the garbage
            # collector ran, in a process that calls the command again and again.
            storage.connection.meta.client.close()
        _print_report(command, report, verbosity=options["verbosity"])
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} file(s) are not in s3://{report.bucket}/{report.prefix} "
                "as they are on disk; see above. Nothing was replaced or deleted."
            )


def _print_report(command: BaseCommand, report: UploadReport, verbosity: int) -> None:
    upload_verb = "would upload" if report.dry_run else "uploaded"
    for outcome in report.outcomes:
        if outcome.action in (Action.CONFLICT, Action.REFUSED, Action.FAILED, Action.SKIPPED):
            command.stderr.write(f"{outcome.action.value}: {outcome.name}: {outcome.detail}")
        elif verbosity >= 2:
            verb = upload_verb if outcome.action is Action.UPLOAD else "already there"
            command.stdout.write(f"{verb}: {outcome.name}")
    uploads = report.of(Action.UPLOAD)
    skipped = report.of(Action.SKIPPED)
    command.stdout.write(
        f"{upload_verb.capitalize()} {len(uploads)} file(s) "
        f"({sum(outcome.size for outcome in uploads):,} bytes) "
        f"to s3://{report.bucket}/{report.prefix}; "
        f"{len(report.of(Action.SAME))} already there, "
        f"{len(report.of(Action.CONFLICT))} conflict(s), "
        f"{len(report.of(Action.REFUSED))} refused, "
        f"{len(report.of(Action.FAILED))} failed"
        # Only when there are any: the line stays as it was for trees without such links.
        + (f", {len(skipped)} link(s) skipped." if skipped else ".")
    )
