"""Names of the manifest copies kept under ``<location>/manifests/``.

``manifests/<UTC time>-<md5 of the manifest, 12 hex>.json``: names sort by publishing time, and
the digest tells whether a copy holds the same build without reading it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "manifests/"
_NAME = re.compile(r"^manifests/(?P<stamp>\d{8}T\d{12}Z)-(?P<digest>[0-9a-f]{12})\.json$")


@dataclass(frozen=True, order=True)
class HistoryEntry:
    name: str  # relative to the location, e.g. manifests/20260101T120000000000Z-0123456789ab.json
    digest: str


def history_name(manifest_md5: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{PREFIX}{stamp}-{manifest_md5[:12]}.json"


def history_entries(names: Iterable[str]) -> list[HistoryEntry]:
    """The history copies among ``names``, newest first."""
    entries = [
        HistoryEntry(name, match["digest"]) for name in names if (match := _NAME.match(name))
    ]
    return sorted(entries, reverse=True)


def is_history(name: str) -> bool:
    return name.startswith(PREFIX)
