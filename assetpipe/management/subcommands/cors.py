"""``manage.py assetpipe cors`` and ``manage.py assetpipe bucket-policy``: what a browser on
another origin needs from the bucket (assetpipe.publish.cors_rule, assetpipe.publish.policies)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assetpipe.conf.kit import OPTIONS
from assetpipe.conf.s3 import PublishError, S3Config
from assetpipe.management.subcommands.settings import s3_config, storage_options
from assetpipe.publish.cors_rule import bucket_cors
from assetpipe.publish.overlap import refuse_media_overlap
from assetpipe.publish.policies import (
    PolicyError,
    cloudfront_read_policy,
    how_to_apply,
    public_read_policy,
    runner_policy,
)


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


class BucketPolicy:
    def add_arguments(self, parser: ArgumentParser) -> None:
        access = parser.add_mutually_exclusive_group(required=True)
        access.add_argument(
            "--public",
            action="store_true",
            help="Anyone may read the static prefix (browsers load the files from the bucket).",
        )
        access.add_argument(
            "--cloudfront",
            metavar="ARN",
            help="Only this CloudFront distribution may read the static prefix, through Origin "
            "Access Control; e.g. arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        config = s3_config()
        bucket, prefix = config.bucket_name, config.prefix
        _refuse_overlap(config, "print a bucket policy that lets others read")
        try:
            if options["cloudfront"] is not None:
                policy = cloudfront_read_policy(bucket, prefix, options["cloudfront"])
            else:
                policy = public_read_policy(bucket, prefix)
        except PolicyError as exc:
            raise CommandError(str(exc)) from exc
        command.stdout.write(json.dumps(policy, indent=2))
        for line in how_to_apply(bucket, public=options["public"]):
            command.stderr.write(line)


class RunnerPolicy:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="A runner that may only read (a pull request's build, with the s3 option "
            '"publish": False): list the static prefix and read its objects.',
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        config = s3_config()
        _refuse_overlap(config, "print a runner policy for")
        try:
            policy = runner_policy(
                config.bucket_name, config.prefix, read_only=options["read_only"]
            )
        except PolicyError as exc:
            raise CommandError(str(exc)) from exc
        command.stdout.write(json.dumps(policy, indent=2))


def _refuse_overlap(config: S3Config, action: str) -> None:
    """A policy for a static prefix that overlaps another storage's would open those files."""
    try:
        refuse_media_overlap(config.bucket_name, config.prefix, action)
    except PublishError as exc:
        raise CommandError(str(exc)) from exc
