"""A read-only Storage serving the published manifest, for app servers that did not build.

Django's ``ManifestStaticFilesStorage(manifest_storage=...)`` reads ``staticfiles.json`` from it
once per process, so ``{% static %}`` resolves hashed names without a local STATIC_ROOT.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage

from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.config import PublishError, S3Config


class BucketManifestStorage(Storage):
    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._s3: S3Client | None = None

    @property
    def s3(self) -> S3Client:
        # Created on first use: settings may build this before credentials are available.
        if self._s3 is None:
            self._s3 = S3Client(self.config)
        return self._s3

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        key = self.config.key(name)
        try:
            response = self.s3.client.get_object(Bucket=self.config.bucket_name, Key=key)
            return ContentFile(response["Body"].read(), name=name)
        except S3_ERRORS as exc:
            if _missing(exc):
                # Django treats a missing manifest as an empty one.
                raise FileNotFoundError(f"s3://{self.config.bucket_name}/{key}") from exc
            raise self.s3.error(exc, "reading", key) from exc

    def exists(self, name: str) -> bool:
        key = self.config.key(name)
        try:
            self.s3.client.head_object(Bucket=self.config.bucket_name, Key=key)
        except S3_ERRORS as exc:
            if _missing(exc):
                return False
            raise self.s3.error(exc, "reading", key) from exc
        return True

    def _save(self, name: str, content: IO[Any]) -> str:
        raise PublishError(
            f"the manifest in {self.config.where} is written by publishing, after the files it "
            "references, never through this storage: set read_manifest_from_bucket only where "
            "collectstatic does not run"
        )

    def delete(self, name: str) -> None:
        self._save(name, ContentFile(b""))


def _missing(exc: Exception) -> bool:
    response: dict[str, Any] = getattr(exc, "response", {})
    return str(response.get("Error", {}).get("Code")) in {"NoSuchKey", "404"}
