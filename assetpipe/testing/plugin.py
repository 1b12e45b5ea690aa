"""The pytest plugin: STATIC_ROOT built once at the start of the session, before any test.

Registered as the ``pytest11`` entry point ``assetpipe``, it is active when Django's settings are
configured (by pytest-django, which sets Django up before ``pytest_sessionstart``) with an
``AssetPipeStorage`` for static files. Off: ``-p no:assetpipe``, the ini option
``assetpipe_build = false`` or ``ASSETPIPE_TEST_BUILD=0``. The test STATIC_ROOT is
``ASSETPIPE_TEST_STATIC_ROOT``, else the ini option ``assetpipe_static_root`` (relative to the
rootdir), else ``d/assetpipe/static`` in pytest's cache directory (``.pytest_cache``), which
``--cache-clear`` empties.

With pytest-xdist the controller builds, in its ``pytest_sessionstart``, before xdist starts the
workers; each worker is told the STATIC_ROOT and only uses it. A worker that was told nothing
builds itself: the build lock lets the first build while the others wait, then find nothing to do.

A build error (a missing reference with ``"missing_references": "fail"``, a bad option) ends
the session before collection with the build's own message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assetpipe.testing.build import (
    STATIC_DIRNAME,
    SessionBuild,
    StaticBuildError,
    enabled_by_env,
    project_uses_assetpipe,
    static_root_from_env,
)

BUILD_INI = "assetpipe_build"
STATIC_ROOT_INI = "assetpipe_static_root"
CACHE_NAME = "assetpipe"  # the plugin's directory in pytest's cache
WORKER_INPUT = "assetpipe_static_root"  # the controller's STATIC_ROOT, in each worker's input
SESSION_BUILD = pytest.StashKey[SessionBuild]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        BUILD_INI,
        type="bool",
        default=True,
        help="assetpipe: build STATIC_ROOT before the first test (default true); "
        "ASSETPIPE_TEST_BUILD=0/1 overrides it",
    )
    parser.addini(
        STATIC_ROOT_INI,
        type="string",
        default="",
        help="assetpipe: the test STATIC_ROOT, relative to the rootdir (default "
        "<cache_dir>/d/assetpipe/static); ASSETPIPE_TEST_STATIC_ROOT overrides it",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    built_by_controller = workerinput.get(WORKER_INPUT)
    if built_by_controller is not None:
        build = SessionBuild(Path(built_by_controller))
        config.stash[SESSION_BUILD] = build
        build.activate()
        return
    try:
        if not _enabled(config) or not project_uses_assetpipe():
            return
        root, owns_parent = _static_root(config)
        build = SessionBuild(root, owns_parent=owns_parent)
        config.stash[SESSION_BUILD] = build
        build.build()
    except StaticBuildError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: tell each worker the STATIC_ROOT it built."""
    build = node.config.stash.get(SESSION_BUILD, None)
    if build is not None:
        node.workerinput[WORKER_INPUT] = str(build.root)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    build = config.stash.get(SESSION_BUILD, None)
    return build.report if build is not None else None


def pytest_unconfigure(config: pytest.Config) -> None:
    build = config.stash.get(SESSION_BUILD, None)
    if build is not None:
        build.deactivate()


def _enabled(config: pytest.Config) -> bool:
    from_env = enabled_by_env()
    return from_env if from_env is not None else bool(config.getini(BUILD_INI))


def _static_root(config: pytest.Config) -> tuple[Path, bool]:
    """The test STATIC_ROOT, and whether its directory is assetpipe's own."""
    from_env = static_root_from_env()
    if from_env is not None:
        return from_env, False
    from_ini = str(config.getini(STATIC_ROOT_INI)).strip()
    if from_ini:
        return (config.rootpath / os.path.expanduser(from_ini)).resolve(), False
    cache: pytest.Cache | None = getattr(config, "cache", None)
    if cache is not None:  # pytest's directory for a plugin, which --cache-clear empties
        return cache.mkdir(CACHE_NAME) / STATIC_DIRNAME, True
    return _cache_dir(config) / "d" / CACHE_NAME / STATIC_DIRNAME, True


def _cache_dir(config: pytest.Config) -> Path:
    """pytest's cache directory, as its cacheprovider finds it, for when that is disabled."""
    try:
        value = str(config.getini("cache_dir"))
    except ValueError:  # -p no:cacheprovider: its ini option is not registered
        value = ".pytest_cache"
    return config.rootpath / os.path.expandvars(os.path.expanduser(value))
