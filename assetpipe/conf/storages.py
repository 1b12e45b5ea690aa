"""The one reader of ``settings.STORAGES`` for the static storage: its entry, whether it is an
AssetPipeStorage, and its options, validated.

The system checks, the subcommands (``sync``, ``status``, ``edge``, ``cors``...), the test build
and the overlap rule all ask here, so "is the staticfiles backend assetpipe's?" has one answer.
Nothing here creates the storage except :func:`static_state_dir`, and a backend is imported only
when its class must be known.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import STATICFILES_STORAGE_ALIAS, settings
from django.utils.module_loading import import_string

from assetpipe.conf.options import StorageOptions, parse_storage_options
from assetpipe.naming import MANIFEST_NAME


def configured_options(entry: object) -> dict[str, Any]:
    """A ``STORAGES`` entry's ``OPTIONS`` as a dict; empty when unset or not a dict."""
    options = entry.get("OPTIONS", {}) if isinstance(entry, Mapping) else {}
    return dict(options) if isinstance(options, Mapping) else {}


def static_entry() -> Mapping[str, Any] | None:
    """``STORAGES["staticfiles"]`` as configured, whatever its backend; None if not a dict."""
    storages = settings.STORAGES
    entry = storages.get(STATICFILES_STORAGE_ALIAS) if isinstance(storages, Mapping) else None
    return entry if isinstance(entry, Mapping) else None


def static_options() -> dict[str, Any]:
    """``STORAGES["staticfiles"]["OPTIONS"]`` as given, unchecked; empty when unset."""
    return configured_options(static_entry())


def static_backend() -> type | None:
    """The static storage's class, or None when it cannot be imported (Django reports an
    unusable entry where it is used)."""
    entry = static_entry()
    path = entry.get("BACKEND") if entry is not None else None
    if not isinstance(path, str):
        return None
    try:
        backend = import_string(path)
    except ImportError:
        return None
    return backend if isinstance(backend, type) else None


def uses_assetpipe() -> bool:
    """Whether the static storage is an AssetPipeStorage (or a subclass).

    Importing such a backend has imported ``assetpipe.storage``; with another backend nothing
    imports it here."""
    backend = static_backend()
    module = sys.modules.get("assetpipe.storage")
    return (
        backend is not None and module is not None and issubclass(backend, module.AssetPipeStorage)
    )


def assetpipe_options() -> StorageOptions:
    """The static storage's assetpipe options, validated as the storage validates them.
    ImproperlyConfigured names the first problem."""
    return parse_storage_options(static_options())[0]


def manifest_name() -> str:
    """The manifest file name of the static storage's class (a class attribute)."""
    backend = static_backend()
    return str(getattr(backend, "manifest_name", MANIFEST_NAME))


def static_state_dir() -> Path | None:
    """Where the static AssetPipeStorage keeps its build state; other storages keep none.
    Only an AssetPipeStorage is created: another backend may not take assetpipe's options."""
    if not uses_assetpipe():
        return None
    from django.core.files.storage import storages

    storage = storages[STATICFILES_STORAGE_ALIAS]
    state_dir: Path | None = getattr(storage, "state_dir", None)
    return state_dir
