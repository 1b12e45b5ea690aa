"""Which keys an edge may negotiate, and which coding an Accept-Encoding header picks."""

from __future__ import annotations

import pytest

from assetpipe.edge.negotiation import Negotiation, preferred_encoding

ENCODINGS = ("br", "gzip")
NEGOTIATION = Negotiation("static/", ENCODINGS, frozenset({"png", "woff2", "br", "gz"}))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0", None),
        ("br;q=0, gzip", "gzip"),
        ("identity", None),
        ("*", "br"),
        ("*;q=0", None),
        ("*;q=0, gzip", "gzip"),
        ("GZIP", "gzip"),
        ("Br", "br"),
        (" br ; q=0.5 , gzip ; q=0.6", "gzip"),
        ("br;q=0.5, gzip;q=0.5", "br"),
        ("gzip;q=1.0", "gzip"),
        ("gzip;q=1.001", None),
        ("gzip;q=.5", None),
        ("br;q=0.000", None),
        ("x-gzip", "gzip"),
        ("deflate", None),
        ("br, br;q=0", None),
        ("gzip,\tbr;Q=1", "br"),
        ("br;level=5", "br"),
        ("gzip;q=0.001", "gzip"),
    ],
)
def test_preferred_encoding(header: str | None, expected: str | None) -> None:
    assert preferred_encoding(header, ENCODINGS) == expected


@pytest.mark.parametrize(
    ("key", "negotiable"),
    [
        ("static/css/site.css", True),
        ("static/css/site.0123456789ab.css", True),
        ("static/LICENSE", True),
        ("static/js/empty.js", True),
        ("static/img/logo.png", False),
        ("static/img/LOGO.PNG", False),
        ("static/fonts/a.woff2", False),
        ("static/staticfiles.json", False),
        ("static/manifests/20260101T000000000000Z-0123456789ab.json", False),
        ("static/css/site.css.br", False),
        ("static/css/site.css.gz", False),
        ("media/acme/doc.txt", False),
        ("static/", False),
        ("static/" + "a" * 248 + ".css", True),  # 252 bytes: room for ".br"
        ("static/" + "a" * 249 + ".css", False),
        ("static/" + "é" * 124 + ".css", True),  # 252 bytes in UTF-8
        ("static/" + "é" * 125 + ".css", False),
    ],
)
def test_negotiable(key: str, negotiable: bool) -> None:
    assert NEGOTIATION.negotiable(key) is negotiable


def test_variant_key() -> None:
    assert NEGOTIATION.variant_key("static/a.css", "gzip") == "static/a.css.gz"
    assert NEGOTIATION.variant_key("static/a.png", "gzip") == "static/a.png"
    assert NEGOTIATION.variant_key("static/a.css", None) == "static/a.css"
    assert Negotiation("", ("gzip",), frozenset()).variant_key("a.css", "br, gzip") == "a.css.gz"
    assert not Negotiation("", (), frozenset()).negotiable("a.css")


def test_the_edge_code_reads_weights_in_one_place() -> None:
    # negotiate_image.js reads Accept with negotiate.js's helpers: one q-value loop for both
    # headers, so the two cannot drift (the node and workerd tests run both against Python).
    from assetpipe.edge import cloudflare, cloudfront

    with_images = Negotiation("static/", ENCODINGS, frozenset(), image_formats=("avif", "webp"))
    for code in (cloudfront.function_code(with_images), cloudflare.worker_js(with_images, None)):
        assert code.count("QVALUE.test(") == 1
        assert code.count("function headerWeights(") == 1
        assert "preferredImageFormat" in code
