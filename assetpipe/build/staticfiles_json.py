"""``staticfiles.json`` in Django's format, and writing it into a separate ``manifest_storage``.

Reading one (its paths, the names it says are immutable) is :mod:`assetpipe.naming`'s, as
serving and publishing read it too."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage


def manifest_bytes(
    sorted_files: Sequence[tuple[str, str]],
    version: str,
    digest: str | None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """The manifest as Django writes it, with its paths sorted (as Django 6.1 does).

    ``extra`` keys (assetpipe's, which Django ignores) follow Django's; without them the bytes
    are exactly Django's.
    """
    payload = {"paths": dict(sorted_files), "version": version, "hash": digest, **(extra or {})}
    return json.dumps(payload).encode()


def manifest_extras(content: str | bytes | None) -> dict[str, Any]:
    """The keys of a manifest's content other than Django's own; {} if there is none."""
    if not content:
        return {}
    try:
        stored = json.loads(content)
    except ValueError:
        return {}  # Django's load_manifest reports a corrupt manifest
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if k not in ("paths", "version", "hash")}


def save_to_storage(storage: Storage, name: str, contents: bytes) -> None:
    """Into a separate ``manifest_storage``, the way Django's ``save_manifest`` does."""
    if storage.exists(name):
        storage.delete(name)
    storage._save(name, ContentFile(contents))  # type: ignore[attr-defined]
