"""Prehashed files: parsed from Vite manifests or matched by the ``prehashed`` option."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.build.bundlers.prehashed import (
    bundle_root,
    compile_patterns,
    parse_vite_manifest,
    prehashed_names,
)
from assetpipe.naming import read_prehashed
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

VITE_MANIFEST = {
    "src/main.js": {
        "file": "assets/main-BV5bdbg-.js",
        "isEntry": True,
        "imports": ["_shared-ChJ_j-JJ.js"],
        "dynamicImports": ["src/lazy.js"],
        "css": ["assets/main-B7PI925R.css"],
        "assets": ["assets/logo-BuPIv-2h.svg"],
    },
    "_shared-ChJ_j-JJ.js": {"file": "assets/shared-ChJ_j-JJ.js"},
    "src/lazy.js": {"file": "assets/lazy-B2H3sXNv.js", "isDynamicEntry": True},
}


def loaders(files: dict[str, bytes]) -> dict[str, Callable[[], bytes]]:
    return {name: functools.partial(bytes, data) for name, data in files.items()}


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("dist/*", ["dist/app.js"], ["dist/js/app.js", "other/app.js"]),
        ("dist/**", ["dist/app.js", "dist/js/app.js"], ["distx/app.js"]),
        ("bundles/**/*-[hash].js", ["bundles/a-3F9A1C2B.js", "bundles/x/a-ChJ_j-JJ.js"], []),
        ("bundles/**/*-[hash].js", [], ["bundles/jquery-ui-1.14.js", "bundles/a-3F9A1C2B.css"]),
        ("js/app.[hash].js", ["js/app.3f9a1c2b.js"], ["js/app.x.js", "js/appX3f9a1c2b.js"]),
        ("a?c.js", ["abc.js"], ["a/c.js"]),
    ],
)
def test_pattern_syntax(pattern: str, matches: list[str], misses: list[str]) -> None:
    compiled = compile_patterns([pattern])
    assert compiled is not None
    assert all(compiled.match(name) for name in matches)
    assert not any(compiled.match(name) for name in misses)


@pytest.mark.parametrize("bad", ["dist/*", ["/static/x"], ["../x"], [""], [3]])
def test_bad_patterns_name_the_option(bad: object) -> None:
    with pytest.raises(ImproperlyConfigured, match="prehashed"):
        compile_patterns(bad)  # type: ignore[arg-type]


def test_vite_manifest_lists_its_outputs_relative_to_the_bundle_root() -> None:
    files = {
        "front/manifest.json": json.dumps(VITE_MANIFEST).encode(),
        "front/assets/main-BV5bdbg-.js": b"x",
        "front/assets/main-BV5bdbg-.js.map": b"{}",
        "front/assets/shared-ChJ_j-JJ.js": b"x",
        "front/assets/lazy-B2H3sXNv.js": b"x",
        "front/assets/main-B7PI925R.css": b"x",
        "front/assets/logo-BuPIv-2h.svg": b"x",
        "front/assets/unlisted.js": b"x",
        "front/favicon.svg": b"x",
        "other/assets/main-BV5bdbg-.js": b"x",
    }
    assert prehashed_names(loaders(files), None) == {
        name
        for name in files
        if name.startswith("front/assets/") and name != "front/assets/unlisted.js"
    }


def test_unlisted_worker_named_by_a_listed_chunk_is_prehashed() -> None:
    # Vite 7 leaves worker chunks out of its manifest.
    manifest = {"src/main.js": {"file": "assets/main-ByTCX02X.js", "isEntry": True}}
    files = {
        ".vite/manifest.json": json.dumps(manifest).encode(),
        "assets/main-ByTCX02X.js": b'new Worker(new URL("/static/assets/worker-ALnvsRt3.js"))',
        "assets/worker-ALnvsRt3.js": b"",
        "assets/other.js": b"",
    }
    assert prehashed_names(loaders(files), None) == {
        "assets/main-ByTCX02X.js",
        "assets/worker-ALnvsRt3.js",
    }


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b"{}",
        json.dumps({"name": "My PWA", "icons": [{"src": "icon.png"}]}).encode(),
        json.dumps({"main.js": "main.3f9a1c2b.js"}).encode(),  # webpack-manifest-plugin
        json.dumps({"a": {"file": "a.js", "css": "a.css"}}).encode(),
    ],
)
def test_other_manifests_are_not_vite_manifests(data: bytes) -> None:
    assert parse_vite_manifest(data) is None
    assert prehashed_names(loaders({"manifest.json": data, "a.js": b""}), None) == frozenset()


def test_bundle_roots() -> None:
    assert bundle_root("manifest.json") == ""
    assert bundle_root(".vite/manifest.json") == ""
    assert bundle_root("dist/.vite/manifest.json") == "dist/"
    assert bundle_root("dist/manifest.json") == "dist/"


# -- through collectstatic -------------------------------------------------------------------


def write_vite_tree(project: StaticProject) -> None:
    project.write("manifest.json", json.dumps(VITE_MANIFEST))
    project.write(
        "assets/main-BV5bdbg-.js",
        'import{a}from"./shared-ChJ_j-JJ.js";import("./lazy-B2H3sXNv.js");'
        'const u="/static/assets/logo-BuPIv-2h.svg";\n' + "/* padding */\n" * 200,
    )
    project.write("assets/shared-ChJ_j-JJ.js", "export const a=1;\n")
    project.write("assets/lazy-B2H3sXNv.js", 'import{a}from"./main-BV5bdbg-.js";\n')
    project.write(
        "assets/main-B7PI925R.css", "body{background:url(/static/assets/logo-BuPIv-2h.svg)}"
    )
    project.write("assets/logo-BuPIv-2h.svg", "<svg/>")
    project.write("css/site.css", 'h1 { background: url("../assets/logo-BuPIv-2h.svg"); }\n')


@pytest.mark.parametrize("js_module_imports", [False, True])
def test_vite_output_keeps_its_names_and_bytes(
    project: StaticProject, js_module_imports: bool
) -> None:
    write_vite_tree(project)
    project.configure(js_module_imports=js_module_imports, missing_references="fail")
    project.collect(verbosity=0)

    raw = json.loads(project.read("staticfiles.json"))
    paths = raw["paths"]
    listed = [n for n in paths if n.startswith("assets/")]
    assert len(listed) == 5
    assert all(paths[name] == name for name in listed)
    assert raw["prehashed"] == sorted(listed)
    for name in listed:
        assert project.read(name) == (project.source / name).read_bytes()
    # Compressed like any servable file (the small ones are not worth it).
    assert (project.root / "assets/main-BV5bdbg-.js.br").exists()
    # No second name for any of them, and the Django side points at the bundler's name.
    written = [n for n in project.files() if not n.endswith((".br", ".gz"))]
    assert sorted(n for n in written if n.startswith("assets/")) == sorted(listed)
    assert paths["css/site.css"] != "css/site.css"
    assert b"../assets/logo-BuPIv-2h.svg" in project.read(paths["css/site.css"])


def test_pattern_option(project: StaticProject) -> None:
    project.write("bundles/app.3f9a1c2b.js", 'import("./chunk.7d2e0c4a.js");\n')
    project.write("bundles/chunk.7d2e0c4a.js", "export default 1;\n")
    project.write("js/plain.js", "1;\n")
    project.configure(prehashed=["bundles/*.[hash].js"], js_module_imports=True)
    project.collect(verbosity=0)
    paths = project.manifest()
    assert paths["bundles/app.3f9a1c2b.js"] == "bundles/app.3f9a1c2b.js"
    assert paths["bundles/chunk.7d2e0c4a.js"] == "bundles/chunk.7d2e0c4a.js"
    assert paths["js/plain.js"] != "js/plain.js"


def test_changed_bytes_under_a_prehashed_name_warn(project: StaticProject) -> None:
    write_vite_tree(project)
    project.collect(verbosity=0)
    project.write("assets/shared-ChJ_j-JJ.js", "export const a=2;\n")
    _, err = project.collect(verbosity=1)
    assert "assets/shared-ChJ_j-JJ.js" in err and "changed under the same name" in err
    _, err = project.collect(verbosity=1)
    assert "changed under the same name" not in err


def test_a_file_that_stops_being_prehashed_is_hashed_again(project: StaticProject) -> None:
    write_vite_tree(project)
    project.collect(verbosity=0)
    (project.source / "manifest.json").unlink()
    project.collect(verbosity=0)
    raw = json.loads(project.read("staticfiles.json"))
    assert "prehashed" not in raw
    assert raw["paths"]["assets/shared-ChJ_j-JJ.js"] != "assets/shared-ChJ_j-JJ.js"


def test_without_bundler_output_the_manifest_is_djangos(
    project: StaticProject, settings: Any, tmp_path: Path
) -> None:
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.AppDirectoriesFinder"]
    finders.get_finder.cache_clear()  # type: ignore[attr-defined]
    project.collect(verbosity=0)
    ours = project.read("staticfiles.json")
    settings.STATIC_ROOT = str(tmp_path / "django")
    settings.STORAGES = {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    theirs = json.loads((tmp_path / "django" / "staticfiles.json").read_bytes())
    # Django 6.1 sorts the paths, earlier releases keep the finders' order: same bytes sorted.
    theirs["paths"] = dict(sorted(theirs["paths"].items()))
    assert ours == json.dumps(theirs).encode()
    assert read_prehashed(ours) == frozenset()
