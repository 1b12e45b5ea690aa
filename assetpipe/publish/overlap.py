"""The one rule for static files and media that share a bucket: their key prefixes must not
overlap.

Static publishing (``STORAGES["staticfiles"]["OPTIONS"]["s3"]``) writes, prunes and, through a
bucket policy or a runner's IAM policy, opens its prefix to others. Any other S3 storage in
``STORAGES`` (assetpipe's TenantMediaStorage, django-storages' ``S3Storage``/``S3Boto3Storage``
and their subclasses, under any alias) keeps files that none of that may reach. The two
overlap when, in the same bucket, their prefixes are the same, one lies inside the other, or
the static files have no location at all.

A storage's whole location counts: a TenantMediaStorage's every tenant, not only the one this
deploy serves, since other deploys keep their tenants' files beside it. Its bucket and
location are read by creating the storage as Django would, so django-storages' class
attributes, ``OPTIONS`` and ``AWS_STORAGE_BUCKET_NAME``/``AWS_LOCATION`` fallbacks all count;
creating one sends no request.

Used by the system check ``assetpipe.E001``, ``manage.py assetpipe bucket-policy`` and
``runner-policy``, and before publishing or pruning.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.conf import STATICFILES_STORAGE_ALIAS, settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from assetpipe.conf import storages
from assetpipe.conf.s3 import PublishError

# What to do about an overlap, for every message that reports one.
FIX = (
    'Give static files and media disjoint locations in the bucket (e.g. "static" and '
    '"media"), or separate buckets.'
)


class MediaOverlapError(PublishError):
    """Static publishing would reach another storage's files; the message names both."""


@dataclass(frozen=True)
class StoredPrefix:
    """Where one storage keeps its files in S3."""

    alias: str  # its STORAGES alias
    backend: str  # its BACKEND, as configured
    bucket: str
    prefix: str  # "" for the whole bucket, else ending with "/"
    tenants: bool = False  # a TenantMediaStorage: one prefix per tenant under ``prefix``

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def __str__(self) -> str:
        return f'STORAGES["{self.alias}"] ({self.backend})'


@dataclass(frozen=True)
class Overlap:
    """The static prefix and a storage's prefix in the same bucket, one reaching the other."""

    static: StoredPrefix
    media: StoredPrefix

    def __str__(self) -> str:
        static, media = self.static, self.media
        publishes = f"{static} publishes to {static.url}"
        keeps = f"{media} keeps files in {media.url}"
        if not static.prefix:
            return f'{publishes}, the whole bucket (the "s3" option has no location), and {keeps}'
        if static.prefix == media.prefix:
            return f"{publishes} and {keeps}: the same prefix"
        if media.prefix.startswith(static.prefix):
            return f"{keeps}, inside the static prefix: {publishes}"
        where = "a tenant of that name would keep its media" if media.tenants else "its files"
        return f"{publishes}, inside {media.url}, where {where}: {keeps}"


def static_prefix() -> StoredPrefix | None:
    """Where ``STORAGES["staticfiles"]``'s ``s3`` option publishes, if it has a bucket."""
    entry = storages.static_entry()
    s3 = storages.static_options().get("s3")
    if entry is None or not isinstance(s3, Mapping) or not isinstance(s3.get("bucket_name"), str):
        return None
    location = s3.get("location") or ""
    location = location.strip("/") if isinstance(location, str) else ""
    return StoredPrefix(
        STATICFILES_STORAGE_ALIAS,
        str(entry.get("BACKEND")),
        s3["bucket_name"],
        f"{location}/" if location else "",
    )


def s3_storages() -> Iterator[tuple[str, StoredPrefix | ImproperlyConfigured]]:
    """``(alias, where)`` of every S3 storage in ``STORAGES`` but the static one, or the error
    that prevents creating it (a missing extra, invalid OPTIONS)."""
    for alias, config in settings.STORAGES.items():
        if alias == STATICFILES_STORAGE_ALIAS or not isinstance(config, Mapping):
            continue
        path = str(config.get("BACKEND", ""))
        try:
            backend = import_string(path)
        except ImproperlyConfigured as error:
            if path.startswith("assetpipe."):
                yield alias, error  # assetpipe.media without the media extra
            continue
        except (ImportError, ValueError, TypeError):
            continue  # Django reports an unusable STORAGES entry where it is used.
        # Importing an S3 backend has imported django-storages' module; if nothing did, no
        # storage is one, and a project without S3 storages never imports boto3 here.
        module = sys.modules.get("storages.backends.s3")
        if module is None or not (
            isinstance(backend, type) and issubclass(backend, module.S3Storage)
        ):
            continue
        options: object = config.get("OPTIONS", {})
        kwargs = dict(options) if isinstance(options, Mapping) else {}
        tenants = hasattr(backend, "tenant_prefix")
        if tenants:
            # The tenant does not move the location that holds every tenant's files: read it
            # whatever the tenant options say (a missing tenant is assetpipe.E002's to report,
            # and a static build often runs without one).
            kwargs.update(tenant="any", tenant_resolver=None)
        try:
            storage = backend(**kwargs)
        except (ImproperlyConfigured, TypeError, ValueError) as error:
            yield alias, ImproperlyConfigured(str(error))
            continue
        bucket, location = storage.bucket_name, str(storage.location or "").strip("/")
        if not bucket:
            yield (
                alias,
                ImproperlyConfigured(
                    "it has no bucket_name (in OPTIONS or AWS_STORAGE_BUCKET_NAME)"
                ),
            )
            continue
        yield alias, StoredPrefix(alias, path, bucket, f"{location}/" if location else "", tenants)


def overlap(static: StoredPrefix, other: StoredPrefix) -> Overlap | None:
    """The overlap of the static prefix with ``other``'s, if they overlap."""
    if static.bucket != other.bucket:
        return None
    if static.prefix.startswith(other.prefix) or other.prefix.startswith(static.prefix):
        return Overlap(static, other)
    return None


def media_overlaps(static: StoredPrefix | None = None) -> list[Overlap]:
    """Every storage in ``STORAGES`` whose files the static prefix (``static``, or the
    configured one) reaches. ImproperlyConfigured, naming the storage, when one cannot be
    created: then nobody can tell where its files are."""
    static = static or static_prefix()
    if static is None:
        return []
    found: list[Overlap] = []
    for alias, where in s3_storages():
        if isinstance(where, ImproperlyConfigured):
            raise ImproperlyConfigured(
                f'STORAGES["{alias}"]: {where}; cannot tell whether it shares a prefix with '
                "the static files"
            )
        found_overlap = overlap(static, where)
        if found_overlap is not None:
            found.append(found_overlap)
    return found


def refuse_media_overlap(bucket: str, prefix: str, action: str) -> None:
    """MediaOverlapError when ``s3://bucket/prefix`` (static publishing's) reaches another
    storage's files; ``action`` names what is refused, e.g. "publish"."""
    static = static_prefix()
    backend = static.backend if static is not None else "the s3 option"
    where = StoredPrefix(STATICFILES_STORAGE_ALIAS, backend, bucket, prefix)
    try:
        found = media_overlaps(where)
    except ImproperlyConfigured as error:
        raise MediaOverlapError(f"refusing to {action} s3://{bucket}/{prefix}: {error}") from error
    if found:
        raise MediaOverlapError(f"refusing to {action} s3://{bucket}/{prefix}: {found[0]}. {FIX}")


__all__ = [
    "FIX",
    "MediaOverlapError",
    "Overlap",
    "StoredPrefix",
    "media_overlaps",
    "overlap",
    "refuse_media_overlap",
    "s3_storages",
    "static_prefix",
]
