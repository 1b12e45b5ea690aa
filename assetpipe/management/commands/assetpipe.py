"""``manage.py assetpipe <subcommand>``: one entry point for assetpipe's operations.

Each subcommand lives with the concern it belongs to. Its help lives in the table below, so
that the parser can list every subcommand while importing only the module of the one named on
the command line: ``nginx`` never imports boto3.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.checks import Tags
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandParser

from assetpipe.checks import TAG
from assetpipe.extras import require
from assetpipe.management.subcommand import Subcommand


@dataclass(frozen=True)
class Entry:
    target: str  # "module:Class" implementing Subcommand
    help: str  # one line in `manage.py assetpipe --help`
    description: str  # the head of `manage.py assetpipe <name> --help`
    extra: str | None = None  # the optional extra its module needs (assetpipe.extras)


SUBCOMMANDS: dict[str, Entry] = {
    "sync": Entry(
        "assetpipe.management.subcommands.publish:Sync",
        "Publish the built STATIC_ROOT to S3.",
        "Publish the built STATIC_ROOT to S3: upload what the bucket lacks, manifest last.",
        "s3",
    ),
    "prune": Entry(
        "assetpipe.management.subcommands.publish:Prune",
        "Delete hashed objects no recent manifest references.",
        "Delete hashed objects that none of the newest manifests references and that are "
        "older than a grace period.",
        "s3",
    ),
    "status": Entry(
        "assetpipe.management.subcommands.publish:Status",
        "Compare the built STATIC_ROOT with the bucket.",
        "Compare the built STATIC_ROOT with the bucket: files and bytes on each side, the "
        "remote manifest's age, what sync would upload and, with the cors option, whether the "
        "bucket's CORS rule is current. Exits with status 1 when they differ, so it can gate a "
        "deploy.",
        "s3",
    ),
    "rollback": Entry(
        "assetpipe.management.subcommands.publish:Rollback",
        "Make an earlier build the live manifest again.",
        "Make an earlier build the live manifest again, after checking that every object it "
        "references is still in the bucket; recorded in the history like a publish.",
        "s3",
    ),
    "nginx": Entry(
        "assetpipe.management.subcommands.serve:Nginx",
        "Print nginx configuration that serves STATIC_ROOT.",
        "Print nginx configuration that serves STATIC_ROOT with its precompressed variants: "
        "location blocks to include in a server {} block, or with --server a complete server "
        "block.",
    ),
    "cors": Entry(
        "assetpipe.management.subcommands.cors:Cors",
        "Show or apply the bucket's CORS rule for static files.",
        'Show the CORS rule that static files need on the bucket (from the "cors" option) and '
        "how the bucket's rules differ, exiting with status 1 when the bucket lacks it; with "
        "--apply, write it first, keeping the bucket's other rules in their order.",
        "s3",
    ),
    "bucket-policy": Entry(
        "assetpipe.management.subcommands.cors:BucketPolicy",
        "Print the bucket policy that lets browsers or a CDN read the static prefix.",
        "Print the bucket policy for the chosen read access: --public (anyone may read the "
        "static prefix, never media) or --cloudfront ARN (only that distribution, through "
        "Origin Access Control). It is printed, not applied: stderr says how to apply it.",
        "s3",
    ),
    "runner-policy": Entry(
        "assetpipe.management.subcommands.cors:RunnerPolicy",
        "Print the IAM policy of a runner that builds: deploying, or --read-only.",
        "Print the IAM identity policy of a runner that builds against the bucket: the "
        "deploying one (list, read, upload, delete under the static prefix; the bucket's CORS "
        "configuration) or, with --read-only, one that may only list and read the static "
        'prefix (a pull request\'s build, with the s3 option "publish": False).',
        "s3",
    ),
    "edge": Entry(
        "assetpipe.management.subcommands.edge:Edge",
        "Write the edge code and policies for the configured CDN.",
        "Write the edge code that serves the .br/.gz variants through the configured CDN "
        "(a CloudFront Function with its cache and response-headers policies, or a "
        "Cloudflare Worker), generated from the build's settings.",
        "s3",
    ),
    "iam-policy": Entry(
        "assetpipe.management.subcommands.media:IamPolicy",
        "Print the IAM policy for a tenant's media prefix.",
        "Print the IAM policy that limits a tenant's credentials to its media prefix.",
        "media",
    ),
    "upload-media": Entry(
        "assetpipe.management.subcommands.media:UploadMedia",
        "Copy a local MEDIA_ROOT into the tenant's media prefix.",
        "Copy a local MEDIA_ROOT into the tenant's media prefix: uploads what is missing, "
        "skips identical objects, never replaces or deletes anything.",
        "media",
    ),
}


def load(name: str) -> Subcommand:
    """The subcommand, imported; ImproperlyConfigured naming the extra its module needs."""
    entry = SUBCOMMANDS[name]
    if entry.extra is not None:
        require(entry.extra)
    module_name, _, class_name = entry.target.partition(":")
    cls: type[Subcommand] = getattr(importlib.import_module(module_name), class_name)
    return cls()


if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[CommandParser]
else:
    _SubParsersAction = argparse._SubParsersAction


class _Subcommands(_SubParsersAction):
    """Gives the chosen subparser its subcommand's arguments just before it parses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loaded: set[str] = set()

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        assert isinstance(values, list)  # nargs=PARSER: the name, then its arguments
        name = values[0]
        subparser = self._name_parser_map.get(name)
        if subparser is not None and name not in self.loaded:
            try:
                subcommand = load(name)
            except ImproperlyConfigured as exc:
                subparser.error(str(exc))
            subcommand.add_arguments(subparser)
            self.loaded.add(name)
        super().__call__(parser, namespace, values, option_string)


# Django's options for every command (BaseCommand.create_parser), accepted after the subcommand
# too: `manage.py assetpipe upload-media -v 2`.
COMMON_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("-v", "--verbosity"),
        {
            "type": int,
            "choices": [0, 1, 2, 3],
            "help": "Verbosity level; 0=minimal output, 1=normal output, 2=verbose output, "
            "3=very verbose output.",
        },
    ),
    (("--settings",), {"help": "The Python path to a settings module."}),
    (("--pythonpath",), {"help": "A directory to add to the Python path."}),
    (("--traceback",), {"action": "store_true", "help": "Display a full stack trace."}),
    (("--no-color",), {"action": "store_true", "help": "Don't colorize the command output."}),
    (("--force-color",), {"action": "store_true", "help": "Force colorized output."}),
    (("--skip-checks",), {"action": "store_true", "help": "Skip system checks."}),
)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a value is set only when given after the subcommand, so a value given before
    # it is not overridden by a default.
    for flags, settings in COMMON_OPTIONS:
        parser.add_argument(*flags, default=argparse.SUPPRESS, **settings)


class Command(BaseCommand):
    help = "assetpipe operations: " + ", ".join(SUBCOMMANDS)
    # As collectstatic: an unrelated app's check error must not block a deploy step.
    requires_system_checks = (Tags.staticfiles, TAG)

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, action=_Subcommands)
        for name, entry in SUBCOMMANDS.items():
            subparser = subparsers.add_parser(name, help=entry.help, description=entry.description)
            add_common_options(subparser)

    def handle(self, *args: Any, **options: Any) -> None:
        load(options["subcommand"]).handle(self, options)
