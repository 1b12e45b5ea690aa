"""The troubleshooting page's messages for static files that would reach another storage's
files in a shared bucket, produced by the code with the page's example settings."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from assetpipe import checks
from tests.docs.test_troubleshooting import as_shown, assert_on_page, check_output

# The page's example: django-storages' S3Storage keeps uploads under media/ in the bucket acme,
# and the s3 option publishes the static files to the bucket's root.
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "acme", "location": "media"},
    },
    "staticfiles": {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {"s3": {"bucket_name": "acme", "region_name": "eu-west-1"}},
    },
}


@pytest.fixture(autouse=True)
def shared_bucket(settings: Settings) -> None:
    settings.STORAGES = STORAGES
    settings.STATIC_ROOT = "/srv/app/static"


@pytest.mark.parametrize(
    "args",
    [["sync"], ["prune"], ["bucket-policy", "--public"], ["runner-policy", "--read-only"]],
)
def test_the_refusals(args: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("assetpipe", *args, stdout=io.StringIO())
    assert_on_page(as_shown(refused.value))


def test_the_system_check() -> None:
    [error] = checks.check_media_static_overlap()
    assert_on_page(check_output(error))
