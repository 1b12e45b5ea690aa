"""The generated nginx configuration, served by a real nginx on a STATIC_ROOT built by assetpipe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from assetpipe.headers import IMMUTABLE_CACHE_CONTROL as IMMUTABLE
from assetpipe.naming import HASHED_NAME_PATTERN
from assetpipe.serve.nginx import render_server, render_snippet, static_site
from tests.serve.conftest import (
    DOTFILE_SECRET,
    OUTSIDE_SECRET,
    BuiltStatic,
    NginxServer,
    running_nginx,
    running_wsgi,
)
from tests.serve.fetch import fetch

pytestmark = pytest.mark.nginx

HASHED = re.compile(HASHED_NAME_PATTERN)


@pytest.fixture(scope="module")
def nginx(
    built_static: BuiltStatic, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    # A state directory configured inside STATIC_ROOT must be denied by name.
    inner_state = built_static.root / "build-state"
    inner_state.mkdir(exist_ok=True)
    (inner_state / "state.json").write_bytes(DOTFILE_SECRET)
    site = static_site("/static/", built_static.root, private_dirs=(inner_state,))
    snippet = render_snippet(site)

    # The project directory as document root is a realistic mistake the snippet must survive:
    # without the dotfile rule, assetpipe's state beside STATIC_ROOT would be served from it.
    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n root {built_static.site};\n{snippet}\n}}"

    with running_nginx(tmp_path_factory.mktemp("nginx"), server) as server_:
        yield server_


def static_files(built: BuiltStatic) -> list[str]:
    """Every servable name in STATIC_ROOT: originals and hashed copies, no variants or dotfiles."""
    names = []
    for path in sorted(built.root.rglob("*")):
        name = path.relative_to(built.root).as_posix()
        private = "/." in f"/{name}" or name.startswith("build-state/")
        if path.is_file() and path.suffix not in (".br", ".gz") and not private:
            names.append(name)
    return names


def url(name: str) -> str:
    return "/static/" + quote(name)


def test_tree_has_hashed_copies_and_variants(built_static: BuiltStatic) -> None:
    names = static_files(built_static)
    assert any(HASHED.search(name) for name in names)
    assert (
        (built_static.root / built_static.manifest()["app/css/site.css"])
        .with_suffix(".css.br")
        .exists()
    )


@pytest.mark.parametrize("accept", ["br", "gzip", "gzip, deflate, br, zstd", None])
def test_negotiates_precompressed_variants(
    nginx: NginxServer, built_static: BuiltStatic, accept: str | None
) -> None:
    headers = {"Accept-Encoding": accept} if accept else {}
    expected_encodings = set()
    for name in static_files(built_static):
        original = built_static.root / name
        response = fetch(nginx.url, url(name), headers)
        assert response.status == 200, name
        has = {e for e, s in (("br", ".br"), ("gzip", ".gz")) if Path(f"{original}{s}").exists()}
        expected = None
        if accept and "br" in accept and "br" in has:
            expected = "br"
        elif accept and "gzip" in accept and "gzip" in has:
            expected = "gzip"
        assert response.header("Content-Encoding") == expected, name
        assert response.decoded() == original.read_bytes(), name
        if has:
            assert response.header("Vary") == "Accept-Encoding", name
        expected_encodings.add(expected)
    # The tree is built so that each case is exercised, not vacuously true.
    if accept:
        assert expected_encodings - {None}


def test_cache_control_immutable_for_hashed_names_only(
    nginx: NginxServer, built_static: BuiltStatic
) -> None:
    manifest = built_static.manifest()
    for original, hashed in manifest.items():
        for name, cache_control in ((hashed, IMMUTABLE), (original, "public, max-age=60")):
            response = fetch(nginx.url, url(name), {"Accept-Encoding": "br"})
            assert response.status == 200
            assert response.header("Cache-Control") == cache_control, name
            assert response.header("X-Content-Type-Options") == "nosniff"
    # The manifest is not content-hashed: it must be revalidated after a deploy.
    response = fetch(nginx.url, "/static/staticfiles.json")
    assert response.header("Cache-Control") == "public, max-age=60"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app/css/site.css", "text/css; charset=utf-8"),
        ("app/js/app.js", "text/javascript; charset=utf-8"),
        ("app/ünïcode name.txt", "text/plain; charset=utf-8"),
        ("app/img/logo.svg", "image/svg+xml"),
        ("app/img/dot.png", "image/png"),
        ("app/data/info.json", "application/json"),
    ],
)
def test_content_type(
    nginx: NginxServer, built_static: BuiltStatic, name: str, content_type: str
) -> None:
    hashed = built_static.manifest()[name]
    for served in (name, hashed):
        for accept in ("br", "gzip", "identity"):
            response = fetch(nginx.url, url(served), {"Accept-Encoding": accept})
            assert response.status == 200
            assert response.header("Content-Type") == content_type, (served, accept)


@pytest.mark.parametrize("accept", ["br", "gzip", "identity"])
def test_conditional_requests(nginx: NginxServer, built_static: BuiltStatic, accept: str) -> None:
    name = url(built_static.manifest()["app/css/site.css"])
    first = fetch(nginx.url, name, {"Accept-Encoding": accept})
    etag, last_modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and last_modified

    by_etag = fetch(nginx.url, name, {"Accept-Encoding": accept, "If-None-Match": etag})
    assert by_etag.status == 304
    assert by_etag.body == b""
    assert by_etag.header("Cache-Control") == IMMUTABLE

    by_date = fetch(
        nginx.url, name, {"Accept-Encoding": accept, "If-Modified-Since": last_modified}
    )
    assert by_date.status == 304

    changed = fetch(nginx.url, name, {"Accept-Encoding": accept, "If-None-Match": '"other"'})
    assert changed.status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/.env",
        "/static/app/.hidden/x.css",
        "/static/%2eenv",
        "/static/app/%2Ehidden/x.css",
        "/.assetpipe/",
        "/static/../.assetpipe/",
        "/static/%2e%2e/.assetpipe/",
        "/static/../secret.txt",
        "/static/../../secret.txt",
        "/static/..%2f..%2fsecret.txt",
        "/static/%2e%2e/%2e%2e/secret.txt",
        "/static/..\\..\\secret.txt",
        "/static../secret.txt",
        "/static../../secret.txt",
        "/static/app/../../../secret.txt",
        "/static//../../secret.txt",
        "/static/../../../../../../../../etc/passwd",
        "/static/",
        "/static/app/",
        "/static/build-state/state.json",
        "/static/build-state/",
        "/static/app/../build-state/state.json",
    ],
)
def test_private_paths_are_not_served(nginx: NginxServer, path: str) -> None:
    response = fetch(nginx.url, path)
    assert response.status in (400, 403, 404), path
    assert DOTFILE_SECRET not in response.body
    assert OUTSIDE_SECRET not in response.body
    assert b"root:" not in response.body


def test_build_state_is_never_served(nginx: NginxServer, built_static: BuiltStatic) -> None:
    state_files = [
        p for p in built_static.site.rglob("*") if p.is_file() and ".assetpipe" in p.parts
    ]
    assert state_files, "assetpipe keeps its build state beside STATIC_ROOT"
    for path in state_files:
        relative = path.relative_to(built_static.site).as_posix()
        for candidate in (f"/{relative}", f"/static/../{relative}"):
            assert fetch(nginx.url, candidate).status == 404, candidate


def test_server_block_serves_static_and_proxies_the_rest(
    built_static: BuiltStatic, tmp_path: Path
) -> None:
    def app(environ: dict[str, object], start_response):  # type: ignore[no-untyped-def]
        body = f"app saw {environ['PATH_INFO']} for {environ.get('HTTP_HOST')}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    site = static_site("/static/", built_static.root)
    with (
        running_wsgi(app) as upstream,
        running_nginx(
            tmp_path,
            lambda listen: render_server(
                site, listen=listen, upstream=upstream, server_name="shop.example"
            ),
        ) as server,
    ):
        proxied = fetch(server.url, "/checkout/", {"Host": "shop.example"})
        assert proxied.status == 200
        assert proxied.body == b"app saw /checkout/ for shop.example"

        hashed = built_static.manifest()["app/js/app.js"]
        static = fetch(server.url, url(hashed), {"Accept-Encoding": "br"})
        assert static.header("Content-Encoding") == "br"
        assert static.decoded() == (built_static.root / hashed).read_bytes()
        assert static.header("Cache-Control") == IMMUTABLE

        # Dotfiles are refused before reaching the app, static or not.
        assert fetch(server.url, "/.assetpipe/state.json").status == 404
        assert fetch(server.url, "/.git/config").status == 404
        # ...except certificate challenges, which the app (or another location) answers.
        challenge = fetch(server.url, "/.well-known/acme-challenge/token", {"Host": "shop.example"})
        assert challenge.body == b"app saw /.well-known/acme-challenge/token for shop.example"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("br;q=0, gzip", "gzip"), ("gzip;q=0, br;q=0", None), ("br;q=0", None), ("BR", "br")],
)
def test_quality_values_are_honoured(
    nginx: NginxServer, built_static: BuiltStatic, accept: str, encoding: str | None
) -> None:
    hashed = built_static.manifest()["app/css/site.css"]
    response = fetch(nginx.url, url(hashed), {"Accept-Encoding": accept})
    assert response.header("Content-Encoding") == encoding
    assert response.decoded() == (built_static.root / hashed).read_bytes()
    assert response.header("Vary") == "Accept-Encoding"
