"""A read-only Storage serving the published manifest, for app servers that did not build.

Django's ``ManifestStaticFilesStorage(manifest_storage=...)`` reads ``staticfiles.json`` from it
once per process, so ``{% static %}`` resolves hashed names without a local STATIC_ROOT.

With ``manifest_digest`` set it serves that build's history copy instead of the live manifest,
so a process renders the names of the build it was released with, whatever was published since.
The copy's name holds its publishing time, so it is found with one listing of ``manifests/``.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage

from assetpipe.conf.s3 import SETTING, PublishError, S3Config
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import HistoryEntry, find_build, newest_builds, remote_history


class BucketManifestStorage(Storage):
    def __init__(self, config: S3Config) -> None:
        self.config = config

    def _client(self) -> S3Client:
        # One per read, closed after it: Django reads the manifest once per process.
        return S3Client(self.config)

    def _key(self, name: str) -> str:
        return self.config.key(name)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        key = self._key(name)
        with self._client() as s3:
            try:
                response = s3.client.get_object(Bucket=self.config.bucket_name, Key=key)
                return ContentFile(response["Body"].read(), name=name)
            except S3_ERRORS as exc:
                if _missing(exc):
                    # Django treats a missing manifest as an empty one.
                    raise FileNotFoundError(f"s3://{self.config.bucket_name}/{key}") from exc
                raise s3.error(exc, "reading", key) from exc

    def exists(self, name: str) -> bool:
        key = self._key(name)
        with self._client() as s3:
            try:
                s3.client.head_object(Bucket=self.config.bucket_name, Key=key)
            except S3_ERRORS as exc:
                if _missing(exc):
                    return False
                raise s3.error(exc, "reading", key) from exc
        return True

    def _save(self, name: str, content: IO[Any]) -> str:
        raise PublishError(
            f"the manifest in {self.config.where} is written by publishing, after the files it "
            "references, never through this storage: set read_manifest_from_bucket only where "
            "collectstatic does not run"
        )

    def delete(self, name: str) -> None:
        self._save(name, ContentFile(b""))


class PinnedManifestStorage(BucketManifestStorage):
    """The history copy of build ``config.manifest_digest``, whatever name is asked for."""

    def __init__(self, config: S3Config) -> None:
        super().__init__(config)
        self._pinned_key: str | None = None
        self._pinned: HistoryEntry | None = None

    def _key(self, name: str) -> str:
        if self._pinned_key is None:
            self._pinned_key = self._find()
        return self._pinned_key

    def _find(self) -> str:
        digest = self.config.manifest_digest
        assert digest is not None
        with self._client() as s3:
            history = remote_history(s3)
        entry = find_build(history, digest)
        if entry is None:
            # Raised where Django first loads the manifest: the process fails as it starts
            # instead of rendering another build's names.
            raise ImproperlyConfigured(
                f"{SETTING}['manifest_digest'] is {digest!r}, but {self.config.where} holds no "
                f"such build (no {self.config.key('manifests/')}<time>-{digest}.json); newest "
                f"builds there: {newest_builds(history)}"
            )
        self._pinned = entry
        return self.config.key(entry.name)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        manifest = super()._open(name, mode)
        data = manifest.read()
        # By the SHA-256 its name records: 12 hex digits of MD5 could be matched by made-up bytes.
        if self._pinned is None or not self._pinned.holds(data):
            raise PublishError(
                f"s3://{self.config.bucket_name}/{self._key(name)} does not hold build "
                f"{self.config.manifest_digest}: its content was changed after publishing"
            )
        return ContentFile(data, name=name)


def manifest_storage_for(config: S3Config) -> BucketManifestStorage:
    """The pinned build's manifest if ``manifest_digest`` is set, else the live one."""
    if config.manifest_digest is not None:
        return PinnedManifestStorage(config)
    return BucketManifestStorage(config)


def _missing(exc: Exception) -> bool:
    response: dict[str, Any] = getattr(exc, "response", {})
    return str(response.get("Error", {}).get("Code")) in {"NoSuchKey", "404"}
