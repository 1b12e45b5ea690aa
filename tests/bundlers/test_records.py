"""Bundlers' records (webpack-bundle-tracker, webpack-manifest-plugin, esbuild's metafile) and
the report of content-named files nothing declares."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from assetpipe.build.bundlers.content_names import covering_pattern, looks_content_named, undeclared
from assetpipe.build.bundlers.records import Tree, esbuild_metafile, webpack_manifest, webpack_stats
from tests.conftest import StaticProject, post_processing_error

TREE = Tree(
    frozenset(
        {
            "bundles/main.f1d6aa1375219837cbfc.js",
            "bundles/assets/dot.52b065d57c2272b127bf.png",
            "bundles/manifest.json",
        }
    ),
    {"/build/out/bundles/main.f1d6aa1375219837cbfc.js": "bundles/main.f1d6aa1375219837cbfc.js"},
)


def stats(status: str = "done", **assets: str) -> bytes:
    return json.dumps(
        {
            "status": status,
            "assets": {name: {"name": name, "path": path} for name, path in assets.items()},
            "chunks": {"main": list(assets)},
        }
    ).encode()


# -- the readers, on data --------------------------------------------------------------------


def test_webpack_stats_by_path_then_by_bundle_dir() -> None:
    data = stats(
        **{
            "main.f1d6aa1375219837cbfc.js": "/build/out/bundles/main.f1d6aa1375219837cbfc.js",
            # built elsewhere: found under BUNDLE_DIR_NAME
            "assets/dot.52b065d57c2272b127bf.png": "/ci/assets/dot.52b065d57c2272b127bf.png",
            "lazy.0123456789abcdef0123.js": "/build/out/bundles/lazy.0123456789abcdef0123.js",
        }
    )
    record = webpack_stats.read(data, "/srv/webpack-stats.json", TREE, "bundles/")
    assert record is not None
    assert record.outputs == {
        "bundles/main.f1d6aa1375219837cbfc.js",
        "bundles/assets/dot.52b065d57c2272b127bf.png",
    }
    assert record.missing == ("bundles/lazy.0123456789abcdef0123.js",)
    assert record.problems() == [
        "/srv/webpack-stats.json (webpack-bundle-tracker stats) lists "
        "bundles/lazy.0123456789abcdef0123.js, which is not collected"
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"status": "compile"}', 'status "compile", the build is not complete'),
        (
            b'{"status": "error", "error": "ModuleNotFoundError", "message": "no ./x.js"}',
            'status "error", the build is not complete: no ./x.js',
        ),
    ],
)
def test_webpack_stats_of_a_build_not_done(data: bytes, problem: str) -> None:
    record = webpack_stats.read(data, "webpack-stats.json", TREE, "")
    assert record is not None and not record.outputs
    assert record.problems() == [f"webpack-stats.json (webpack-bundle-tracker stats): {problem}"]


@pytest.mark.parametrize(
    "data",
    [b"[]", b'{"status": "done"}', b'{"status": "ok", "count": 3}', b'{"name": "x"}', b"no"],
)
def test_not_webpack_stats(data: bytes) -> None:
    assert webpack_stats.read(data, "stats.json", TREE, "") is None


def test_webpack_manifest_plugin_values() -> None:
    manifest = {
        "main.js": "/static/bundles/main.f1d6aa1375219837cbfc.js",  # publicPath STATIC_URL
        "assets/dot.png": "assets/dot.52b065d57c2272b127bf.png",  # relative to the manifest
        "cdn.js": "https://cdn.example.com/cdn.0123456789abcdef0123.js",  # not this tree
        "gone.js": "gone.0123456789abcdef0123.js",
    }
    record = webpack_manifest.read(json.dumps(manifest).encode(), "bundles/manifest.json", TREE)
    assert record is not None
    assert record.outputs == {
        "bundles/main.f1d6aa1375219837cbfc.js",
        "bundles/assets/dot.52b065d57c2272b127bf.png",
    }
    assert record.missing == ("bundles/gone.0123456789abcdef0123.js",)


@pytest.mark.parametrize(
    "manifest",
    [
        {"name": "My PWA", "icons": [{"src": "icon.png"}]},
        {"src/main.js": {"file": "assets/main-BV5bdbg-.js"}},  # Vite's
        {"title": "Home", "lang": "en"},  # strings, but not output names
    ],
)
def test_not_webpack_manifests(manifest: dict[str, Any]) -> None:
    assert webpack_manifest.read(json.dumps(manifest).encode(), "manifest.json", TREE) is None


def test_esbuild_metafile_outputs_placed_by_their_common_tail() -> None:
    meta = {
        "inputs": {"src/entry.js": {"bytes": 1, "imports": []}},
        "outputs": {
            "../out/bundles/main.f1d6aa1375219837cbfc.js": {"bytes": 1, "entryPoint": "x"},
            "../out/bundles/assets/dot.52b065d57c2272b127bf.png": {"bytes": 1},
            "../out/bundles/chunk-ABCD2345.js": {"bytes": 1},
            "../server/ssr.js": {"bytes": 1},  # not written into the tree
        },
    }
    record = esbuild_metafile.read(json.dumps(meta).encode(), "bundles/meta.json", TREE)
    assert record is not None
    assert record.outputs == {
        "bundles/main.f1d6aa1375219837cbfc.js",
        "bundles/assets/dot.52b065d57c2272b127bf.png",
    }
    assert record.missing == ("bundles/chunk-ABCD2345.js",)
    assert esbuild_metafile.read(b'{"inputs": {}, "outputs": [], "x": 1}', "m.json", TREE) is None


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("bundles/main.f1d6aa1375219837cbfc.js", "bundles/*.[hash].js"),
        ("bundles/main.f1d6aa1375219837cbfc.js.map", "bundles/*.[hash].js.map"),
        ("dist/assets/main-BV5bdbg-.js", "dist/assets/*-[hash].js"),
        ("dist/shared-ChJ_j-JJ.css", "dist/*-[hash].css"),
        ("out/chunk-5XJQ2ZKA.js", "out/*-[hash].js"),
        ("app.3f9a1c2b.js", "*.[hash].js"),
        ("f1d6aa1375219837cbfc.js", "[hash].js"),
        ("js/jquery-ui-1.14.js", None),
        ("js/jquery-3.7.1.min.js", None),
        ("fonts/Inter-SemiBold.woff2", None),
        ("fonts/Roboto-BoldItalic.ttf", None),
        ("js/vendors-node_modules_lodash_js.js", None),
        ("backup-20231201.js", None),
        ("img/app.deadbeef.png", None),
        ("manifest.json", None),
    ],
)
def test_content_named_shapes(name: str, pattern: str | None) -> None:
    assert covering_pattern(name) == pattern
    assert looks_content_named(name) is (pattern is not None)


def test_undeclared_by_pattern() -> None:
    names = ["b/a.3f9a1c2b.js", "b/c.7d2e0c4a.js", "b/d-5XJQ2ZKA.js", "b/x.js", "b/e.1111aaaa.js"]
    assert undeclared(names, frozenset({"b/e.1111aaaa.js"})) == {
        "b/*-[hash].js": ["b/d-5XJQ2ZKA.js"],
        "b/*.[hash].js": ["b/a.3f9a1c2b.js", "b/c.7d2e0c4a.js"],
    }


# -- through collectstatic, with real builds -------------------------------------------------

pytestmark = pytest.mark.django_db(databases=[])


def copy_build(project: StaticProject, dist: Path) -> set[str]:
    shutil.copytree(dist, project.source, dirs_exist_ok=True)
    return {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}


def prehashed(project: StaticProject) -> set[str]:
    return set(json.loads(project.read("staticfiles.json")).get("prehashed", []))


def test_webpack_stats_in_the_tree(project: StaticProject, builds: Callable[..., Path]) -> None:
    dist = builds("webpack")
    written = copy_build(project, dist)
    shutil.copy(dist.parent / "webpack-stats.json", project.source / "webpack-stats.json")
    project.configure(missing_references="fail")
    _, err = project.collect(verbosity=1)
    assert prehashed(project) == written and len(written) == 7
    assert "look content-named" not in err
    # The stats file itself is Django's to hash, as any other file.
    assert project.manifest()["webpack-stats.json"] != "webpack-stats.json"


def test_webpack_manifest_plugin_alone(project: StaticProject, builds: Callable[..., Path]) -> None:
    dist = builds("webpack", manifest=True)
    written = copy_build(project, dist)
    project.configure(missing_references="fail")
    project.collect(verbosity=0)
    assert prehashed(project) == written - {"bundles/manifest.json"}
    assert project.manifest()["bundles/manifest.json"] != "bundles/manifest.json"


def test_a_build_not_done_warns_and_fails_under_strict(
    project: StaticProject, settings: Any, tmp_path: Path
) -> None:
    project.write("bundles/main.f1d6aa1375219837cbfc.js", "1;\n")
    stats_file = tmp_path / "webpack-stats.json"
    stats_file.write_text('{"status": "compile"}')
    settings.WEBPACK_LOADER = {"DEFAULT": {"STATS_FILE": str(stats_file)}}
    _, err = project.collect(verbosity=1)
    assert f'{stats_file} (webpack-bundle-tracker stats): status "compile"' in err
    project.configure(missing_references="fail")
    with pytest.raises((ValueError, CommandError)) as info:
        project.collect(verbosity=0)
    assert "compile" in str(post_processing_error(info, ValueError))


def test_a_missing_listed_file_is_named(project: StaticProject) -> None:
    project.write("bundles/main.f1d6aa1375219837cbfc.js", "1;\n")
    project.write(
        "bundles/webpack-stats.json",
        stats(
            **{
                "main.f1d6aa1375219837cbfc.js": "/gone/main.f1d6aa1375219837cbfc.js",
                "lazy.0123456789abcdef0123.js": "/gone/lazy.0123456789abcdef0123.js",
            }
        ),
    )
    _, err = project.collect(verbosity=1)
    assert "lists bundles/lazy.0123456789abcdef0123.js, which is not collected" in err
    assert prehashed(project) == {"bundles/main.f1d6aa1375219837cbfc.js"}
    project.configure(missing_references="fail")
    with pytest.raises((ValueError, CommandError)) as info:
        project.collect(verbosity=0)
    assert "bundles/lazy.0123456789abcdef0123.js" in str(post_processing_error(info, ValueError))


def test_undeclared_content_named_files_are_reported_with_their_pattern(
    project: StaticProject,
) -> None:
    project.write("vendor/app.3f9a1c2b.js", "1;\n")
    project.write("vendor/chunk.7d2e0c4a.js", "2;\n")
    project.write("js/jquery-ui-1.14.js", "3;\n")
    _, err = project.collect(verbosity=1)
    assert "2 files look content-named" in err
    assert '"vendor/*.[hash].js"  (2: vendor/app.3f9a1c2b.js, vendor/chunk.7d2e0c4a.js)' in err
    assert "jquery" not in err
    project.configure(prehashed=["vendor/*.[hash].js"])
    _, err = project.collect(verbosity=1)
    assert "content-named" not in err


def test_a_stats_file_that_cannot_be_read(
    project: StaticProject, settings: Any, tmp_path: Path
) -> None:
    project.write("bundles/main.f1d6aa1375219837cbfc.js", "1;\n")
    settings.WEBPACK_LOADER = {"DEFAULT": {"STATS_FILE": str(tmp_path / "nowhere.json")}}
    _, err = project.collect(verbosity=1)
    assert f"{tmp_path / 'nowhere.json'} (webpack-bundle-tracker stats): cannot be read" in err
    # Nothing declares the bundle now: the report names it with its pattern.
    assert '"bundles/*.[hash].js"  (1: bundles/main.f1d6aa1375219837cbfc.js)' in err


def test_a_stats_file_in_static_root_is_read_once(
    project: StaticProject, settings: Any, builds: Callable[..., Path]
) -> None:
    dist = builds("webpack")
    written = copy_build(project, dist)
    shutil.copy(dist.parent / "webpack-stats.json", project.source / "webpack-stats.json")
    settings.WEBPACK_LOADER = {"DEFAULT": {"STATS_FILE": str(project.root / "webpack-stats.json")}}
    project.configure(missing_references="fail")
    project.collect(verbosity=0)
    assert prehashed(project) == written


def test_esbuild_metafile_outside_the_tree(
    project: StaticProject, builds: Callable[..., Path]
) -> None:
    dist = builds("esbuild", metafile=True)
    written = copy_build(project, dist) - {"bundles/meta.json"}
    (project.source / "bundles" / "meta.json").unlink()
    project.configure(missing_references="fail", prehashed_records=[dist / "bundles" / "meta.json"])
    project.collect(verbosity=0)
    assert prehashed(project) == written and len(written) == 3


def test_webpack_manifest_outside_the_tree(
    project: StaticProject, builds: Callable[..., Path], tmp_path: Path
) -> None:
    dist = builds("webpack", manifest=True)
    written = copy_build(project, dist) - {"bundles/manifest.json"}
    (project.source / "bundles" / "manifest.json").unlink()
    # Moved beside the output, as a build that keeps it unserved would: placed by its paths.
    manifest = tmp_path / "elsewhere" / "bundles" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    shutil.copy(dist / "bundles" / "manifest.json", manifest)
    project.configure(missing_references="fail", prehashed_records=[str(manifest)])
    project.collect(verbosity=0)
    assert prehashed(project) == written


def test_bundler_records_that_are_not_records(project: StaticProject, tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "x", "private": true}')
    project.write("a.js", "1;\n")
    project.configure(prehashed_records=[str(other), str(tmp_path / "missing.json")])
    _, err = project.collect(verbosity=1)
    assert f"{other} (bundler record): is none of webpack-bundle-tracker's stats" in err
    assert f"{tmp_path / 'missing.json'} (bundler record): cannot be read" in err


def test_listed_files_without_a_hash_are_hashed_by_django(project: StaticProject) -> None:
    project.write("bundles/main.js", "1;\n")  # output.filename "[name].js"
    project.write("bundles/lazy.0123456789abcdef0123.js", "2;\n")
    project.write(
        "bundles/webpack-stats.json",
        stats(
            **{
                "main.js": "/x/main.js",
                "lazy.0123456789abcdef0123.js": "/x/lazy.0123456789abcdef0123.js",
            }
        ),
    )
    project.configure(missing_references="fail")
    project.collect(verbosity=0)
    assert prehashed(project) == {"bundles/lazy.0123456789abcdef0123.js"}
    assert project.manifest()["bundles/main.js"] != "bundles/main.js"


def test_only_files_named_like_records_are_read() -> None:
    from assetpipe.build.bundlers.prehashed import detect

    read: list[str] = []

    def loader(name: str, data: bytes) -> Callable[[], bytes]:
        def load() -> bytes:
            read.append(name)
            return data

        return load

    names = {
        "bundles/main.f1d6aa1375219837cbfc.js": b"1;",
        "data/cities.json": b"[]",
        "bundles/meta.json": json.dumps(
            {"inputs": {}, "outputs": {"out/bundles/main.f1d6aa1375219837cbfc.js": {"bytes": 2}}}
        ).encode(),
        "css/site.css": b"body{}",
    }
    paths_asked: list[bool] = []

    def source_paths() -> dict[str, str]:
        paths_asked.append(True)
        return {}

    detection = detect(
        {name: loader(name, data) for name, data in names.items()}, None, source_paths=source_paths
    )
    assert detection.prehashed == {"bundles/main.f1d6aa1375219837cbfc.js"}
    assert read == ["bundles/meta.json"]
    assert not paths_asked  # only a stats file needs the source paths
