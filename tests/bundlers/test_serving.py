"""The nginx configuration and WhiteNoise's immutable test for prehashed names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import override_settings

from assetpipe.headers import IMMUTABLE_CACHE_CONTROL as IMMUTABLE
from assetpipe.serve.nginx import render_snippet, static_site
from assetpipe.serve.whitenoise import immutable_file_test

PREHASHED = ["assets/main-BV5bdbg-.js", "assets/logo-BuPIv-2h.svg"]


def write_manifest(root: Path, prehashed: list[str] | None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    payload: dict[str, object] = {"paths": {n: n for n in prehashed or []}, "version": "1.1"}
    if prehashed is not None:
        payload["prehashed"] = prehashed
    (root / "staticfiles.json").write_text(json.dumps(payload))


def test_nginx_gives_prehashed_names_exact_immutable_locations(tmp_path: Path) -> None:
    write_manifest(tmp_path, [*PREHASHED, 'bad"name.js'])
    snippet = render_snippet(static_site("/static/", tmp_path))
    for name in PREHASHED:
        block = snippet.split(f'location = "/static/{name}" {{', 1)[1].split("}", 1)[0]
        assert f'add_header Cache-Control "{IMMUTABLE}";' in block
    assert "bad" not in snippet  # a name nginx would misread is left to the 60 s default
    assert "regenerate this configuration after each build" in snippet


def test_nginx_without_prehashed_names_is_unchanged(tmp_path: Path) -> None:
    write_manifest(tmp_path / "built", None)
    built = static_site("/static/", tmp_path / "built")
    assert built.prehashed == ()
    assert static_site("/static/", tmp_path / "not-built").prehashed == ()
    assert "location =" not in render_snippet(built)


@pytest.mark.parametrize(
    ("url", "immutable"),
    [
        ("/static/assets/main-BV5bdbg-.js", True),
        ("/static/css/site.0123456789ab.css", True),
        ("/static/css/site.css", False),
        ("/static/lib.deadbeefcafe.css", False),
        ("/static/lib.deadbeefcafe.4f1d2c3b4a59.css", True),
        ("/static/assets/other-BV5bdbg-.js", False),
        ("/elsewhere/assets/main-BV5bdbg-.js", False),
    ],
)
def test_whitenoise_immutable_file_test(tmp_path: Path, url: str, immutable: bool) -> None:
    write_manifest(tmp_path, PREHASHED)
    manifest = tmp_path / "staticfiles.json"
    payload = json.loads(manifest.read_text())
    payload["paths"]["css/site.css"] = "css/site.0123456789ab.css"
    # An unhashed original that merely looks hashed: the build says it is not content-named.
    payload["paths"]["lib.deadbeefcafe.css"] = "lib.deadbeefcafe.4f1d2c3b4a59.css"
    manifest.write_text(json.dumps(payload))
    with override_settings(STATIC_ROOT=str(tmp_path), STATIC_URL="/static/"):
        assert immutable_file_test(str(tmp_path / "x"), url) is immutable


def test_whitenoise_test_reads_a_new_build(tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=str(tmp_path), STATIC_URL="/static/"):
        write_manifest(tmp_path, [])
        assert not immutable_file_test("", "/static/assets/main-BV5bdbg-.js")
        write_manifest(tmp_path, PREHASHED)
        assert immutable_file_test("", "/static/assets/main-BV5bdbg-.js")
