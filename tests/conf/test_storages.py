"""``assetpipe.conf.storages``: the one reader of ``STORAGES["staticfiles"]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings

from assetpipe.conf import storages
from assetpipe.conf.s3 import S3Config
from assetpipe.storage import AssetPipeStorage

ASSETPIPE = "assetpipe.storage.AssetPipeStorage"
DJANGO = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


class ProjectStorage(AssetPipeStorage):
    """A project's own subclass, with its own manifest name."""

    manifest_name = "assets.json"


def use(settings: Settings, backend: str, options: Any = None) -> None:
    entry: dict[str, Any] = {"BACKEND": backend}
    if options is not None:
        entry["OPTIONS"] = options
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": entry,
    }


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (ASSETPIPE, True),
        (f"{__name__}.ProjectStorage", True),
        (DJANGO, False),
        ("no.such.Storage", False),
    ],
)
def test_whether_the_static_storage_is_assetpipe_s(
    settings: Settings, backend: str, expected: bool
) -> None:
    use(settings, backend)
    assert storages.uses_assetpipe() is expected


def test_no_static_entry(settings: Settings) -> None:
    settings.STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    assert storages.static_entry() is None
    assert storages.static_options() == {}
    assert not storages.uses_assetpipe()
    assert storages.manifest_name() == "staticfiles.json"


@pytest.mark.parametrize("options", [None, ["strict"], "s3"])
def test_options_that_are_not_a_dict_read_as_none(settings: Settings, options: Any) -> None:
    use(settings, ASSETPIPE, options)
    assert storages.static_options() == {}


def test_the_options_validated_as_the_storage_validates_them(settings: Settings) -> None:
    use(settings, ASSETPIPE, {"workers": 2, "s3": {"bucket_name": "acme", "location": "static"}})
    options = storages.assetpipe_options()
    assert options.workers == 2
    assert options.s3 == S3Config(bucket_name="acme", location="static")

    use(settings, ASSETPIPE, {"compress_workers": 2})
    with pytest.raises(ImproperlyConfigured, match='was renamed to "workers"'):
        storages.assetpipe_options()


def test_the_manifest_name_is_the_backend_s(settings: Settings) -> None:
    use(settings, f"{__name__}.ProjectStorage")
    assert storages.manifest_name() == "assets.json"
    use(settings, DJANGO)
    assert storages.manifest_name() == "staticfiles.json"


def test_only_assetpipe_keeps_a_state_dir(settings: Settings, tmp_path: Path) -> None:
    settings.STATIC_ROOT = str(tmp_path / "static")
    use(settings, DJANGO)
    assert storages.static_state_dir() is None
    use(settings, ASSETPIPE, {"state_dir": str(tmp_path / "state")})
    assert storages.static_state_dir() == (tmp_path / "state").resolve()
