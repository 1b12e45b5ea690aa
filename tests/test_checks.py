"""System checks (``manage.py check``) for the media storage's settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

MEDIA_IDS = {f"assetpipe.E00{n}" for n in (1, 2, 3)} | {f"assetpipe.W00{n}" for n in (1, 2)}


def configure(
    settings: Any, media: dict[str, Any] | None = None, static: dict[str, Any] | None = None
) -> None:
    staticfiles: dict[str, Any] = {"BACKEND": "assetpipe.storage.AssetPipeStorage"}
    if static is not None:
        staticfiles["OPTIONS"] = {"s3": static}
    default: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if media is not None:
        default = {
            "BACKEND": "assetpipe.media.TenantMediaStorage",
            "OPTIONS": {"bucket_name": "acme", "location": "media", "tenant": "acme", **media},
        }
    settings.STORAGES = {"default": default, "staticfiles": staticfiles}


def media_messages(tags: list[str] | None = None) -> list[tuple[str, str]]:
    return sorted((m.id, m.msg) for m in run_checks(tags=tags) if m.id in MEDIA_IDS)


def media_ids(tags: list[str] | None = None) -> list[str]:
    return [message_id for message_id, _ in media_messages(tags)]


def test_no_media_storage_no_messages(settings: Any) -> None:
    configure(settings, static={"bucket_name": "acme", "location": ""})

    assert media_ids() == []


def test_the_classic_setup_passes(settings: Any) -> None:
    configure(settings, media={}, static={"bucket_name": "acme", "location": "static"})

    assert media_ids() == []


@pytest.mark.parametrize(
    ("media", "static_location"),
    [
        ({}, ""),  # static publishing owns the whole bucket
        ({}, "media"),
        ({}, "/media/acme/"),
        ({}, "media/acme/static"),
        ({"location": ""}, "acme"),  # a tenant named like the static location
        ({"location": "", "tenant": "static"}, "static"),
        ({"location": "media/acme"}, "media"),
        ({"tenant": None, "tenant_resolver": "tests.media.tenants.current_tenant"}, "media/x"),
        (
            {
                "location": "",
                "tenant": None,
                "tenant_resolver": "tests.media.tenants.current_tenant",
            },
            "static",
        ),
    ],
)
def test_overlapping_prefixes_in_one_bucket_are_an_error(
    settings: Any, media: dict[str, Any], static_location: str
) -> None:
    configure(settings, media=media, static={"bucket_name": "acme", "location": static_location})

    [(message_id, message)] = media_messages()
    assert message_id == "assetpipe.E001"
    assert "s3://acme/" in message and "overlaps the static files" in message


@pytest.mark.parametrize(
    ("media", "static"),
    [
        ({}, {"bucket_name": "acme", "location": "static"}),
        ({}, {"bucket_name": "acme", "location": "media/globex"}),
        ({}, {"bucket_name": "acme", "location": "media/acme-static"}),
        ({}, {"bucket_name": "other", "location": ""}),
        ({"location": ""}, {"bucket_name": "acme", "location": "acmes"}),
    ],
)
def test_disjoint_prefixes_or_buckets_pass(
    settings: Any, media: dict[str, Any], static: dict[str, Any]
) -> None:
    configure(settings, media=media, static=static)

    assert media_ids() == []


def test_manage_py_check_fails_on_an_overlap(settings: Any) -> None:
    configure(settings, media={}, static={"bucket_name": "acme"})

    with pytest.raises(SystemCheckError, match=r"assetpipe\.E001"):
        call_command("check")


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ({"tenant": None}, "no tenant id"),
        ({"tenant": ""}, "no tenant id"),
        ({"tenant": "Acme Corp"}, "not a valid tenant id"),
        ({"tenant": "../globex"}, "not a valid tenant id"),
        ({"tenant_resolver": "tests.media.tenants.current_tenant"}, "not both"),
        ({"tenant": None, "tenant_resolver": "tests.media.nowhere.resolve"}, "cannot be imported"),
    ],
)
def test_missing_or_invalid_tenant_is_an_error(
    settings: Any, media: dict[str, Any], message: str
) -> None:
    configure(settings, media=media)

    [(message_id, text)] = media_messages()
    assert message_id == "assetpipe.E002"
    assert message in text


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ({"bucket_name": None}, "bucket_name"),
        ({"bucket": "typo"}, "Invalid setting 'bucket'"),
        ({"custom_domain": "media.example.com"}, "cloudfront_key_id"),
        ({"location": "media/../static"}, "location"),
    ],
)
def test_unusable_media_options_are_an_error(
    settings: Any, media: dict[str, Any], message: str
) -> None:
    configure(settings, media=media)

    [(message_id, text)] = media_messages()
    assert message_id == "assetpipe.E003"
    assert message in text


@pytest.mark.parametrize(
    "media",
    [
        {"default_acl": "public-read"},
        {"default_acl": "authenticated-read"},
        {"object_parameters": {"ACL": "public-read-write"}},
    ],
)
def test_public_media_objects_are_a_warning(settings: Any, media: dict[str, Any]) -> None:
    configure(settings, media=media)

    assert media_ids() == ["assetpipe.W001"]
    assert media_ids(tags=[Tags.security]) == ["assetpipe.W001"]


def test_a_private_acl_passes(settings: Any) -> None:
    configure(settings, media={"default_acl": "private"})

    assert media_ids() == []


def test_unsigned_media_urls_are_a_warning(settings: Any) -> None:
    configure(settings, media={"querystring_auth": False, "custom_domain": "media.example.com"})

    assert media_ids() == ["assetpipe.W002"]


def test_global_aws_settings_do_not_make_media_public(settings: Any) -> None:
    settings.AWS_DEFAULT_ACL = "public-read"
    settings.AWS_QUERYSTRING_AUTH = False
    configure(settings, media={})

    assert media_ids() == []
