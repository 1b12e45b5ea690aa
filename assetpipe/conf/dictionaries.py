"""``STORAGES["staticfiles"]["OPTIONS"]["dictionaries"]``: deltas against earlier builds
(RFC 9842, ``dcz``); docs/how-to/dictionaries.md says what they cost and save."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assetpipe.conf.kit import OPTIONS, Check, integer, invalid, key, read_group
from assetpipe.extras import require

WHERE = key(OPTIONS, "dictionaries")

# Three builds back: a visitor who returns within a few deploys gets a delta; each build more
# costs one delta per changed file, and visitors older than that are rarer than the bytes.
DEFAULT_PREVIOUS_BUILDS = 3


@dataclass(frozen=True)
class DictionarySettings:
    # How many earlier builds' versions of a file its deltas are made against.
    previous_builds: int = DEFAULT_PREVIOUS_BUILDS

    @classmethod
    def from_options(cls, value: object) -> DictionarySettings | None:
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise invalid(WHERE, value, 'None, True or a dict such as {"previous_builds": 3}')
        group = read_group(WHERE, value, CHECKS)
        group.raise_first()
        require("dictionaries")
        return cls(**group.values)


CHECKS: dict[str, Check[Any]] = {"previous_builds": integer(1, 20)}
