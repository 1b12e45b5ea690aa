"""The builds a bucket holds: the manifest copies kept under ``<location>/manifests/``.

``manifests/<UTC time>-<md5 of the manifest, 12 hex>.json``: names sort by publishing time, and
the digest tells whether a copy holds the same build without reading it. That digest is the
build's id: publishing, rollback and pinned app servers all name a build by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assetpipe.digests import md5_bytes
from assetpipe.s3_listing import RemoteObject

if TYPE_CHECKING:  # botocore is imported only by the runs that talk to the bucket through it
    from assetpipe.publish.client import S3Client

PREFIX = "manifests/"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^manifests/(?P<stamp>\d{8}T\d{12}Z)-(?P<digest>[0-9a-f]{12})\.json$")


@dataclass(frozen=True, order=True)
class HistoryEntry:
    name: str  # relative to the location, e.g. manifests/20260101T120000000000Z-0123456789ab.json
    digest: str

    @property
    def published(self) -> datetime:
        """When the copy was written (a publish or a rollback), by the writer's clock."""
        stamp = self.name[len(PREFIX) :].split("-", 1)[0]
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)

    def describe(self) -> str:
        return f"{self.digest} ({self.published:%Y-%m-%d %H:%M} UTC)"


def build_id(manifest: bytes) -> str:
    """The id of the build a manifest describes: 12 hex digits of its MD5."""
    return md5_bytes(manifest)[:12]


def live_build(live: RemoteObject) -> str:
    """The id of the live manifest's build, from the listing: its ETag is the manifest's MD5.

    A multipart ETag is no digest; it then stands for a build of its own."""
    return live.etag if live.multipart else live.etag[:12]


def history_name(manifest_md5: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    return f"{PREFIX}{stamp}-{manifest_md5[:12]}.json"


def history_entries(names: Iterable[str]) -> list[HistoryEntry]:
    """The history copies among ``names``, newest first."""
    entries = [
        HistoryEntry(name, match["digest"]) for name in names if (match := _NAME.match(name))
    ]
    return sorted(entries, reverse=True)


def remote_history(s3: S3Client) -> list[HistoryEntry]:
    """The bucket's history, newest first: one listing of ``manifests/`` per 1,000 copies."""
    from assetpipe.publish.inventory import list_prefix

    copies = list_prefix(s3, s3.config.key(PREFIX))
    return history_entries(PREFIX + name for name in copies)


def find_build(entries: Sequence[HistoryEntry], digest: str) -> HistoryEntry | None:
    """The newest copy of build ``digest`` (every copy of a build holds the same bytes)."""
    return next((entry for entry in entries if entry.digest == digest), None)


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
