"""Real bundler builds of the app under tests/bundlers/app, made by the test run itself.

Each bundler's packages are installed from the committed package.json and package-lock.json
in tests/bundlers/<variant> (:mod:`tests.npm`); the build itself runs in the test's temp dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import npm
from tests.serve.conftest import chromium  # noqa: F401  (the same browser fixture)

HERE = Path(__file__).resolve().parent
APP = HERE / "app"


def node_modules(variant: str) -> Path:
    """``node_modules`` for tests/bundlers/<variant>, installed on first use."""
    return npm.node_modules(HERE / variant, variant)


def prepare(variant: str, work: Path, main_suffix: str = "") -> Path:
    """A copy of the app in ``work`` that can import ``variant``'s packages."""
    modules = node_modules(variant)
    shutil.copytree(APP, work)
    (work / "node_modules").symlink_to(modules)
    if main_suffix:
        main = work / "src" / "main.js"
        main.write_text(main.read_text() + main_suffix)
    return work


def vite_build(variant: str, work: Path, *, dot_vite: bool = False, main_suffix: str = "") -> Path:
    """Build the app with Vite; returns the outDir, a STATICFILES_DIRS entry."""
    app = prepare(variant, work / "app", main_suffix)
    out = work / "dist"
    env = {"BUNDLE_OUT_DIR": str(out), "BUNDLE_MANIFEST": "true" if dot_vite else ""}
    npm.run(["node", "node_modules/vite/bin/vite.js", "build", "--logLevel", "error"], app, env)
    return out


def esbuild_build(work: Path, *, metafile: bool = False) -> Path:
    """Build app/esbuild with code splitting into ``<out>/bundles``; returns ``<out>``.

    With ``metafile``, the entry is content-named too and ``bundles/meta.json`` records it all.
    """
    app = prepare("esbuild", work / "app")
    out = work / "out"
    npm.run(
        [
            "node_modules/.bin/esbuild",
            "esbuild/entry.js",
            "--bundle",
            "--splitting",
            "--format=esm",
            "--minify",
            f"--outdir={out / 'bundles'}",
            "--entry-names=[name]-[hash]" if metafile else "--entry-names=[name]",
            "--chunk-names=chunks/[name]-[hash]",
            *([f"--metafile={out / 'bundles' / 'meta.json'}"] if metafile else []),
            "--log-level=error",
        ],
        app,
    )
    return out


def webpack_build(work: Path, *, manifest: bool = False) -> Path:
    """Build app/webpack into ``<out>/bundles``; returns ``<out>``. webpack-bundle-tracker
    writes ``webpack-stats.json`` beside ``<out>``, outside the collected tree; with
    ``manifest``, webpack-manifest-plugin writes ``bundles/manifest.json`` too."""
    app = prepare("webpack", work / "app")
    out = work / "out"
    env = {
        "BUNDLE_OUT_DIR": str(out / "bundles"),
        "BUNDLE_STATS_DIR": str(work),
        "BUNDLE_MANIFEST": "true" if manifest else "",
    }
    npm.run(["node", "node_modules/webpack-cli/bin/cli.js", "--no-stats"], app, env)
    return out


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``builds(kind, **options)``: one build per distinct arguments in the session."""
    made: dict[tuple[object, ...], Path] = {}

    def build(kind: str, **options: object) -> Path:
        key = (kind, *sorted(options.items()))
        if key not in made:
            work = tmp_path_factory.mktemp(f"build-{kind}")
            if kind == "esbuild":
                made[key] = esbuild_build(work, **options)  # type: ignore[arg-type]
            elif kind == "webpack":
                made[key] = webpack_build(work, **options)  # type: ignore[arg-type]
            else:
                made[key] = vite_build(kind, work, **options)  # type: ignore[arg-type]
        return made[key]

    return build
