"""``manage.py assetpipe bucket-policy``: the static prefix's read access, never media's."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from tests.edge.s3_cors import S3CorsFront
from tests.edge.test_s3_cors import request

DISTRIBUTION = "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"


def configure(
    settings: Settings, bucket: str, location: str = "static", media: dict[str, Any] | None = None
) -> None:
    storages: dict[str, Any] = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"s3": {"bucket_name": bucket, "location": location}},
        },
    }
    if media is not None:
        storages["default"] = {
            "BACKEND": "assetpipe.media.TenantMediaStorage",
            "OPTIONS": {"bucket_name": bucket, "location": "media", "tenant": "acme", **media},
        }
    settings.STORAGES = storages


def policy_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("assetpipe", "bucket-policy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_public_policy_reads_the_static_prefix_only(settings: Settings) -> None:
    configure(settings, "acme-static", media={})

    out, err = policy_command("--public")

    assert out == (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        "    {\n"
        '      "Sid": "AssetpipePublicStaticFiles",\n'
        '      "Effect": "Allow",\n'
        '      "Principal": "*",\n'
        '      "Action": "s3:GetObject",\n'
        '      "Resource": "arn:aws:s3:::acme-static/static/*"\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    assert "aws s3api put-bucket-policy --bucket acme-static --policy file://policy.json" in err
    assert "replaces the bucket's whole policy" in err
    assert "Block Public Access" in err
    assert "BlockPublicPolicy=false,RestrictPublicBuckets=false" in err


def test_cloudfront_policy_names_the_distribution(settings: Settings) -> None:
    configure(settings, "acme-static", location="assets/static")

    out, err = policy_command("--cloudfront", DISTRIBUTION)

    assert out == (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        "    {\n"
        '      "Sid": "AssetpipeCloudFrontStaticFiles",\n'
        '      "Effect": "Allow",\n'
        '      "Principal": {\n'
        '        "Service": "cloudfront.amazonaws.com"\n'
        "      },\n"
        '      "Action": "s3:GetObject",\n'
        '      "Resource": "arn:aws:s3:::acme-static/assets/static/*",\n'
        '      "Condition": {\n'
        '        "StringEquals": {\n'
        f'          "AWS:SourceArn": "{DISTRIBUTION}"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  ]\n"
        "}\n"
    )
    assert "aws s3api put-bucket-policy --bucket acme-static" in err
    assert "Block Public Access" not in err


@pytest.mark.parametrize(
    "arn",
    [
        "EDFDVBD6EXAMPLE",
        "arn:aws:cloudfront::11112222333:distribution/EDFDVBD6EXAMPLE",
        "arn:aws:cloudfront::111122223333:distribution/*",
        "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE/x",
        "arn:aws:cloudfront:us-east-1:111122223333:distribution/EDFDVBD6EXAMPLE",
        "arn:aws:s3:::acme-static",
    ],
)
def test_an_arn_that_is_not_a_distribution_s_is_refused(settings: Settings, arn: str) -> None:
    configure(settings, "acme-static")
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"is not a CloudFront distribution's ARN; expected"):
        call_command("assetpipe", "bucket-policy", "--cloudfront", arn, stdout=out)
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("location", "media", "why"),
    [
        # Static files own the whole bucket that media shares.
        ("", {}, r"publishes to s3://acme-static/, the whole bucket .*keeps files in"),
        # Media inside the static prefix.
        ("static", {"location": "static/uploads"}, r"inside the static prefix"),
        # The static prefix inside the media location (a tenant named "static").
        ("static", {"location": ""}, r"s3://acme-static/static/, inside s3://acme-static/, "),
        ("media/static", {}, r"s3://acme-static/media/static/, inside s3://acme-static/media/"),
    ],
)
@pytest.mark.parametrize("access", [["--public"], ["--cloudfront", DISTRIBUTION]])
def test_a_policy_that_would_reach_media_is_refused(
    settings: Settings, location: str, media: dict[str, Any], why: str, access: list[str]
) -> None:
    configure(settings, "acme-static", location=location, media=media)
    out = io.StringIO()

    with pytest.raises(CommandError, match=why) as refused:
        call_command("assetpipe", "bucket-policy", *access, stdout=out)
    assert str(refused.value).startswith(
        "refusing to print a bucket policy that lets others read s3://acme-static/"
    )
    assert 'STORAGES["default"] (assetpipe.media.TenantMediaStorage)' in str(refused.value)
    assert out.getvalue() == ""


@pytest.mark.parametrize("access", [["--public"], ["--cloudfront", DISTRIBUTION]])
def test_a_plain_s3_storage_for_uploads_is_media_too(settings: Settings, access: list[str]) -> None:
    """The reproduced case: django-storages' S3Storage on bucket acme, location media, and
    static files at acme's root; the policy would have opened arn:aws:s3:::acme/*."""
    configure(settings, "acme", location="")
    settings.STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "acme", "location": "media"},
    }
    out = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("assetpipe", "bucket-policy", *access, stdout=out)
    assert str(refused.value) == (
        "refusing to print a bucket policy that lets others read s3://acme/: "
        'STORAGES["staticfiles"] (assetpipe.storage.AssetPipeStorage) publishes to s3://acme/, '
        'the whole bucket (the "s3" option has no location), and STORAGES["default"] '
        "(storages.backends.s3.S3Storage) keeps files in s3://acme/media/. Give static files "
        'and media disjoint locations in the bucket (e.g. "static" and "media"), or separate '
        "buckets."
    )
    assert out.getvalue() == ""


def test_media_from_the_aws_settings_counts(settings: Settings) -> None:
    configure(settings, "acme", location="static")
    settings.AWS_STORAGE_BUCKET_NAME = "acme"
    settings.AWS_LOCATION = "static/uploads"
    settings.STORAGES["uploads"] = {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"}

    with pytest.raises(
        CommandError,
        match=r'STORAGES\["uploads"\] .* in s3://acme/static/uploads/, inside the static prefix',
    ):
        policy_command("--public")


def test_a_tenant_storage_without_its_tenant_still_counts(settings: Settings) -> None:
    """A static build often runs without the tenant (CUSTOMER unset): the media location holds
    every tenant's files whatever the tenant, so the overlap is still found."""
    configure(settings, "acme", location="media/static", media={"tenant": None})

    with pytest.raises(CommandError, match=r"s3://acme/media/static/, inside s3://acme/media/"):
        policy_command("--public")


def test_media_in_another_bucket_does_not_matter(settings: Settings) -> None:
    configure(settings, "acme-static", location="")
    settings.STORAGES["default"] = {
        "BACKEND": "assetpipe.media.TenantMediaStorage",
        "OPTIONS": {"bucket_name": "acme-media", "location": "", "tenant": "acme"},
    }

    out, _ = policy_command("--public")

    assert '"Resource": "arn:aws:s3:::acme-static/*"' in out


@pytest.mark.parametrize("args", [[], ["--public", "--cloudfront", DISTRIBUTION]])
def test_exactly_one_kind_of_access(settings: Settings, args: list[str]) -> None:
    configure(settings, "acme-static")

    with pytest.raises(CommandError, match="--public"):
        policy_command(*args)


def test_without_the_s3_option(settings: Settings) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage"},
    }

    with pytest.raises(CommandError, match=r'\["s3"\] is not set'):
        policy_command("--public")


# --- the printed policy, applied to a bucket -----------------------------------------------
# moto grants a bucket policy's statements whatever their Principal and Condition; SeaweedFS
# evaluates them (tests/edge/test_s3_servers.py applies the CloudFront policy there).


@pytest.fixture
def shared_bucket(make_bucket: Callable[[], str], s3_client: Any) -> str:
    """A bucket with static files under static/ and a tenant's media under media/."""
    bucket = make_bucket()
    s3_client.put_object(Bucket=bucket, Key="static/site.css", Body=b"body{}")
    s3_client.put_object(Bucket=bucket, Key="media/acme/invoice.pdf", Body=b"%PDF-1")
    return bucket


def anonymous_status(front: S3CorsFront, bucket: str, key: str) -> int:
    return request(front.url, "GET", f"/{bucket}/{key}", {"Origin": "https://shop.example"}).status


def test_the_public_policy_opens_static_files_and_not_media(
    settings: Settings, shared_bucket: str, s3_client: Any, s3_front: S3CorsFront
) -> None:
    configure(settings, shared_bucket, media={})
    assert anonymous_status(s3_front, shared_bucket, "static/site.css") == 403

    policy, _ = policy_command("--public")
    s3_client.put_bucket_policy(Bucket=shared_bucket, Policy=policy)

    assert anonymous_status(s3_front, shared_bucket, "static/site.css") == 200
    assert anonymous_status(s3_front, shared_bucket, "media/acme/invoice.pdf") == 403
