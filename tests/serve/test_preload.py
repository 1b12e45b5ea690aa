"""Preload ``Link`` headers from the tags: what they list, in what order, within the caps, written
and read as RFC 8288 says; and the page in chromium under uvicorn and ServeStatic, each preloaded
file fetched once."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.asgi import get_asgi_application
from django.test import AsyncClient, Client, override_settings
from hypothesis import given
from hypothesis import strategies as st

from assetpipe.serve.early_hints import EarlyHints
from assetpipe.serve.preload import (
    Link,
    Preload,
    PreloadMiddleware,
    header_list,
    link_header,
    parse_links,
    record,
    recording,
)
from assetpipe.serve.servestatic import servestatic_mimetypes
from tests.serve import test_integrity_browser as integrity
from tests.serve.conftest import running_asgi
from tests.serve.fetch import fetch

site = integrity.site  # the integrity tests' build and page

PRELOAD = "assetpipe.serve.preload.PreloadMiddleware"
TAG_URL = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="(/static/[^"]+)"')


def links(value: str | None) -> list[str]:
    return [str(link) for link in parse_links([value or ""])]


def link_urls(value: str | None) -> list[str]:
    return [link.target for link in parse_links([value or ""])]


def expected_links(site: Any) -> list[str]:
    """The Link values the page's tags call for, in the order the page renders them."""
    paths = site.manifest()["paths"]
    integrity_of = site.manifest()["integrity"]

    def url(name: str) -> str:
        return "/static/" + quote(paths[name])

    def sri(name: str) -> str:
        return f'integrity="{integrity_of[paths[name]]}"'

    modules = ["app/mod/shared.mjs", "app/mod/a.mjs", "app/mod/main.mjs"]
    return [
        *(f"<{url(n)}>; rel=modulepreload; {sri(n)}" for n in modules),
        *(
            f'<{url(n)}>; rel=preload; as=style; crossorigin="anonymous"; {sri(n)}'
            for n in ("admin/css/base.css", "app/site.css")
        ),
        f'<{url("app/classic.js")}>; rel=preload; as=script; crossorigin="anonymous"; '
        + sri("app/classic.js"),
    ]


@pytest.fixture
def with_preload(site: Any, settings: Any) -> Any:
    settings.MIDDLEWARE = [PRELOAD]
    return site


def test_link_lists_what_the_tags_rendered_in_order(with_preload: Any) -> None:
    response = Client().get("/")
    html = response.content.decode()
    assert links(response["Link"]) == expected_links(with_preload)
    # Each URL an element of the page loads, once, in the order of the page.
    rendered = list(dict.fromkeys(TAG_URL.findall(html)))
    assert link_urls(response["Link"]) == rendered


def in_a_thread_of_its_own(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on a loop of its own (this thread may already run one: playwright's)."""
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(make())))
    thread.start()
    thread.join()
    return results[0]


def test_the_async_path_sends_the_same(with_preload: Any) -> None:
    response = in_a_thread_of_its_own(lambda: AsyncClient().get("/"))
    assert links(response["Link"]) == expected_links(with_preload)


def test_without_the_middleware_no_link(site: Any, settings: Any) -> None:
    settings.MIDDLEWARE = []
    response = Client().get("/")
    assert response.status_code == 200
    assert "Link" not in response


def test_outside_a_request_nothing_is_recorded(site: Any) -> None:
    from django.template import engines

    from assetpipe.serve import preload

    html = engines["django"].from_string(integrity.PAGE).render({})
    assert TAG_URL.findall(html)
    assert preload._rendered.get() is None


def test_caps_keep_the_earliest_links() -> None:
    preloads = [Preload(url=f"/static/f{i}.js", rel="preload", as_="script") for i in range(30)]
    preloads.insert(1, preloads[0])  # a file rendered twice is listed once
    assert len(links(link_header(preloads, 20, 10_000))) == 20
    capped = link_header(preloads, 100, 200)
    assert len(capped.encode()) <= 200
    assert link_urls(capped) == [f"/static/f{i}.js" for i in range(len(links(capped)))]
    assert link_header(preloads, 100, 10) == ""


def test_default_caps() -> None:
    assert PreloadMiddleware.max_links == 20
    assert PreloadMiddleware.max_bytes == 2048


@pytest.mark.parametrize(
    ("preload", "link"),
    [
        (Preload("/s/a.css", "preload", "style"), "</s/a.css>; rel=preload; as=style"),
        (
            Preload("/s/a.css", "preload", "style", True, media="print"),
            '</s/a.css>; rel=preload; as=style; crossorigin; media="print"',
        ),
        (
            Preload("/s/a.js", "modulepreload", crossorigin="use-credentials"),
            '</s/a.js>; rel=modulepreload; crossorigin="use-credentials"',
        ),
        (Preload("/s/a b.js", "modulepreload"), "</s/a%20b.js>; rel=modulepreload"),
    ],
)
def test_link_values(preload: Preload, link: str) -> None:
    assert preload.link() == link


def test_values_that_cannot_be_in_a_header_are_left_out() -> None:
    broken = Preload("/s/a.css", "preload", "style", media="screen\r\nSet-Cookie: a=b")
    with pytest.raises(ValueError, match="not a Link parameter value"):
        broken.link()
    kept = Preload("/s/b.css", "preload", "style")
    assert link_header([broken, kept], 20, 2048) == "</s/b.css>; rel=preload; as=style"


# --- RFC 8288: one reader and one writer ------------------------------------------------------


def test_quoted_values_keep_their_commas_semicolons_and_quotes() -> None:
    value = (
        '</a.css>; rel=preload; as=style; media="screen, print; x", '
        '</b.js> ; rel="modulepreload" ;integrity = "sha384-x\\"y, </c.js>; rel=preload", ,'
        "<https://e.example/d,e;f.js>;rel=preload;crossorigin"
    )
    assert parse_links([value, "</f.js>; rel=preload"]) == [
        Link("/a.css", (("rel", "preload"), ("as", "style"), ("media", "screen, print; x"))),
        Link(
            "/b.js",
            (("rel", "modulepreload"), ("integrity", 'sha384-x"y, </c.js>; rel=preload')),
        ),
        Link("https://e.example/d,e;f.js", (("rel", "preload"), ("crossorigin", None))),
        Link("/f.js", (("rel", "preload"),)),
    ]


@pytest.mark.parametrize(
    "value",
    [
        '</a.css>; rel=preload; media="screen',  # unterminated quoted-string
        "</a.css; rel=preload",  # unterminated target
        "/a.css; rel=preload",  # no target
        "</a.css> rel=preload",  # no ";"
        '</a.css>; rel=preload"x"',  # junk after a token
        "</a.css>; =preload",  # no name
        "</a.css>; rel=",  # no value
    ],
)
def test_malformed_links_are_an_error_not_a_guess(value: str) -> None:
    with pytest.raises(ValueError):
        parse_links([value])


def test_rel_names_and_repeats() -> None:
    (link,) = parse_links(['</a.js>; REL="Preload Prefetch"; rel=stylesheet'])
    assert link.rels == {"preload", "prefetch"}  # the first rel counts (RFC 8288 section 3.3)


def test_header_lists_respect_quotes_and_targets() -> None:
    assert header_list('private="Set-Cookie, X", max-age=60') == [
        'private="Set-Cookie, X"',
        "max-age=60",
    ]
    assert header_list(" , Cookie,Accept-Language ,") == ["Cookie", "Accept-Language"]


_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
_names = st.from_regex(r"[a-z][a-z0-9*-]{0,10}", fullmatch=True)


@given(
    target=st.from_regex(r"/[!#-;=?-~]{0,40}", fullmatch=True),
    params=st.lists(st.tuples(_names, st.none() | _values), max_size=6),
)
def test_what_is_written_reads_back_the_same(
    target: str, params: list[tuple[str, str | None]]
) -> None:
    link = Link(target, tuple(params))
    assert parse_links([str(link)]) == [link]
    assert parse_links([f"{link}, {link}"]) == [link, link]


# --- what the tags record ---------------------------------------------------------------------


def test_only_the_builds_files_are_recorded(site: Any, settings: Any) -> None:
    from django.template import engines

    settings.MEDIA_URL = "/media/"
    template = engines["django"].from_string(
        '{% load assetpipe %}{% static_script "app/classic.js" %}'
        '{% static_script "app/classic.js" src="/static/app/classic.js?sig=1" %}'
        '{% static_stylesheet "app/site.css" href="/media/u/7/site.css" %}'
    )
    with recording() as rendered:
        html = template.render({})
        for url in ("/media/a.js", "/static/a.js?v=1", "/static/a.js#x", "https://e.example/a.js"):
            record(Preload(url, "preload", "script"))
    assert "sig=1" in html and "/media/u/7/site.css" in html
    assert [p.url for p in rendered] == ["/static/" + quote(site.hashed("app/classic.js"))]


def test_scripts_as_their_tags_load_them(site: Any, settings: Any) -> None:
    from django.template import engines

    template = engines["django"].from_string(
        '{% load assetpipe %}{% static_script "app/classic.js" nomodule=True %}'
        '{% static_script "app/mod/a.mjs" type="module" crossorigin="use-credentials" %}'
    )
    with recording() as rendered:
        template.render({})
    assert [(p.rel, p.as_, p.crossorigin) for p in rendered] == [
        ("modulepreload", None, "use-credentials")
    ]


def test_only_html_gets_links(site: Any, settings: Any) -> None:
    from django.http import JsonResponse

    middleware = PreloadMiddleware(lambda request: JsonResponse({}))
    response = middleware.add_links(JsonResponse({}), [Preload("/s/a.js", "modulepreload")])
    assert "Link" not in response


# --- in chromium, under uvicorn with ServeStatic ---------------------------------------------


@pytest.fixture(scope="module")
def asgi(site: Any) -> Iterator[str]:
    with (
        override_settings(
            MIDDLEWARE=["assetpipe.serve.servestatic.ServeStaticMiddleware", PRELOAD],
            SERVESTATIC_MIMETYPES=servestatic_mimetypes(),
        ),
        running_asgi(get_asgi_application()) as url,
    ):
        yield url


def test_uvicorn_over_http1_offers_no_early_hints(site: Any) -> None:
    # uvicorn advertises http.response.early_hint on HTTP/2 connections only: over HTTP/1.1 the
    # wrapper passes the page through, its Link header intact.
    with override_settings(MIDDLEWARE=[PRELOAD]):
        app = EarlyHints(get_asgi_application())
        with running_asgi(app) as url:
            for _ in range(2):
                response = fetch(url, "/")
                assert response.status == 200
                assert links(response.header("Link")) == expected_links(site)
    assert app.links == {}


@pytest.mark.browser
def test_chromium_fetches_each_preloaded_file_once(
    chromium: Any, site: Any, asgi: str, tmp_path: Path
) -> None:
    link = fetch(asgi, "/").header("Link")
    assert links(link) == expected_links(site)

    def check(page: Any, record: Any) -> None:
        integrity.check_page(page, record, site)  # 0 errors, every asset with integrity
        requested = record.static_paths()
        for url in link_urls(link):
            assert requested.count(url) == 1, (url, requested)
        assert not [m for m in record.console if "preload" in m.lower()], record.console

    integrity.visit(chromium, asgi + "/", tmp_path / "page.png", check)


class WithoutCrossorigin(PreloadMiddleware):
    """Links as a hand-written header often has them: no ``crossorigin``, unlike the tags."""

    def add_links(self, response: Any, rendered: list[Preload]) -> Any:
        import dataclasses

        stripped = [dataclasses.replace(p, crossorigin=None) for p in rendered]
        return super().add_links(response, stripped)


@pytest.mark.browser
def test_a_crossorigin_mismatch_is_fetched_twice(chromium: Any, site: Any, tmp_path: Path) -> None:
    # The measurement above can see a duplicate: without the tags' crossorigin, chromium fetches
    # each stylesheet and the classic script twice, once for the preload and once for the tag.
    middleware = [
        "assetpipe.serve.servestatic.ServeStaticMiddleware",
        f"{__name__}.WithoutCrossorigin",
    ]
    with (
        override_settings(MIDDLEWARE=middleware, SERVESTATIC_MIMETYPES=servestatic_mimetypes()),
        running_asgi(get_asgi_application()) as url,
    ):
        link = fetch(url, "/").header("Link")
        assert "crossorigin" not in (link or "")
        mismatched = link_urls(link)[3:]  # the stylesheets and the classic script

        def check(page: Any, record: Any) -> None:
            page.wait_for_function("document.documentElement.dataset.modules", timeout=10_000)
            requested = record.static_paths()
            for path in mismatched:
                assert requested.count(path) == 2, (path, requested)

        integrity.visit(chromium, url + "/", tmp_path / "page.png", check)
