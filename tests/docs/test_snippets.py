"""Every Python block of the documentation and the README compiles; each runs, as the settings
module it is part of would (``BASE_DIR`` and ``DEBUG`` defined, as ``startproject`` defines them),
and the storages it configures pass assetpipe's own validation.

A block that is a fragment has ``<!-- snippet: compile-only -->`` on the line before its fence;
one that needs a newer Django, ``<!-- snippet: django>=6.0 -->``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import pytest
from django.utils.module_loading import import_string

from assetpipe.conf.options import parse_storage_options
from tests.docs.pages import Block, python_blocks

BLOCKS = python_blocks()


def needed_django(marker: str) -> tuple[int, ...] | None:
    """The Django version a ``django>=X.Y`` marker asks for; None for ``compile-only``."""
    if marker == "compile-only":
        return None
    if marker.startswith("django>="):
        return tuple(int(part) for part in marker.removeprefix("django>=").split("."))
    raise AssertionError(f"unknown snippet marker {marker!r}")


def test_the_pages_have_python_blocks() -> None:
    # The extraction itself: a change of fence syntax must not turn this into a test of nothing.
    assert len(BLOCKS) >= 20
    assert any("AssetPipeStorage" in block.code for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_python_block(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    code = compile(block.code, str(block), "exec")
    if block.marker is not None:
        version = needed_django(block.marker)
        if version is None:
            return
        if django.VERSION[: len(version)] < version:
            pytest.skip(f"needs Django {'.'.join(map(str, version))}")
    # What the settings snippets read from the environment, as a deploy sets it.
    monkeypatch.setenv("CUSTOMER", "globex")
    monkeypatch.setenv("STATIC_BUILD", "0123456789ab")
    namespace: dict[str, Any] = {
        "__name__": "settings",
        "__file__": "/srv/app/project/settings.py",
        "BASE_DIR": Path("/srv/app"),
        "DEBUG": False,
    }
    exec(code, namespace)
    storages = namespace.get("STORAGES")
    if isinstance(storages, dict):
        for alias, entry in storages.items():
            check_storage(block, alias, entry)


def check_storage(block: Block, alias: str, entry: object) -> None:
    """An entry of ``STORAGES`` as Django would create it: its backend imports and, for
    assetpipe's storages, its options are valid."""
    if not isinstance(entry, dict):
        return  # an elided entry, {...}
    backend = import_string(entry["BACKEND"])
    options = entry.get("OPTIONS", {})
    if entry["BACKEND"] == "assetpipe.storage.AssetPipeStorage":
        parse_storage_options(options)
    elif entry["BACKEND"] == "assetpipe.media.TenantMediaStorage":
        known = object.__new__(backend).get_default_settings()
        assert set(options) <= set(known), (
            f"{block}: STORAGES[{alias!r}]: {set(options) - set(known)}"
        )
        if "tenant" in options:
            backend(**options)
