"""The session's build, in this process: its settings, its build and its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage

from assetpipe.storage import AssetPipeStorage
from assetpipe.testing import plugin
from assetpipe.testing.build import (
    ENV_BUILD,
    ENV_STATIC_ROOT,
    SessionBuild,
    StaticBuildError,
    enabled_by_env,
    project_uses_assetpipe,
    session_settings,
    static_root_from_env,
)
from tests.conftest import StaticProject


class ProjectStorage(AssetPipeStorage):
    """A project's own subclass."""


PROJECT_OPTIONS: dict[str, Any] = {
    "missing_references": "fail",
    "integrity": True,
    "encodings": ["gzip"],
    "s3": {
        "bucket_name": "shop-static",
        "endpoint_url": "http://127.0.0.1:9",
        "variants": "static_root_and_bucket",
    },
    "cdn": "cloudfront",
    "state_dir": "/var/cache/assetpipe",
    "location": "/srv/static",
    "manifest_storage": None,
    "base_url": "/assets/",
}


def test_the_session_keeps_the_project_s_options_but_where_files_go_and_publishing(
    settings: Any, tmp_path: Path
) -> None:
    backend = {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": PROJECT_OPTIONS}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": backend}
    overrides = session_settings(tmp_path / "static")
    assert overrides["STATIC_ROOT"] == str(tmp_path / "static")
    assert overrides["STORAGES"]["default"] == settings.STORAGES["default"]
    assert overrides["STORAGES"]["staticfiles"] == {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {
            "missing_references": "fail",
            "integrity": True,
            "encodings": ["gzip"],
            "base_url": "/assets/",
        },
    }
    assert settings.STORAGES["staticfiles"]["OPTIONS"] == PROJECT_OPTIONS  # left as it was


@pytest.mark.parametrize(
    ("backend", "uses"),
    [
        ("assetpipe.storage.AssetPipeStorage", True),
        ("tests.testing.test_build.ProjectStorage", True),
        ("django.contrib.staticfiles.storage.ManifestStaticFilesStorage", False),
        ("django.contrib.staticfiles.storage.StaticFilesStorage", False),
        ("no.such.Storage", False),
    ],
)
def test_only_a_project_with_assetpipe_s_storage_gets_a_build(
    settings: Any, backend: str, uses: bool
) -> None:
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": backend}}
    assert project_uses_assetpipe() is uses


def test_without_staticfiles_installed_there_is_no_build(settings: Any) -> None:
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if "staticfiles" not in a]
    assert project_uses_assetpipe() is False


@pytest.mark.parametrize(
    ("value", "enabled"),
    [("", None), ("0", False), ("false", False), ("No", False), ("1", True), (" on ", True)],
)
def test_the_environment_turns_it_on_or_off(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool | None
) -> None:
    monkeypatch.setenv(ENV_BUILD, value)
    assert enabled_by_env() is enabled


def test_an_unreadable_switch_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_BUILD, "maybe")
    with pytest.raises(StaticBuildError, match="ASSETPIPE_TEST_BUILD='maybe'; expected 1 or 0"):
        enabled_by_env()


def test_the_static_root_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV_STATIC_ROOT, raising=False)
    assert static_root_from_env() is None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_STATIC_ROOT, "build/static")
    assert static_root_from_env() == tmp_path / "build/static"


class FakeConfig:
    """What the plugin reads of pytest's config."""

    def __init__(self, rootpath: Path, ini: dict[str, Any]) -> None:
        self.rootpath = rootpath
        self.ini = ini

    def getini(self, name: str) -> Any:
        if name not in self.ini:
            raise ValueError(f"unknown configuration value: {name!r}")
        return self.ini[name]


def test_the_plugin_s_static_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_STATIC_ROOT, raising=False)

    def root(**ini: Any) -> tuple[Path, bool]:
        return plugin._static_root(FakeConfig(tmp_path, ini))  # type: ignore[arg-type]

    assert root(assetpipe_static_root="") == (tmp_path / ".pytest_cache/d/assetpipe/static", True)
    assert root(assetpipe_static_root="", cache_dir="/c") == (Path("/c/d/assetpipe/static"), True)
    assert root(assetpipe_static_root="out/s") == (tmp_path / "out/s", False)
    monkeypatch.setenv(ENV_STATIC_ROOT, str(tmp_path / "env"))
    assert root(assetpipe_static_root="out/s") == (tmp_path / "env", False)


def test_the_plugin_s_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_BUILD, raising=False)
    on, off = FakeConfig(tmp_path, {"assetpipe_build": True}), FakeConfig(tmp_path, {})
    off.ini["assetpipe_build"] = False
    assert plugin._enabled(on) is True  # type: ignore[arg-type]
    assert plugin._enabled(off) is False  # type: ignore[arg-type]
    monkeypatch.setenv(ENV_BUILD, "1")
    assert plugin._enabled(off) is True  # type: ignore[arg-type]
    monkeypatch.setenv(ENV_BUILD, "0")
    assert plugin._enabled(on) is False  # type: ignore[arg-type]


@pytest.fixture
def shop_tree(project: StaticProject) -> StaticProject:
    project.write("shop/site.css", 'body { background: url("stripes.svg"); }\n')
    project.write("shop/stripes.svg", "<svg/>")
    project.configure(missing_references="fail", integrity=True, **{"s3": PROJECT_OPTIONS["s3"]})
    return project


def test_a_session_build_then_a_no_change_build(shop_tree: StaticProject, tmp_path: Path) -> None:
    root = tmp_path / "cache" / "assetpipe" / "static"
    build = SessionBuild(root, owns_parent=True)
    try:
        report = build.build()
        assert str(root) == settings.STATIC_ROOT
        assert staticfiles_storage.url("shop/site.css").startswith("/static/shop/site.")
        again = SessionBuild(root).build()
    finally:
        build.deactivate()
    assert report[0].startswith(f"assetpipe: built the test STATIC_ROOT {root} in ")
    assert "assetpipe: 2 files: 2 hashed (0 reused)" in "\n".join(report)
    assert "assetpipe: 2 files: 0 hashed (2 reused), 0 files compressed" in "\n".join(again)
    assert (root / "staticfiles.json").exists()
    assert (root.parent / ".assetpipe").is_dir()  # the build state, beside it
    assert (root.parent / ".gitignore").read_text().endswith("\n*\n")
    assert str(shop_tree.root) == settings.STATIC_ROOT  # the project's again
    assert not shop_tree.root.exists()


def test_a_build_error_carries_the_build_s_own_message(
    shop_tree: StaticProject, tmp_path: Path
) -> None:
    shop_tree.write("shop/site.css", 'body {}\n\na { background: url("gone.png"); }\n')
    build = SessionBuild(tmp_path / "static")
    try:
        with pytest.raises(StaticBuildError) as info:
            build.build()
    finally:
        build.deactivate()
    assert str(info.value).splitlines() == [
        f"assetpipe: the build of the test STATIC_ROOT {tmp_path / 'static'} failed:",
        "Post-processing 'shop/site.css' failed!",
        "ValueError: 1 reference to missing files (strict mode):",
        '  shop/site.css:3: url("gone.png") -> shop/gone.png (not found)',
    ]
    assert not (tmp_path / ".gitignore").exists()  # not assetpipe's own directory
