"""The static storage's options as the subcommands need them: read through
:mod:`assetpipe.conf.storages`, a problem raised as the command's error."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from assetpipe.conf import storages
from assetpipe.conf.options import StorageOptions
from assetpipe.conf.s3 import SETTING, S3Config


def storage_options() -> StorageOptions:
    """The staticfiles storage's assetpipe options; CommandError names the first problem."""
    try:
        return storages.assetpipe_options()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc


def s3_config() -> S3Config:
    """The ``s3`` option; CommandError when there is none."""
    config = storage_options().s3
    if config is None:
        raise CommandError(f"{SETTING} is not set: there is no bucket to publish to")
    return config
