"""``{% static_picture %}`` over a real build's staticfiles.json, parsed as a browser would."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import Context, Template
from django.utils.functional import empty

from tests.build.images.pictures import photo, rgba_png
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

Element = tuple[str, dict[str, str | None]]


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.closed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.closed.append(tag)


def parse(html: str) -> tuple[list[Element], list[str]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements, parser.closed


def reload_storage() -> None:
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def render(source: str, **context: object) -> str:
    return Template("{% load assetpipe %}" + source).render(Context(context))


@pytest.fixture
def built(project: StaticProject) -> Iterator[StaticProject]:
    project.write("img/hero.jpg", photo(480, 320))
    project.write("img/icon.png", rgba_png())
    project.write("img/logo.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>')
    project.configure(images={})
    project.collect()
    reload_storage()
    yield project
    reload_storage()


def test_picture_lists_each_kept_variant_then_the_img(built: StaticProject) -> None:
    hashed = "/static/" + built.manifest()["img/hero.jpg"]
    html = render(
        '{% static_picture "img/hero.jpg" alt=alt loading="lazy" class="hero" sizes="50vw" %}',
        alt='A "hero" <image> & more',
    )
    elements, closed = parse(html)
    assert elements == [
        ("picture", {}),
        ("source", {"type": "image/avif", "srcset": hashed + ".avif"}),
        ("source", {"type": "image/webp", "srcset": hashed + ".webp"}),
        (
            "img",
            {
                "src": hashed,
                "width": "480",
                "height": "320",
                "alt": 'A "hero" <image> & more',
                "loading": "lazy",
                "class": "hero",
                "sizes": "50vw",
            },
        ),
    ]
    assert closed == ["picture"]
    assert "integrity" not in html
    # Every URL it names is a file the build wrote.
    for _, attrs in elements:
        url = attrs.get("srcset") or attrs.get("src")
        if url:
            assert (built.root / url.removeprefix("/static/")).is_file()


def test_only_formats_the_build_kept(built: StaticProject) -> None:
    elements, _ = parse(render('{% static_picture "img/icon.png" alt="" %}'))
    assert [(tag, attrs.get("type")) for tag, attrs in elements] == [
        ("picture", None),
        ("source", "image/webp"),  # lossless WebP; no AVIF of a PNG by default
        ("img", None),
    ]
    assert elements[-1][1]["width"] == "64" and elements[-1][1]["alt"] == ""


def test_explicit_width_and_height_win(built: StaticProject) -> None:
    elements, _ = parse(render('{% static_picture "img/hero.jpg" width=240 height=160 %}'))
    assert elements[-1][1]["width"] == "240" and elements[-1][1]["height"] == "160"


def test_an_image_without_data_is_a_plain_img(built: StaticProject) -> None:
    hashed = "/static/" + built.manifest()["img/logo.svg"]
    html = render('{% static_picture "img/logo.svg" alt="logo" %}')
    assert parse(html) == ([("img", {"src": hashed, "alt": "logo"})], [])


def test_option_off_renders_a_plain_img(project: StaticProject) -> None:
    project.write("img/hero.jpg", photo(480, 320))
    project.collect()
    reload_storage()
    hashed = "/static/" + project.manifest()["img/hero.jpg"]
    assert parse(render('{% static_picture "img/hero.jpg" alt="x" %}')) == (
        [("img", {"src": hashed, "alt": "x"})],
        [],
    )
    reload_storage()


def test_debug_names_no_variant(built: StaticProject, settings: Any) -> None:
    settings.DEBUG = True
    html = render('{% static_picture "img/hero.jpg" alt="x" %}')
    # The development server serves the finders' files: the plain name, no variant.
    assert parse(html) == ([("img", {"src": "/static/img/hero.jpg", "alt": "x"})], [])


def test_a_missing_image_fails_like_static(built: StaticProject) -> None:
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        render('{% static_picture "img/nope.jpg" %}')
