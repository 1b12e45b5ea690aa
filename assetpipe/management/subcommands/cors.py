"""``manage.py assetpipe cors`` and ``manage.py assetpipe bucket-policy``: what a browser on
another origin needs from the bucket (assetpipe.edge.bucket, assetpipe.edge.access)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assetpipe.edge.bucket import bucket_cors
from assetpipe.edge.config import OPTIONS
from assetpipe.management.subcommands.publish import s3_config, storage_options
from assetpipe.publish.config import PublishError


class Cors:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Write the rule first in the bucket's CORS configuration, keeping its other "
            "rules in their order (needs s3:GetBucketCORS and s3:PutBucketCORS); nothing is "
            "written when the bucket has it already.",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        cors = storage_options().cors
        if cors is None:
            raise CommandError(
                f'{OPTIONS}["cors"] is not set: name the origins whose pages may read the '
                'static files, e.g. {"origins": ["https://www.example.com"]} or '
                '{"origins": ["*"]}'
            )
        config = s3_config()
        try:
            report = bucket_cors(config, cors, apply=options["apply"])
        except PublishError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"]:
            for line in report.lines():
                command.stdout.write(line)
        if not report.current:
            raise SystemExit(1)
