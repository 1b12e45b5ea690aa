"""System checks (``manage.py check``) for the static and media storages' settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.checks import CheckMessage, Tags, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from storages.backends.s3 import S3Storage

from assetpipe.checks import TAG
from assetpipe.conf.options import SETTING
from assetpipe.storage import AssetPipeStorage
from tests.conf.test_options import RETIRED


class UploadsStorage(S3Storage):  # type: ignore[misc]
    location = "uploads"


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
        # The media location's every tenant counts, not only this deploy's: other deploys
        # keep theirs beside it.
        ({}, "media/globex"),
        ({}, "media/acme-static"),
        ({"location": ""}, "acmes"),
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
    assert 'STORAGES["staticfiles"] (assetpipe.storage.AssetPipeStorage) publishes' in message
    assert 'STORAGES["default"] (assetpipe.media.TenantMediaStorage) keeps files in' in message
    assert "pruning static files would delete those files" in message


@pytest.mark.parametrize(
    ("media", "static"),
    [
        ({}, {"bucket_name": "acme", "location": "static"}),
        ({}, {"bucket_name": "acme", "location": "medias"}),
        ({}, {"bucket_name": "acme", "location": "media-static"}),
        ({}, {"bucket_name": "other", "location": ""}),
    ],
)
def test_disjoint_prefixes_or_buckets_pass(
    settings: Any, media: dict[str, Any], static: dict[str, Any]
) -> None:
    configure(settings, media=media, static=static)

    assert media_ids() == []


S3_STORAGE = "storages.backends.s3.S3Storage"


@pytest.mark.parametrize(
    ("backend", "options", "aws", "static_location", "media_url"),
    [
        # The reproduced case: a plain S3Storage for uploads, static files at the root.
        (S3_STORAGE, {"bucket_name": "acme", "location": "media"}, {}, "", "s3://acme/media/"),
        (S3_STORAGE, {"bucket_name": "acme"}, {}, "static", "s3://acme/"),
        # Read as django-storages reads them: from the AWS_* settings it falls back to.
        (
            S3_STORAGE,
            {},
            {"AWS_STORAGE_BUCKET_NAME": "acme", "AWS_LOCATION": "static/u"},
            "static",
            "s3://acme/static/u/",
        ),
        (
            "storages.backends.s3boto3.S3Boto3Storage",
            {"bucket_name": "acme", "location": "media"},
            {},
            "media",
            "s3://acme/media/",
        ),
        # A subclass whose location is a class attribute.
        (
            "tests.test_checks.UploadsStorage",
            {"bucket_name": "acme"},
            {},
            "uploads/static",
            "s3://acme/uploads/",
        ),
    ],
)
def test_any_s3_storage_under_any_alias_counts(
    settings: Any,
    backend: str,
    options: dict[str, Any],
    aws: dict[str, str],
    static_location: str,
    media_url: str,
) -> None:
    configure(settings, static={"bucket_name": "acme", "location": static_location})
    for name, value in aws.items():
        setattr(settings, name, value)
    settings.STORAGES["uploads"] = {"BACKEND": backend, "OPTIONS": options}

    [error] = [m for m in run_checks() if m.id == "assetpipe.E001"]

    assert error.obj == 'STORAGES["uploads"]'
    assert f'STORAGES["uploads"] ({backend}) keeps files in {media_url}' in error.msg
    assert "s3://acme/" in error.msg


def test_s3_storages_elsewhere_pass(settings: Any) -> None:
    configure(settings, static={"bucket_name": "acme", "location": "static"})
    settings.STORAGES["uploads"] = {
        "BACKEND": S3_STORAGE,
        "OPTIONS": {"bucket_name": "acme", "location": "media"},
    }
    settings.STORAGES["archive"] = {"BACKEND": S3_STORAGE, "OPTIONS": {"bucket_name": "other"}}

    assert [m for m in run_checks() if m.id == "assetpipe.E001"] == []


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


# -- the static storage's options ------------------------------------------------------------


class ProjectStorage(AssetPipeStorage):
    """A project's own subclass, checked like AssetPipeStorage itself."""


def configure_static(
    settings: Any, options: object, backend: str = "assetpipe.storage.AssetPipeStorage"
) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": options},
    }


def static_messages(message_id: str, tags: list[str] | None = None) -> list[CheckMessage]:
    return [m for m in run_checks(tags=tags) if m.id == message_id]


@pytest.mark.parametrize(
    "backend", ["assetpipe.storage.AssetPipeStorage", f"{__name__}.ProjectStorage"]
)
def test_each_invalid_option_is_an_error(settings: Any, backend: str) -> None:
    configure_static(settings, {"encoding": ["br"], "workers": "4", "strict": True}, backend)

    messages = static_messages("assetpipe.E004")
    assert [m.obj for m in messages] == ['STORAGES["staticfiles"]'] * 3
    unknown, workers, strict = (m.msg for m in messages)
    assert f'{SETTING}["encoding"] is not an option (did you mean "encodings"?)' in unknown
    assert f"{SETTING}[\"workers\"] is '4' (str); expected None" in workers
    assert f'{SETTING}["strict"] was renamed to "missing_references"' in strict


@pytest.mark.parametrize(
    ("options", "named", "instead"),
    RETIRED,
    ids=[message.split(" was ")[0].removeprefix(SETTING) for _, message, _ in RETIRED],
)
def test_a_retired_option_is_an_error_naming_its_replacement(
    settings: Any, options: dict[str, Any], named: str, instead: str
) -> None:
    configure_static(settings, options)

    [message] = static_messages("assetpipe.E004")
    assert message.msg.startswith(f"assetpipe: {named}")
    assert instead in message.msg


def test_invalid_options_fail_manage_py_check(settings: Any) -> None:
    configure_static(settings, {"encodings": "br"})

    with pytest.raises(SystemCheckError, match=r"assetpipe\.E004.*\[.encodings.\] is 'br'"):
        call_command("check")


@pytest.mark.parametrize("tags", [[TAG], [Tags.staticfiles]])
def test_option_checks_run_with_assetpipe_and_staticfiles_tags(
    settings: Any, tags: list[str]
) -> None:
    configure_static(settings, {"workers": 0})

    assert len(static_messages("assetpipe.E004", tags)) == 1


def test_valid_options_pass(settings: Any, tmp_path: Path) -> None:
    configure_static(
        settings,
        {
            "encodings": ["br"],
            "missing_references": "fail",
            "workers": 2,
            "state_dir": str(tmp_path / "state"),
            "location": str(tmp_path / "static"),
            "s3": {"bucket_name": "acme", "location": "static"},
        },
    )

    assert static_messages("assetpipe.E004") == []


def test_other_backends_options_are_not_checked(settings: Any) -> None:
    configure_static(
        settings,
        {"encoding": ["br"]},
        backend="django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    )

    assert static_messages("assetpipe.E004") == []
    assert static_messages("assetpipe.W003") == []


def test_options_that_are_not_a_dict(settings: Any) -> None:
    configure_static(settings, ["strict"])

    [message] = static_messages("assetpipe.E004")
    assert message.msg == f"assetpipe: {SETTING} is ['strict'] (list); expected a dict."


@pytest.mark.parametrize("inside", ["", "state", ".assetpipe"])
def test_state_dir_inside_static_root_is_an_error(
    settings: Any, tmp_path: Path, inside: str
) -> None:
    root = tmp_path / "static"
    settings.STATIC_ROOT = str(root)
    configure_static(settings, {"state_dir": str(root / inside)})

    [message] = static_messages("assetpipe.E004")
    assert f"is inside STATIC_ROOT {root}, where it would be served" in message.msg


def test_state_dir_inside_the_location_option_is_an_error(settings: Any, tmp_path: Path) -> None:
    configure_static(
        settings, {"location": str(tmp_path / "public"), "state_dir": str(tmp_path / "public/x")}
    )

    assert len(static_messages("assetpipe.E004")) == 1


INSTALLED_FIRST = [
    "assetpipe",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
]


def test_assetpipe_listed_after_staticfiles_is_a_warning(settings: Any) -> None:
    settings.INSTALLED_APPS = [*INSTALLED_FIRST[1:], "assetpipe"]
    configure_static(settings, {})

    [message] = static_messages("assetpipe.W003", [Tags.staticfiles])
    assert message.obj == "INSTALLED_APPS"
    assert 'List "assetpipe" before "django.contrib.staticfiles"' in str(message.hint)


@pytest.mark.parametrize(
    "installed",
    [
        INSTALLED_FIRST,
        ["assetpipe.apps.AssetPipeConfig", *INSTALLED_FIRST[1:]],
        [app for app in INSTALLED_FIRST if app != "django.contrib.staticfiles"],
    ],
)
def test_assetpipe_listed_first_passes(settings: Any, installed: list[str]) -> None:
    settings.INSTALLED_APPS = installed
    configure_static(settings, {})

    assert static_messages("assetpipe.W003") == []


# -- static files on another origin ----------------------------------------------------------

WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"
SERVESTATIC = "servestatic.middleware.ServeStaticMiddleware"
BUCKET_URL = "https://acme-static.s3.amazonaws.com/static/"


@pytest.mark.parametrize(
    "static_url",
    [BUCKET_URL, "http://cdn.example:8080/static/", "//cdn.example/static/"],
)
def test_static_url_on_another_origin_without_cors_is_a_warning(
    settings: Any, static_url: str
) -> None:
    settings.STATIC_URL = static_url
    configure_static(settings, {"integrity": True})

    [message] = static_messages("assetpipe.W004", [TAG])
    assert message.obj == 'STORAGES["staticfiles"]'
    assert f"STATIC_URL {static_url!r} is on another origin than the pages" in message.msg
    assert "its web fonts and every stylesheet, script and module" in message.msg
    assert f'Set {SETTING}["cors"], e.g. {{"origins": ["https://www.example.com"]}}' in str(
        message.hint
    )
    assert "`manage.py assetpipe cors --apply`" in str(message.hint)


def test_without_integrity_the_warning_names_fonts_first(settings: Any) -> None:
    settings.STATIC_URL = BUCKET_URL
    configure_static(settings, {})

    [message] = static_messages("assetpipe.W004", [Tags.staticfiles])
    assert 'browsers refuse its web fonts, and every tag with crossorigin="anonymous"' in (
        message.msg
    )


@pytest.mark.parametrize(
    ("static_url", "options", "middleware"),
    [
        ("/static/", {}, []),
        ("static/", {}, []),
        (BUCKET_URL, {"cors": {"origins": ["*"]}}, []),
        ("https://cdn.example/static/", {"cors": {"origins": ["https://www.example"]}}, []),
        # WhiteNoise or ServeStatic behind a CDN: their "Access-Control-Allow-Origin: *" passes.
        ("https://d111111abcdef8.cloudfront.net/static/", {}, [WHITENOISE]),
        ("//cdn.example/static/", {}, [SERVESTATIC]),
    ],
)
def test_same_origin_cors_or_a_middleware_that_allows_any_origin_passes(
    settings: Any, static_url: str, options: dict[str, Any], middleware: list[str]
) -> None:
    settings.STATIC_URL = static_url
    settings.MIDDLEWARE = middleware
    configure_static(settings, options)

    assert static_messages("assetpipe.W004") == []


@pytest.mark.parametrize(
    ("static_url", "s3", "extra"),
    [
        # The bucket's own host: the files never pass through the middleware.
        (BUCKET_URL, {}, {}),
        ("http://127.0.0.1:9000/acme/static/", {"endpoint_url": "http://127.0.0.1:9000"}, {}),
        # The middleware is told not to send the header.
        ("https://cdn.example/static/", {}, {"WHITENOISE_ALLOW_ALL_ORIGINS": False}),
    ],
)
def test_whitenoise_does_not_cover_the_bucket_or_a_header_it_does_not_send(
    settings: Any, static_url: str, s3: dict[str, Any], extra: dict[str, Any]
) -> None:
    settings.STATIC_URL = static_url
    settings.MIDDLEWARE = [WHITENOISE]
    for name, value in extra.items():
        setattr(settings, name, value)
    configure_static(settings, {"s3": {"bucket_name": "acme", "location": "static", **s3}})

    assert len(static_messages("assetpipe.W004")) == 1


def test_other_backends_get_no_cross_origin_warning(settings: Any) -> None:
    settings.STATIC_URL = BUCKET_URL
    configure_static(
        settings, {}, backend="django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    )

    assert static_messages("assetpipe.W004") == []
