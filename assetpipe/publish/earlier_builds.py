"""Earlier builds as the bucket keeps them, for the dictionaries step on a machine that has not
built them (a fresh CI runner): their manifests from the history, their files by name.

Used as they are: a delta names the SHA-256 of the bytes it was made with, so bytes that are
not what was published could only give a delta that no browser asks for, never a wrong file.
A manifest copy is still checked against the digest in its name, as rollback checks it.
"""

from __future__ import annotations

from typing import Any

from assetpipe.conf.s3 import S3Config
from assetpipe.naming import read_paths
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import remote_history


class EarlierBuilds:
    """One client for the run; closed by :meth:`close`."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._s3: S3Client | None = None
        self.problems: list[str] = []

    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = S3Client(self.config)
        return self._s3

    def paths(self, count: int) -> list[dict[str, str]]:
        """The ``paths`` of the newest ``count`` distinct builds in the history, newest first."""
        try:
            history = remote_history(self.s3)
        except S3_ERRORS as exc:
            self.problems.append(f"earlier builds: {self.s3.error(exc, 'listing')}")
            return []
        builds: list[dict[str, str]] = []
        seen: set[str] = set()
        for entry in history:
            if len(builds) == count:
                break
            if entry.digest in seen:
                continue
            seen.add(entry.digest)
            data = self._get(self.config.key(entry.name))
            if data is not None and entry.holds(data):
                builds.append(read_paths(data))
        return builds

    def read(self, name: str, limit: int) -> bytes | None:
        """The bytes of an earlier build's file ``name``; None when the bucket has no such
        object or it is larger than ``limit``."""
        return self._get(self.config.key(name), limit)

    def _get(self, key: str, limit: int | None = None) -> bytes | None:
        try:
            response: dict[str, Any] = self.s3.client.get_object(
                Bucket=self.config.bucket_name, Key=key
            )
        except S3_ERRORS as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code not in ("NoSuchKey", "404", "403", "AccessDenied"):
                self.problems.append(f"earlier builds: {self.s3.error(exc, 'reading', key)}")
            return None
        body = response["Body"]
        with body:
            if limit is not None and int(response.get("ContentLength", 0)) > limit:
                return None
            data: bytes = body.read()
        if response.get("ContentEncoding"):
            return None  # a variant uploaded under an original's name: not its bytes
        return data

    def close(self) -> None:
        if self._s3 is not None:
            self._s3.close()
