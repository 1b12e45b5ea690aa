"""Django system checks for assetpipe's settings (``manage.py check``).

=================  =======  ===========================================================
id                 level    problem
=================  =======  ===========================================================
assetpipe.E001     error    static publishing and a media storage share a bucket and
                            their key prefixes overlap
assetpipe.E002     error    a media storage's tenant is missing or invalid
assetpipe.E003     error    a media storage cannot be created from its OPTIONS
assetpipe.W001     warning  media objects would be public (a public ACL)
assetpipe.W002     warning  media URLs are not signed (``querystring_auth=False``)
=================  =======  ===========================================================

``assetpipe.media`` (and with it boto3) is imported only once a media storage is found, so
checking a project without one stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from assetpipe.media import TenantMediaStorage


def _media_backends() -> Iterator[tuple[str, type[TenantMediaStorage], dict[str, Any]]]:
    """``(alias, backend, OPTIONS)`` of every TenantMediaStorage in ``STORAGES``."""
    for alias, config in settings.STORAGES.items():
        try:
            backend = import_string(config["BACKEND"])
        except (ImportError, KeyError, TypeError):
            continue  # Django reports an unusable STORAGES entry where it is used.
        # A TenantMediaStorage backend has just imported assetpipe.media; if nothing did,
        # there is none, and a project without media on S3 never imports boto3 here.
        media = sys.modules.get("assetpipe.media.storage")
        if media and isinstance(backend, type) and issubclass(backend, media.TenantMediaStorage):
            yield alias, backend, dict(config.get("OPTIONS", {}))


def _media_storages() -> Iterator[tuple[str, TenantMediaStorage | ImproperlyConfigured]]:
    """Each media storage as configured, or the error that prevents creating it."""
    for alias, backend, options in _media_backends():
        try:
            yield alias, backend(**options)
        except ImproperlyConfigured as error:
            yield alias, error


def _obj(alias: str) -> str:
    return f'STORAGES["{alias}"]'


@register(Tags.files)
def check_media_configuration(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, storage in _media_storages():
        from assetpipe.media import TenantConfigurationError

        if isinstance(storage, TenantConfigurationError):
            messages.append(
                Error(
                    str(storage),
                    hint="Set the tenant option (for one tenant per deploy, e.g. from a "
                    "CUSTOMER environment variable) or tenant_resolver, not both.",
                    obj=_obj(alias),
                    id="assetpipe.E002",
                )
            )
        elif isinstance(storage, ImproperlyConfigured):
            messages.append(Error(str(storage), obj=_obj(alias), id="assetpipe.E003"))
    return messages


@register(Tags.files, Tags.security)
def check_media_privacy(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, storage in _media_storages():
        if isinstance(storage, ImproperlyConfigured):
            continue
        from assetpipe.media.storage import PUBLIC_ACLS

        acl = storage.object_parameters.get("ACL") or storage.default_acl
        if acl in PUBLIC_ACLS:
            messages.append(
                CheckWarning(
                    f"Media objects in bucket {storage.bucket_name!r} are uploaded with the "
                    f"{acl!r} ACL: anyone who learns a key can read the file.",
                    hint="Remove default_acl and object_parameters['ACL'] from the OPTIONS; "
                    "signed URLs give access to private objects.",
                    obj=_obj(alias),
                    id="assetpipe.W001",
                )
            )
        if not storage.querystring_auth:
            messages.append(
                CheckWarning(
                    f"Media URLs for bucket {storage.bucket_name!r} are not signed "
                    "(querystring_auth=False): they work only if the objects are public.",
                    hint="Remove querystring_auth from the OPTIONS to hand out signed URLs "
                    "that expire.",
                    obj=_obj(alias),
                    id="assetpipe.W002",
                )
            )
    return messages


def _static_publishing() -> tuple[str, str] | None:
    """``(bucket, prefix)`` static files are published to, if they are."""
    options = settings.STORAGES.get("staticfiles", {}).get("OPTIONS", {})
    s3 = options.get("s3") if isinstance(options, dict) else None
    if not isinstance(s3, dict) or not s3.get("bucket_name"):
        return None
    location = str(s3.get("location") or "").strip("/")
    return s3["bucket_name"], f"{location}/" if location else ""


@register(Tags.files, Tags.staticfiles)
def check_media_static_overlap(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    static = _static_publishing()
    if static is None:
        return []
    static_bucket, static_prefix = static
    messages: list[CheckMessage] = []
    for alias, storage in _media_storages():
        if isinstance(storage, ImproperlyConfigured) or storage.bucket_name != static_bucket:
            continue
        if storage.tenant_resolver is None:
            media_prefix = shown = storage.tenant_prefix()
        else:
            # Any tenant: the whole location.
            media_prefix = f"{storage.location}/" if storage.location else ""
            shown = f"{media_prefix}<tenant>/"
        if static_prefix.startswith(media_prefix) or media_prefix.startswith(static_prefix):
            messages.append(
                Error(
                    f"Media in s3://{static_bucket}/{shown} overlaps the static files "
                    f"published to s3://{static_bucket}/{static_prefix}: pruning static files "
                    "would delete media, and media names could shadow static files.",
                    hint="Give static files and media disjoint locations in the bucket (for "
                    "example 'static' and 'media'), or separate buckets.",
                    obj=_obj(alias),
                    id="assetpipe.E001",
                )
            )
    return messages
