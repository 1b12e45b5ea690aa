"""``staticfiles.json`` in Django's format, and writing it into a separate ``manifest_storage``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import Storage


def manifest_bytes(
    sorted_files: Sequence[tuple[str, str]], version: str, digest: str | None
) -> bytes:
    """The manifest as Django writes it, with its paths sorted (as Django 6.1 does)."""
    payload = {"paths": dict(sorted_files), "version": version, "hash": digest}
    return json.dumps(payload).encode()


def save_to_storage(storage: Storage, name: str, contents: bytes) -> None:
    """Into a separate ``manifest_storage``, the way Django's ``save_manifest`` does."""
    if storage.exists(name):
        storage.delete(name)
    storage._save(name, ContentFile(contents))  # type: ignore[attr-defined]
