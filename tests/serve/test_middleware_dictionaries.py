"""Compression dictionaries through assetpipe's WhiteNoise middleware (a WSGI server) and
ServeStatic middleware (uvicorn), over real HTTP: the delta for a browser that names a
dictionary the build made one against, today's response for every other request, and the
dictionary headers on dictionary files only."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from django.utils.functional import empty

from assetpipe.build.dictionaries import dcz_decode
from assetpipe.serve import servestatic_mimetypes, whitenoise_middleware, whitenoise_mimetypes
from tests.build.test_dictionaries import script, stylesheet
from tests.dictionary_probe import wait_until_offered
from tests.serve.conftest import running_asgi, running_wsgi
from tests.serve.fetch import fetch

pytestmark = pytest.mark.django_db(databases=[])

SERVERS: dict[str, tuple[str, dict[str, Any], Callable[[], AbstractContextManager[str]]]] = {
    "whitenoise": (
        "assetpipe.serve.whitenoise.WhiteNoiseMiddleware",
        {"WHITENOISE_MIMETYPES": whitenoise_mimetypes()},
        lambda: running_wsgi(get_wsgi_application()),
    ),
    "servestatic": (
        "assetpipe.serve.servestatic.ServeStaticMiddleware",
        {"SERVESTATIC_MIMETYPES": servestatic_mimetypes()},
        lambda: running_asgi(get_asgi_application()),
    ),
}
IMMUTABLE = "max-age=315360000, public, immutable"
VARY = "Accept-Encoding, Available-Dictionary"


def available(data: bytes) -> str:
    return ":" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


class Site:
    def __init__(self, url: str, root: Path, old: dict[str, bytes], paths: dict[str, str]):
        self.url, self.root, self.old, self.paths = url, root, old, paths

    def get(self, name: str, **headers: str) -> Any:
        return fetch(
            self.url, "/static/" + name, {k.replace("_", "-"): v for k, v in headers.items()}
        )

    def new(self, logical: str) -> bytes:
        return (self.root / self.paths[logical]).read_bytes()


@pytest.fixture(params=sorted(SERVERS))
def site(request: pytest.FixtureRequest, project: Any, settings: Any) -> Iterator[Site]:
    project.configure(dictionaries={"previous_builds": 1})
    old: dict[str, bytes] = {}
    for version in (1, 2, 3):
        project.write("js/app.js", script(version))
        project.write("css/site.css", stylesheet(version))
        project.write("css/print.css", "@media print { body { color: black } }\n" * 20)
        project.collect()
        old[f"v{version}"] = project.read(project.manifest()["js/app.js"])
        old[f"css{version}"] = project.read(project.manifest()["css/site.css"])
    middleware, extra, serve = SERVERS[request.param]
    whitenoise_middleware.clear()
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]
    with override_settings(MIDDLEWARE=[middleware], ROOT_URLCONF="tests.urls", **extra):
        server = serve()
        with server as url:
            yield Site(url, project.root, old, project.manifest())
    whitenoise_middleware.clear()
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def test_a_browser_holding_the_previous_build_gets_the_delta(site: Site) -> None:
    name = site.paths["js/app.js"]
    response = site.get(
        name,
        accept_encoding="gzip, deflate, br, zstd, dcb, dcz",
        available_dictionary=available(site.old["v2"]),
    )
    assert response.status == 200
    assert response.header("Content-Encoding") == "dcz"
    plain = site.get(name, accept_encoding="br")
    for header in ("Content-Type", "Cache-Control", "Access-Control-Allow-Origin"):
        assert response.header(header) == plain.header(header)
    assert response.header("Cache-Control") == IMMUTABLE
    assert response.header("Vary") == VARY
    assert response.header("Use-As-Dictionary") == 'match="app.*.js", match-dest=("script")'
    new = site.new("js/app.js")
    assert dcz_decode(response.body, site.old["v2"], len(new)) == new
    css = site.get(
        site.paths["css/site.css"],
        accept_encoding="br, dcz",
        available_dictionary=available(site.old["css2"]),
    )
    assert css.header("Content-Encoding") == "dcz"
    assert css.header("Content-Type") == site.get(site.paths["css/site.css"]).header("Content-Type")


@pytest.mark.parametrize(
    "headers",
    [
        {"accept_encoding": "gzip, br"},  # no dictionary
        {"accept_encoding": "gzip, br, dcz", "available_dictionary": "v1"},  # older than kept
        {"accept_encoding": "gzip, br, dcz", "available_dictionary": ":bm90IGEgaGFzaA==:"},
        {"accept_encoding": "gzip, br, dcz;q=0", "available_dictionary": "v2"},
        {"accept_encoding": "gzip, br", "available_dictionary": "v2"},  # dcz not offered
    ],
    ids=["none", "stale", "malformed", "refused", "not-offered"],
)
def test_any_other_request_gets_brotli(site: Site, headers: dict[str, str]) -> None:
    if headers.get("available_dictionary") in site.old:
        headers = {
            **headers,
            "available_dictionary": available(site.old[headers["available_dictionary"]]),
        }
    response = site.get(site.paths["js/app.js"], **headers)
    assert response.status == 200
    assert response.header("Content-Encoding") == "br"
    assert response.decoded() == site.new("js/app.js")
    assert response.header("Vary") == VARY
    assert response.header("Use-As-Dictionary") == 'match="app.*.js", match-dest=("script")'


def test_dictionary_headers_on_dictionary_files_only(site: Site) -> None:
    # An unchanged file is a dictionary too (for the next build); originals and others are not.
    print_css = site.get(site.paths["css/print.css"], accept_encoding="gzip")
    assert print_css.header("Use-As-Dictionary") == 'match="print.*.css", match-dest=("style")'
    for name in ("js/app.js", "staticfiles.json"):
        plain = site.get(
            name, accept_encoding="gzip, br, dcz", available_dictionary=available(site.old["v2"])
        )
        assert plain.header("Use-As-Dictionary") is None
        assert plain.header("Content-Encoding") != "dcz"


# --- in chromium, with STATIC_URL on another origin ---------------------------------------------

PAGE = """<!doctype html>
<html><head>
<link rel="stylesheet" href="{static}{css}"{crossorigin}>
<script type="module" src="{static}{js}"{crossorigin}></script>
</head><body><p id="marker">page</p></body></html>
"""


@contextmanager
def page_server(directory: Path) -> Iterator[str]:
    """The pages, from another origin than the static files: another port of ``localhost``,
    a secure context as dictionaries need; the same site, as ``static.example.com`` is for
    ``www.example.com``."""
    handler = partial(QuietFiles, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def readable_everywhere(app: Any) -> Any:
    """``app`` with ``Access-Control-Allow-Origin: *`` on its 404s as well (WhiteNoise sends it
    on every file), so that the probes' answers are readable as a CDN's would be."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            if not any(name.lower() == "access-control-allow-origin" for name, _ in headers):
                headers = [*headers, ("Access-Control-Allow-Origin", "*")]
            return start_response(status, headers, *args)

        return app(environ, start)

    return wrapped


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def open_page(
    context: Any, url: str, *, keep: list[str] | None = None
) -> dict[str, dict[str, str | None]]:
    """Load ``url``; for each stylesheet and script, what chromium offered and received.
    ``keep``: the names to wait for until chromium holds them as dictionaries."""
    seen: dict[str, dict[str, str | None]] = {}

    def record(response: Any) -> None:
        if response.url.endswith((".css", ".js")):
            seen[response.url.rsplit("/", 1)[1]] = {
                "encoding": response.all_headers().get("content-encoding"),
                "available": response.request.all_headers().get("available-dictionary"),
            }

    page = context.new_page()
    page.on("response", record)
    page.goto(url, wait_until="load")
    page.wait_for_function("window.appLoaded === true")
    if keep:
        wait_until_offered(page, keep)
    page.close()
    return seen


@pytest.mark.parametrize("crossorigin", [True, False], ids=["cors", "no-cors"])
def test_chromium_uses_a_dictionary_across_origins_only_with_cors(
    project: Any, chromium: Any, tmp_path: Path, crossorigin: bool
) -> None:
    """RFC 9842: a dictionary from another origin is used only where CORS lets the page read
    it. With ``crossorigin`` on the tags (and WhiteNoise's Access-Control-Allow-Origin) a
    returning visitor gets deltas. Without it the stylesheet is fetched without CORS: chromium
    keeps no dictionary of it and gets brotli; a module script is fetched with CORS whatever its
    attributes, so it still gets its delta."""
    project.configure(dictionaries={})
    pages = tmp_path / "pages"
    pages.mkdir()
    attribute = ' crossorigin="anonymous"' if crossorigin else ""
    whitenoise_middleware.clear()
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]
    with (
        override_settings(
            MIDDLEWARE=["assetpipe.serve.whitenoise.WhiteNoiseMiddleware"],
            ROOT_URLCONF="tests.urls",
            WHITENOISE_AUTOREFRESH=True,  # each build served as soon as it is written
            **SERVERS["whitenoise"][1],
        ),
        running_wsgi(readable_everywhere(get_wsgi_application())) as static_origin,
        page_server(pages) as origin,
    ):
        context = chromium.new_context()
        try:
            for version in (1, 2):
                project.write("js/app.js", script(version) + "\nwindow.appLoaded = true;\n")
                project.write("css/site.css", stylesheet(version))
                project.collect()
                manifest = project.manifest()
                (pages / f"{version}.html").write_text(
                    PAGE.format(
                        static=static_origin.replace("127.0.0.1", "localhost") + "/static/",
                        css=manifest["css/site.css"],
                        js=manifest["js/app.js"],
                        crossorigin=attribute,
                    )
                )
                # The visitor of build 1 keeps its files as dictionaries where CORS allows.
                seen = open_page(
                    context,
                    f"{origin}/{version}.html",
                    # The visitor of build 1 holds what CORS lets it keep: both files, or the
                    # module script alone.
                    keep=None
                    if version == 2
                    else [manifest["js/app.js"]]
                    + ([manifest["css/site.css"]] if crossorigin else []),
                )
        finally:
            context.close()
            whitenoise_middleware.clear()
            staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]
    css, js = (manifest[logical].rsplit("/", 1)[1] for logical in ("css/site.css", "js/app.js"))
    assert seen[js]["available"] is not None and seen[js]["encoding"] == "dcz", seen
    if crossorigin:
        assert seen[css]["available"] is not None and seen[css]["encoding"] == "dcz", seen
    else:
        assert seen[css] == {"available": None, "encoding": "br"}, seen
