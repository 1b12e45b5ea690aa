"""WhiteNoise and image variants: it negotiates only encodings, so a page names the variants
itself (``<picture>``); each variant is then a URL of its own, served with its type and, for a
hashed name's, as immutable as the original."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from assetpipe.serve import whitenoise_mimetypes
from assetpipe.serve.whitenoise import immutable_file_test
from tests.serve.conftest import BuiltStatic, build_static, running_wsgi
from tests.serve.fetch import fetch
from tests.serve.images.pictures import BROWSER_ACCEPTS, encode, photo, write_variants

CHROME = BROWSER_ACCEPTS["Chrome"][0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltStatic:
    built = build_static(
        tmp_path_factory.mktemp("whitenoise-images"), {"app/img/hero.jpg": encode(photo(), "jpg")}
    )
    for name in ("app/img/hero.jpg", built.manifest()["app/img/hero.jpg"]):
        write_variants(built.root / name)
    return built


@pytest.fixture(scope="module")
def whitenoise(built: BuiltStatic) -> Iterator[str]:
    with (
        override_settings(
            **built.settings,
            MIDDLEWARE=["whitenoise.middleware.WhiteNoiseMiddleware"],
            WHITENOISE_MIMETYPES=whitenoise_mimetypes(),
            WHITENOISE_IMMUTABLE_FILE_TEST=immutable_file_test,
        ),
        running_wsgi(get_wsgi_application()) as url,
    ):
        yield url


def test_variants_by_their_own_urls_and_the_original_as_it_is(
    whitenoise: str, built: BuiltStatic
) -> None:
    hashed = built.manifest()["app/img/hero.jpg"]
    for name, immutable in ((hashed, True), ("app/img/hero.jpg", False)):
        for suffix, media_type in ((".avif", "image/avif"), (".webp", "image/webp")):
            response = fetch(whitenoise, f"/static/{name}{suffix}", {"Accept": "*/*"})
            assert response.status == 200
            assert response.header("Content-Type") == media_type
            assert response.body == (built.root / f"{name}{suffix}").read_bytes()
            assert ("immutable" in (response.header("Cache-Control") or "")) is immutable, name
        # No negotiation by Accept: the original's URL is always the original.
        original = fetch(whitenoise, f"/static/{name}", {"Accept": CHROME})
        assert original.header("Content-Type") == "image/jpeg"
        assert original.body == (built.root / name).read_bytes()
        assert "Accept" not in (original.header("Vary") or "").split(", ")
