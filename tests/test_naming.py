"""The shared naming rules: what a hashed name is, and how variants are named."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.base import ContentFile

import assetpipe
from assetpipe.naming import (
    HASHED_NAME_PATTERN,
    MANIFEST_NAME,
    VARIANT_ENCODINGS,
    VARIANT_SUFFIXES,
    immutable_names,
    looks_hashed,
    looks_hashed_or_variant,
    read_paths,
    split_variant,
    variant_name,
    variant_original,
)


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("css/app.0123456789ab.css", True),
        ("LICENSE.0123456789ab", True),
        ("css/app.css", False),
        ("css/app.0123456789ab.min.css", False),  # the hash is not in Django's place
        ("css/app.0123456789AB.css", False),
        ("css.0123456789ab/app.css", False),
        ("css/app.0123456789ab.css.br", False),  # a variant: see looks_hashed_or_variant
        ("manifests/20260101T000000000000Z-0123456789ab.json", False),
    ],
)
def test_looks_hashed(name: str, hashed: bool) -> None:
    assert looks_hashed(name) is hashed
    # nginx matches the same names with the pattern as a regular expression.
    assert (re.search(HASHED_NAME_PATTERN, name) is not None) is hashed


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("css/app.0123456789ab.css", True),
        ("css/app.0123456789ab.css.br", True),
        ("css/app.0123456789ab.css.gz", True),
        ("LICENSE.0123456789ab.gz", True),
        ("css/app.css.br", False),
        ("downloads/app.tar.0123456789ab.gz", True),  # Django's name for app.tar.gz
        ("img/hero.0123456789ab.jpg.avif", True),
        ("img/hero.0123456789ab.PNG.webp", True),
        ("img/hero.0123456789ab.jpg.avif.br", True),
        ("img/hero.jpg.avif", False),
        ("img/hero.0123456789ab.avif", True),  # an AVIF original, hashed
        ("img/hero.0123456789ab.svg.avif", False),  # not a raster image's variant
        ("img/lib.0123456789ab.jpg.webp.avif", False),  # a variant of a variant: none
    ],
)
def test_looks_hashed_or_variant(name: str, hashed: bool) -> None:
    assert looks_hashed_or_variant(name) is hashed


@pytest.mark.parametrize(
    "name", ["css/app.css", "css/site.min.css", "LICENSE", "admin/js/vendor/jquery/jquery.js"]
)
def test_django_hashed_names_look_hashed(tmp_path: Path, name: str) -> None:
    storage = ManifestStaticFilesStorage(location=str(tmp_path))
    hashed = storage.hashed_name(name, ContentFile(b"body { color: red }"))
    assert looks_hashed(hashed)
    assert not looks_hashed(name)


def test_variant_names_round_trip() -> None:
    assert {suffix: e for e, suffix in VARIANT_SUFFIXES.items()} == VARIANT_ENCODINGS
    for encoding in VARIANT_SUFFIXES:
        variant = variant_name("css/app.css", encoding)
        assert split_variant(variant) == ("css/app.css", encoding)
    assert split_variant("css/app.css") == ("css/app.css", None)
    assert split_variant("img/logo.png") == ("img/logo.png", None)


@pytest.mark.parametrize(
    ("name", "original"),
    [
        ("img/hero.0123456789ab.jpg.avif", "img/hero.0123456789ab.jpg"),
        ("img/hero.jpg.webp", "img/hero.jpg"),
        ("img/hero.jpg.avif.gz", "img/hero.jpg"),
        ("css/app.css.br", "css/app.css"),
        ("img/hero.avif", "img/hero.avif"),
        ("img/logo.svg.webp", "img/logo.svg.webp"),
        ("img/hero.jpg", "img/hero.jpg"),
    ],
)
def test_variant_original(name: str, original: str) -> None:
    assert variant_original(name) == original


def test_the_manifest_name_is_djangos() -> None:
    assert ManifestStaticFilesStorage.manifest_name == MANIFEST_NAME


def test_the_manifest_name_is_spelled_once() -> None:
    # Every other module asks naming (or a storage's manifest_name): one name in one place.
    package = Path(assetpipe.__file__).parent
    spelled = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value == MANIFEST_NAME
    ]
    assert spelled == ["naming.py"]


def test_immutable_names_are_the_manifests_hashed_and_prehashed_outputs() -> None:
    manifest = json.dumps(
        {
            "paths": {"app.js": "app.0123456789ab.js", "jquery.0123456789ab.js": "x.js"},
            "version": "1.1",
            "prehashed": ["assets/main-BV5bdbg-.js"],
        }
    ).encode()
    assert immutable_names(manifest) == {"app.0123456789ab.js", "x.js", "assets/main-BV5bdbg-.js"}
    assert read_paths(b"not json") == {} and immutable_names(b"[]") == frozenset()
