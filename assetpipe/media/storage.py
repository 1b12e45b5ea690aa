"""TenantMediaStorage: django-storages' ``S3Storage`` confined to one tenant's key prefix.

Everything S3 is django-storages' own; this class changes only how a name becomes a key
(``<location>/<tenant>/<name>``, after validating the name) and the defaults, which are those
of private user data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string
from storages.backends.s3 import S3File, S3Storage

from assetpipe.media.names import (
    MAX_KEY_BYTES,
    validate_directory,
    validate_location,
    validate_name,
    validate_tenant,
)

TenantResolver = Callable[[], object]

# Canned ACLs that let someone other than the bucket owner read objects.
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})


class TenantConfigurationError(ImproperlyConfigured):
    """The tenant is missing, invalid, or configured twice."""


def _status(error: ClientError) -> int | None:
    status: int | None = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


@deconstructible(path="assetpipe.media.TenantMediaStorage")
class TenantMediaStorage(S3Storage):  # type: ignore[misc]
    """Private, per-tenant media on S3.

    Options (``STORAGES[alias]["OPTIONS"]``) are django-storages' plus:

    ``tenant``
        The tenant id, fixed for the process (one deploy per customer).
    ``tenant_resolver``
        A callable, or the dotted path to one, returning the current tenant id; it is called
        on every operation, for processes that serve many tenants.

    Exactly one of them must be given.
    """

    location: str
    tenant: str | None
    tenant_resolver: str | TenantResolver | None

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        if not self.bucket_name:
            raise ImproperlyConfigured(f"{type(self).__name__} needs the bucket_name option.")
        self.location = validate_location(self.location)
        self._resolver = self._load_resolver()
        if self.custom_domain and self.querystring_auth and self.cloudfront_signer is None:
            # django-storages signs custom-domain URLs only with CloudFront keys and otherwise
            # returns them unsigned, which a private bucket refuses.
            raise ImproperlyConfigured(
                f"custom_domain {self.custom_domain!r} for bucket {self.bucket_name!r}: signed "
                "URLs on a custom domain need cloudfront_key_id and cloudfront_key. Configure "
                "them, remove custom_domain to sign S3 URLs, or set querystring_auth=False if "
                "the domain serves the media publicly."
            )

    def get_default_settings(self) -> dict[str, Any]:
        defaults: dict[str, Any] = super().get_default_settings()
        # The privacy-relevant defaults ignore the project-wide AWS_* settings, which legacy
        # projects often wrote for public static files; set them in OPTIONS if you must.
        defaults.update(
            default_acl=None,
            querystring_auth=True,
            file_overwrite=False,
            tenant=None,
            tenant_resolver=None,
        )
        # botocore still presigns with SigV2 unless told otherwise; SigV2 URLs are refused
        # by newer regions and for KMS-encrypted objects.
        defaults["signature_version"] = defaults["signature_version"] or "s3v4"
        return defaults

    def _load_resolver(self) -> TenantResolver | None:
        if self.tenant and self.tenant_resolver:
            raise TenantConfigurationError(
                f"{type(self).__name__} for bucket {self.bucket_name!r}: set either tenant or "
                "tenant_resolver, not both."
            )
        if not self.tenant_resolver:
            validate_tenant(
                self.tenant,
                source=f"{type(self).__name__} option 'tenant' (bucket {self.bucket_name!r})",
                error=TenantConfigurationError,
            )
            return None
        if callable(self.tenant_resolver):
            return self.tenant_resolver
        try:
            resolver = import_string(self.tenant_resolver)
        except ImportError as error:
            raise TenantConfigurationError(
                f"tenant_resolver {self.tenant_resolver!r} cannot be imported: {error}"
            ) from error
        if not callable(resolver):
            raise TenantConfigurationError(
                f"tenant_resolver {self.tenant_resolver!r} is not callable."
            )
        return resolver  # type: ignore[no-any-return]

    # -- names and keys ------------------------------------------------------------------

    def current_tenant(self) -> str:
        """The tenant id for this operation."""
        if self._resolver is None:
            return self.tenant  # type: ignore[return-value]  # validated in __init__
        return validate_tenant(
            self._resolver(),
            source=f"tenant_resolver {self.tenant_resolver!r} returned",
            error=TenantConfigurationError,
        )

    def tenant_prefix(self) -> str:
        """The current tenant's key prefix, ``<location>/<tenant>/``."""
        return "/".join(part for part in (self.location, self.current_tenant()) if part) + "/"

    def key(self, name: str) -> str:
        """The S3 key of the media name ``name`` for the current tenant."""
        return self._normalize_name(validate_name(name))

    def _normalize_name(self, name: str) -> str:
        # Every django-storages operation turns its (already validated) name into a key
        # here; validating again keeps an operation this class does not wrap from escaping.
        validate_directory(name)
        key = self.tenant_prefix() + name
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise SuspiciousFileOperation(
                f"Media name {name!r} refused: its key {key!r} is longer than S3's "
                f"{MAX_KEY_BYTES}-byte limit."
            )
        return key

    @contextmanager
    def _naming(self, name: str) -> Iterator[None]:
        """Add the bucket, key and tenant to S3 errors raised by an operation on ``name``."""
        try:
            yield
        except (ClientError, FileNotFoundError) as error:
            error.add_note(
                f"media object s3://{self.bucket_name}/{self.tenant_prefix()}{name} "
                f"(tenant {self.current_tenant()!r})"
            )
            raise

    def _listed(self, name: str) -> bool | None:
        """Whether ``name`` exists according to a one-key listing; ``None`` if refused.

        S3 answers a HEAD for a missing key with 403 unless the caller may list the whole
        bucket, which prefix-limited tenant credentials may not; they may list their prefix.
        """
        key = self._normalize_name(name)
        client = self.connection.meta.client
        try:
            page = client.list_objects_v2(Bucket=self.bucket_name, Prefix=key, MaxKeys=1)
        except ClientError:
            return None
        # The exact key sorts before every longer key that shares it as a prefix.
        return any(entry["Key"] == key for entry in page.get("Contents", ()))

    # -- django-storages operations, validated before anything is sent ------------------

    def _open(self, name: str, mode: str = "rb") -> S3File:
        validate_name(name)
        with self._naming(name):
            try:
                file: S3File = super()._open(name, mode)
            except ClientError as error:
                if _status(error) == 403 and self._listed(name) is False:
                    raise FileNotFoundError(
                        f"Media object s3://{self.bucket_name}/{self.key(name)} does not exist."
                    ) from error
                raise
        # django-storages names the file after its key minus the base location; the caller's
        # name is the meaningful one.
        file.name = name
        return file

    def _save(self, name: str, content: Any) -> str:
        validate_name(name)
        with self._naming(name):
            saved: str = super()._save(name, content)
        return saved

    def delete(self, name: str) -> None:
        validate_name(name)
        with self._naming(name):
            super().delete(name)

    def exists(self, name: str) -> bool:
        validate_name(name)
        with self._naming(name):
            try:
                return bool(super().exists(name))
            except ClientError as error:
                listed = self._listed(name) if _status(error) == 403 else None
                if listed is None:
                    raise
                return listed

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        validate_directory(path)
        with self._naming(path):
            listing: tuple[list[str], list[str]] = super().listdir(path)
        return listing

    def size(self, name: str) -> int:
        validate_name(name)
        with self._naming(name):
            size: int = super().size(name)
        return size

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        validate_name(name)
        url: str = super().url(name, parameters, expire, http_method)
        return url

    def get_modified_time(self, name: str) -> Any:
        validate_name(name)
        with self._naming(name):
            return super().get_modified_time(name)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        validate_name(name)
        available: str = super().get_available_name(name, max_length)
        return available
