"""The images option through collectstatic: outputs, staticfiles.json, the summary, reuse."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils.functional import empty

from assetpipe.build.pipeline import fingerprint
from assetpipe.build.state import state_path
from tests.build.images.pictures import animated_gif, decode, photo, rgba_png
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])


def write_tree(project: StaticProject) -> None:
    project.write("img/hero.jpg", photo(480, 320))
    project.write("img/icon.png", rgba_png())
    project.write("img/spinner.gif", animated_gif())
    project.write("img/logo.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>')
    project.write("img/broken.png", b"\x89PNG\r\n\x1a\nnot really")
    project.write("css/site.css", "body { background: url(../img/hero.jpg); }\n" * 20)


def reload_storage() -> None:
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def state_file(project: StaticProject) -> Path:
    return state_path(project.root.parent / ".assetpipe", project.root.resolve())


def test_variants_beside_original_and_hashed_copy(project: StaticProject) -> None:
    write_tree(project)
    project.configure(images={})
    out, err = project.collect()
    hashed = project.manifest()["img/hero.jpg"]
    for name in ("img/hero.jpg", hashed):
        original = project.read(name)
        for suffix, mode in ((".avif", "RGB"), (".webp", "RGB")):
            variant = project.read(name + suffix)
            assert len(variant) < 0.9 * len(original)
            assert decode(variant).size == (480, 320) and decode(variant).mode == mode
    # The PNG gets lossless WebP only; SVG, the animated GIF and the broken PNG get nothing.
    icon = project.manifest()["img/icon.png"]
    assert (project.root / f"{icon}.webp").exists() and not (project.root / f"{icon}.avif").exists()
    names = {p.name for p in project.root.rglob("*")}
    assert not [
        n
        for n in names
        if n.startswith(("logo", "spinner", "broken")) and n.endswith((".avif", ".webp"))
    ]
    assert "4 images converted (0 reused)" in out  # hero and icon, original and hashed copy
    assert "img/broken.png: not a readable image" in err

    stored = json.loads(project.read("staticfiles.json"))
    assert stored["images"] == {
        "img/hero.jpg": {"width": 480, "height": 320, "formats": ["avif", "webp"]},
        "img/icon.png": {"width": 64, "height": 64, "formats": ["webp"]},
    }
    assert "integrity" not in stored


def test_no_change_run_reuses_everything(project: StaticProject) -> None:
    write_tree(project)
    project.configure(images={})
    project.collect()
    before = project.files()
    out, _ = project.collect()
    assert "0 images converted (4 reused)" in out
    assert project.files() == before
    # A deleted STATIC_ROOT with the state kept: variants copied from the cache, not encoded.
    shutil.rmtree(project.root)
    out, _ = project.collect()
    assert "0 images converted (4 reused)" in out
    assert project.files() == before


def test_option_off_leaves_every_output_and_the_state_as_without_it(
    tmp_path: Path, settings: Any
) -> None:
    builds = {}
    for label, options in (("never", {}), ("off", {"images": None}), ("was_on", None)):
        project = StaticProject(tmp_path / label, settings)
        write_tree(project)
        if options is None:
            project.configure(images={})
            project.collect()
            assert any(project.root.rglob("*.avif"))
            project.configure(images=None)
        else:
            project.configure(**options)
        project.collect()
        builds[label] = project.files()
        assert b'"images"' not in state_file(project).read_bytes()
    assert builds["off"] == builds["never"]
    # Turned off again: the variants are gone, staticfiles.json is as it was.
    assert builds["was_on"] == builds["never"]
    assert not [n for n in builds["never"] if n.endswith((".avif", ".webp"))]


def state_fingerprint() -> str:
    build = staticfiles_storage.build_options()  # type: ignore[attr-defined]
    storage = staticfiles_storage._wrapped  # type: ignore[attr-defined]
    return fingerprint(storage, build)


def test_state_fingerprint_does_not_depend_on_the_option(project: StaticProject) -> None:
    project.configure()
    reload_storage()
    off = state_fingerprint()
    project.configure(images={"formats": ["webp"]})
    reload_storage()
    assert state_fingerprint() == off
    reload_storage()


def test_two_builds_in_fresh_directories_give_identical_bytes(
    tmp_path: Path, settings: Any
) -> None:
    trees = []
    for label in ("a", "b"):
        project = StaticProject(tmp_path / label, settings)
        write_tree(project)
        project.configure(images={})
        project.collect()
        trees.append(project.files())
    assert trees[0] == trees[1]
    assert any(name.endswith(".avif") for name in trees[0])


def test_with_an_edge_every_raster_image_has_every_format(
    project: StaticProject, s3_endpoint: str, make_bucket: Callable[[], str]
) -> None:
    write_tree(project)
    project.write("img/empty.png", b"")
    project.configure(
        images={},
        cdn="cloudfront",
        s3={
            "bucket_name": make_bucket(),
            "location": "static",
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        },
    )
    project.collect()
    paths = project.manifest()
    stored = json.loads(project.read("staticfiles.json"))
    for key, hashed in paths.items():
        if not key.endswith((".jpg", ".png", ".gif")):
            assert not (project.root / f"{hashed}.avif").exists()
            continue
        listed = stored["images"].get(key, {}).get("formats", [])
        for name in (key, hashed):
            original = project.read(name)
            for image_format in ("avif", "webp"):
                variant = project.read(f"{name}.{image_format}")
                if image_format in listed:
                    assert len(variant) < len(original)
                else:
                    assert variant == original  # a copy, sent as the original's type
    # Only real variants are offered to <picture>: the PNG has a lossless WebP, no AVIF.
    assert stored["images"]["img/icon.png"]["formats"] == ["webp"]
    assert "img/spinner.gif" not in stored["images"] and "img/empty.png" not in stored["images"]


def test_the_variants_of_an_image_and_its_hashed_copy_are_one_file(
    project: StaticProject, s3_endpoint: str, make_bucket: Callable[[], str]
) -> None:
    project.write("img/hero.jpg", photo(480, 320))
    project.write("img/icon.png", rgba_png())
    s3 = {
        "bucket_name": make_bucket(),
        "location": "static",
        "endpoint_url": s3_endpoint,
        "variants": "static_root_and_bucket",
    }
    project.configure(images={}, cdn="cloudfront", s3=s3)
    project.collect()
    hero, icon = project.manifest()["img/hero.jpg"], project.manifest()["img/icon.png"]
    for suffix in (".avif", ".webp"):
        assert os.path.samefile(
            project.root / f"img/hero.jpg{suffix}", project.root / f"{hero}{suffix}"
        )
    # For the edge, the PNG's .avif is the PNG itself under a second name.
    assert os.path.samefile(project.root / f"{icon}.avif", project.root / icon)
    out, _ = project.collect()
    assert "0 images converted (4 reused)" in out
