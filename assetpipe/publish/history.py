"""The builds a bucket holds: the manifest copies kept under ``<location>/manifests/``.

``manifests/<UTC time>-<build id>-<SHA-256 of the manifest>.json``: names sort by publishing
time, and the digests tell whether a copy holds the same build without reading it. The build id,
12 hex digits of the manifest's MD5 as Django's hashed names have, is what publishing, rollback
and pinned app servers name a build by; the SHA-256 is what a copy's bytes are checked against
when a rollback or a pinned app server reads it, so a copy changed after publishing is refused
(48 bits of MD5 could be matched by made-up bytes; 256 bits of SHA-256 cannot).

Copies written before the SHA-256 was part of the name (``<UTC time>-<build id>.json``) are still
listed, pruned and read, and checked by their 12 hex digits as before; a build that has a copy of
each kind is always read from the new one, and publishing a build whose newest copy is of the old
kind writes a new one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assetpipe.digests import md5_bytes
from assetpipe.naming import HASH_LENGTH
from assetpipe.publish.listing import RemoteObject

if TYPE_CHECKING:  # botocore is imported only by the runs that talk to the bucket through it
    from assetpipe.publish.client import S3Client

PREFIX = "manifests/"
# Hex digits of the manifest's MD5 in a build id: as many as Django's hashed names have.
BUILD_ID_LENGTH = HASH_LENGTH
_STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(
    rf"^manifests/(?P<stamp>\d{{8}}T\d{{12}}Z)-(?P<digest>[0-9a-f]{{{BUILD_ID_LENGTH}}})"
    r"(?:-(?P<sha256>[0-9a-f]{64}))?\.json$"
)


@dataclass(frozen=True, order=True)
class HistoryEntry:
    name: str  # relative to the location, e.g. manifests/20260101T120000000000Z-0123456789ab-….json
    digest: str  # the build id
    sha256: str | None = None  # of the manifest; None in a copy named before it was recorded

    @property
    def published(self) -> datetime:
        """When the copy was written (a publish or a rollback), by the writer's clock."""
        stamp = self.name[len(PREFIX) :].split("-", 1)[0]
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)

    def holds(self, data: bytes) -> bool:
        """Whether ``data`` is this copy's build: by its SHA-256, or in a copy of the old kind,
        which records no more, by the build id."""
        if self.sha256 is not None:
            return manifest_sha256(data) == self.sha256
        return build_id(data) == self.digest

    def describe(self) -> str:
        return f"{self.digest} ({self.published:%Y-%m-%d %H:%M} UTC)"


def build_id(manifest: bytes) -> str:
    """The id of the build a manifest describes: 12 hex digits of its MD5."""
    return build_id_of_md5(md5_bytes(manifest))


def build_id_of_md5(md5: str) -> str:
    """The build id of the manifest whose MD5 (hex) is ``md5``, e.g. a single-part ETag."""
    return md5[:BUILD_ID_LENGTH]


def manifest_sha256(manifest: bytes) -> str:
    return hashlib.sha256(manifest).hexdigest()


def live_build(live: RemoteObject) -> str:
    """The id of the live manifest's build, from the listing: its ETag is the manifest's MD5.

    A multipart ETag is no digest; it then stands for a build of its own."""
    return live.etag if live.multipart else build_id_of_md5(live.etag)


def history_name(manifest: bytes, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    return f"{PREFIX}{stamp}-{build_id(manifest)}-{manifest_sha256(manifest)}.json"


def history_entries(names: Iterable[str]) -> list[HistoryEntry]:
    """The history copies among ``names``, newest first."""
    entries = [
        HistoryEntry(name, match["digest"], match["sha256"])
        for name in names
        if (match := _NAME.match(name))
    ]
    return sorted(entries, reverse=True)


def remote_history(s3: S3Client) -> list[HistoryEntry]:
    """The bucket's history, newest first: one listing of ``manifests/`` per 1,000 copies."""
    from assetpipe.publish.inventory import list_prefix

    copies = list_prefix(s3, s3.config.key(PREFIX))
    return history_entries(PREFIX + name for name in copies)


def find_build(entries: Sequence[HistoryEntry], digest: str) -> HistoryEntry | None:
    """The newest copy of build ``digest`` (every copy of a build holds the same bytes) that
    records its SHA-256, or if it has none, its newest copy of the old kind."""
    copies = [entry for entry in entries if entry.digest == digest]
    return next((entry for entry in copies if entry.sha256 is not None), None) or next(
        iter(copies), None
    )


def newest_builds(entries: Sequence[HistoryEntry], count: int = 5) -> str:
    """The newest ``count`` distinct builds, for messages that name what exists."""
    seen: dict[str, HistoryEntry] = {}
    for entry in entries:
        if len(seen) == count:
            break
        seen.setdefault(entry.digest, entry)
    if not seen:
        return "none: nothing was published there"
    return ", ".join(entry.describe() for entry in seen.values())


def is_history(name: str) -> bool:
    return name.startswith(PREFIX)
