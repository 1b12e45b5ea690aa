"""Compression dictionaries (RFC 9842) through the generated nginx configuration, on a real
nginx: a delta for a request that names one of the build's dictionaries and accepts dcz, what
it got before for any other, Use-As-Dictionary and Vary on every response of a dictionary file
and on no other, CORS on deltas; nothing changed with the option off, and a configuration left
from the previous build only ever falls back to brotli."""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetpipe.build.dictionaries import dcz_decode
from assetpipe.conf.edge import CorsConfig
from assetpipe.edge.negotiation import preferred_encoding
from assetpipe.headers import DELTA_VARY, IMMUTABLE_CACHE_CONTROL, use_as_dictionary
from assetpipe.naming import delta_name, dictionary_id
from assetpipe.serve import nginx as nginx_module
from assetpipe.serve.nginx import accepts_coding_pattern, render_snippet, static_site
from tests.dictionary_probe import mentions_probe, wait_until_offered
from tests.serve.conftest import NginxServer, running_nginx
from tests.serve.dictionaries_site import (
    CHROMIUM_ACCEPT_ENCODING,
    CSS,
    ICON,
    JS,
    Site,
    write_page,
)
from tests.serve.fetch import Response, fetch

pytestmark = pytest.mark.nginx

REFERENCE = Path(__file__).parent / "nginx_reference" / "without_dictionaries.conf"
TYPES = {CSS: "text/css; charset=utf-8", JS: "text/javascript; charset=utf-8"}
USE_AS = {
    CSS: use_as_dictionary("site.*.css", "style"),
    JS: use_as_dictionary("app.*.mjs", "script"),
}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def available(data: bytes) -> str:
    """The ``Available-Dictionary`` a browser holding ``data`` sends."""
    return ":" + base64.b64encode(sha256(data)).decode() + ":"


@dataclass(frozen=True)
class Builds:
    site: Site
    manifests: list[dict[str, Any]]  # build 1, 2, ... in order; the last one is in place
    nginx: NginxServer

    def name(self, logical: str, build: int = -1) -> str:
        name: str = self.manifests[build]["paths"][logical]
        return name

    def bytes(self, logical: str, build: int = -1) -> bytes:
        return (self.site.root / self.name(logical, build)).read_bytes()

    def get(self, name: str, **headers: str) -> Response:
        return fetch(
            self.nginx.url, "/static/" + name, {k.replace("_", "-"): v for k, v in headers.items()}
        )


def serve(site: Site, prefix: Path, cors: CorsConfig | None = None) -> Iterator[NginxServer]:
    snippet = site.snippet(cors)
    with running_nginx(prefix, lambda listen: site.server_block(listen, snippet)) as server:
        yield server


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    # Four builds, deltas against two back: build 4's files have deltas against builds 3 and 2;
    # build 1's versions are too old.
    site = Site(tmp_path_factory.mktemp("dictionaries"), {"dictionaries": {"previous_builds": 2}})
    manifests = [site.build(version) for version in range(1, 5)]
    for nginx in serve(site, tmp_path_factory.mktemp("nginx-dictionaries")):
        yield Builds(site, manifests, nginx)


def test_the_build_has_the_deltas_the_tests_rely_on(builds: Builds) -> None:
    entries = builds.manifests[-1]["dictionaries"]
    for logical in (CSS, JS):
        expected = sorted(
            base64.b64encode(sha256(builds.bytes(logical, b))).decode() for b in (1, 2)
        )
        assert entries[builds.name(logical)]["deltas"] == expected
    assert builds.name(ICON) not in entries


@pytest.mark.parametrize("logical", [CSS, JS])
@pytest.mark.parametrize("back", [1, 2])
@pytest.mark.parametrize(
    "accept_encoding", [CHROMIUM_ACCEPT_ENCODING, "dcz", "br;q=1, DCZ;q=0.5", "*", "gzip, *;q=0.1"]
)
def test_a_delta_for_a_dictionary_of_the_build(
    builds: Builds, logical: str, back: int, accept_encoding: str
) -> None:
    old, new = builds.bytes(logical, -1 - back), builds.bytes(logical)
    response = builds.get(
        builds.name(logical), Accept_Encoding=accept_encoding, Available_Dictionary=available(old)
    )
    assert response.status == 200
    assert response.header("Content-Encoding") == "dcz"
    delta = builds.site.root / delta_name(builds.name(logical), dictionary_id(sha256(old)))
    assert response.body == delta.read_bytes()
    assert dcz_decode(response.body, old, len(new)) == new
    assert len(response.body) < len(
        (builds.site.root / (builds.name(logical) + ".br")).read_bytes()
    )
    assert response.header("Content-Type") == TYPES[logical]
    assert response.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.headers.get_all("Use-As-Dictionary") == [USE_AS[logical]]
    assert response.headers.get_all("Vary") == [DELTA_VARY]


def test_a_delta_revalidates(builds: Builds) -> None:
    headers = {
        "Accept_Encoding": CHROMIUM_ACCEPT_ENCODING,
        "Available_Dictionary": available(builds.bytes(JS, -2)),
    }
    first = builds.get(builds.name(JS), **headers)
    etag = first.header("ETag")
    assert first.header("Content-Encoding") == "dcz" and etag
    again = builds.get(builds.name(JS), **headers, If_None_Match=etag)
    assert again.status == 304
    assert again.headers.get_all("Vary") == [DELTA_VARY]
    assert again.headers.get_all("Use-As-Dictionary") == [USE_AS[JS]]


def without_delta_cases(builds: Builds, logical: str) -> dict[str, dict[str, str]]:
    """Requests that must get what they got before the option: the headers beside
    Accept-Encoding."""
    old = builds.bytes(logical, -2)
    other = CSS if logical == JS else JS
    encoded = base64.b64encode(sha256(old)).decode()
    return {
        "no dictionary": {},
        "malformed: no colons": {"Available-Dictionary": encoded},
        "malformed: not base64": {"Available-Dictionary": ":" + "!" * 43 + "=:"},
        "malformed: a list": {"Available-Dictionary": f"{available(old)}, {available(old)}"},
        "malformed: other case": {"Available-Dictionary": available(old).swapcase()},
        "unknown": {"Available-Dictionary": available(b"no build ever had these bytes")},
        "older than the last builds": {"Available-Dictionary": available(builds.bytes(logical, 0))},
        "the current version itself": {"Available-Dictionary": available(builds.bytes(logical))},
        "another file's dictionary": {"Available-Dictionary": available(builds.bytes(other, -2))},
    }


REFUSING = [
    "br, gzip",
    "br, dcz;q=0",
    "dcz;q=0, br",
    "br, dcz;q=0.000",
    "br, dcz;q=",
    "br, dcz;q",
    "br, dcz;q=2",
    "br, dcz, dcz;q=0",
    "br, *;q=0",
    "gzip, *;q=0.5, dcz;q=0",
    "identity",
]


@pytest.mark.parametrize("logical", [CSS, JS])
def test_any_other_request_gets_what_it_got_before(builds: Builds, logical: str) -> None:
    name = builds.name(logical)
    new = builds.bytes(logical)
    old = builds.bytes(logical, -2)
    for accept_encoding in [CHROMIUM_ACCEPT_ENCODING, "gzip", "identity", None]:
        base = {"Accept_Encoding": accept_encoding} if accept_encoding else {}
        before = builds.get(name, **base)
        assert before.header("Content-Encoding") != "dcz"
        for case, headers in without_delta_cases(builds, logical).items():
            response = builds.get(
                name, **base, **{k.replace("-", "_"): v for k, v in headers.items()}
            )
            assert_same_representation(response, before, f"{case}, {accept_encoding}")
            assert response.decoded() == new
    # A dictionary of the build, but dcz not acceptable.
    for accept_encoding in REFUSING:
        before = builds.get(name, Accept_Encoding=accept_encoding)
        response = builds.get(
            name, Accept_Encoding=accept_encoding, Available_Dictionary=available(old)
        )
        assert_same_representation(response, before, accept_encoding)
        assert response.decoded() == new


def assert_same_representation(response: Response, before: Response, case: str) -> None:
    assert response.status == before.status == 200, case
    assert response.body == before.body, case
    for header in (
        "Content-Encoding",
        "Content-Type",
        "Cache-Control",
        "ETag",
        "Vary",
        "Use-As-Dictionary",
    ):
        assert response.headers.get_all(header) == before.headers.get_all(header), (case, header)


@pytest.mark.parametrize("logical", [CSS, JS])
@pytest.mark.parametrize(
    ("accept_encoding", "encoding"), [("br", "br"), ("gzip", "gzip"), (None, None)]
)
def test_every_variant_of_a_dictionary_says_so(
    builds: Builds, logical: str, accept_encoding: str | None, encoding: str | None
) -> None:
    name = builds.name(logical)
    response = builds.get(name, **({"Accept_Encoding": accept_encoding} if accept_encoding else {}))
    assert response.status == 200
    assert response.header("Content-Encoding") == encoding
    assert response.decoded() == builds.bytes(logical)
    assert response.header("Content-Type") == TYPES[logical]
    assert response.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL
    assert response.headers.get_all("Use-As-Dictionary") == [USE_AS[logical]]
    assert response.headers.get_all("Vary") == [DELTA_VARY]
    etag = response.header("ETag")
    assert etag
    again = builds.get(
        name,
        If_None_Match=etag,
        **({"Accept_Encoding": accept_encoding} if accept_encoding else {}),
    )
    assert again.status == 304
    assert again.headers.get_all("Use-As-Dictionary") == [USE_AS[logical]]
    assert again.headers.get_all("Vary") == [DELTA_VARY]


def test_other_files_say_nothing_of_dictionaries(builds: Builds) -> None:
    others = [
        builds.name(ICON),  # no CSS/JS
        CSS,  # the unhashed name: it changes with the next deploy
        JS,
        builds.name(CSS, 0),  # an earlier build's file: no longer a dictionary of this one
        builds.name(JS, -2),
    ]
    for name in others:
        response = builds.get(
            name,
            Accept_Encoding=CHROMIUM_ACCEPT_ENCODING,
            Available_Dictionary=available(builds.bytes(JS, -2)),
        )
        assert response.status == 200, name
        assert response.header("Content-Encoding") in ("br", None), name
        assert response.header("Use-As-Dictionary") is None, name
        assert response.headers.get_all("Vary") in (["Accept-Encoding"], None), name


def test_a_delta_is_not_served_by_its_own_name(builds: Builds) -> None:
    old = builds.bytes(JS, -2)
    name = delta_name(builds.name(JS), dictionary_id(sha256(old)))
    assert (builds.site.root / name).exists()
    for headers in (
        {},
        {"Accept_Encoding": CHROMIUM_ACCEPT_ENCODING, "Available_Dictionary": available(old)},
    ):
        response = builds.get(name, **headers)
        assert response.status == 404
        assert response.header("Content-Encoding") is None
        assert old not in response.body


def test_cors_headers_on_deltas(builds: Builds, tmp_path: Path) -> None:
    cors = CorsConfig(origins=("https://shop.example",))
    for nginx in serve(builds.site, tmp_path, cors):
        for logical in (CSS, JS):
            for dictionary in (available(builds.bytes(logical, -2)), None):
                headers = {
                    "Origin": "https://shop.example",
                    "Accept-Encoding": CHROMIUM_ACCEPT_ENCODING,
                }
                if dictionary:
                    headers["Available-Dictionary"] = dictionary
                response = fetch(nginx.url, "/static/" + builds.name(logical), headers)
                assert response.header("Content-Encoding") == ("dcz" if dictionary else "br")
                assert response.header("Access-Control-Allow-Origin") == "https://shop.example"
                assert response.headers.get_all("Use-As-Dictionary") == [USE_AS[logical]]
                # The CORS rule's own Vary (the allowed origin depends on Origin) beside it.
                assert response.headers.get_all("Vary") == [DELTA_VARY, "Origin"]
                other = fetch(
                    nginx.url,
                    "/static/" + builds.name(logical),
                    {**headers, "Origin": "https://elsewhere.example"},
                )
                assert other.header("Access-Control-Allow-Origin") is None


def test_a_configuration_left_from_the_previous_build_falls_back_to_brotli(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path / "project")
    first = site.build(1)
    second = site.build(2)
    snippet = site.snippet()  # rendered for build 2, and never again
    with running_nginx(
        tmp_path / "nginx", lambda listen: site.server_block(listen, snippet)
    ) as nginx:

        def get(manifest: dict[str, Any], logical: str, dictionary: bytes) -> Response:
            headers = {
                "Accept-Encoding": CHROMIUM_ACCEPT_ENCODING,
                "Available-Dictionary": available(dictionary),
            }
            return fetch(nginx.url, "/static/" + manifest["paths"][logical], headers)

        def read(manifest: dict[str, Any], logical: str) -> bytes:
            return (site.root / str(manifest["paths"][logical])).read_bytes()

        # Not asked for before build 3: nginx's open_file_cache would keep serving a delta it
        # had open (its bytes, still right) for open_file_cache_valid after its removal.
        assert (
            site.root / delta_name(second["paths"][JS], dictionary_id(sha256(read(first, JS))))
        ).exists()
        third = site.build(3)
        for logical in (CSS, JS):
            # Build 3's files, with the dictionary a browser holds from build 2: a delta is on
            # disk, but the configuration does not know the build: brotli.
            delta = delta_name(
                third["paths"][logical], dictionary_id(sha256(read(second, logical)))
            )
            assert (site.root / delta).exists()
            response = get(third, logical, read(second, logical))
            assert response.status == 200
            assert response.header("Content-Encoding") == "br"
            assert response.decoded() == read(third, logical)
            # Build 2's files, which the configuration names, with build 1's dictionary: build
            # 3 removed that delta, and the configuration checks before it rewrites.
            assert not (
                site.root
                / delta_name(second["paths"][logical], dictionary_id(sha256(read(first, logical))))
            ).exists()
            response = get(second, logical, read(first, logical))
            assert response.status == 200
            assert response.header("Content-Encoding") == "br"
            assert response.decoded() == read(second, logical)
        assert "rewrite or internal redirection cycle" not in nginx.error_log()


# --- the configuration with the option off: as it was ----------------------------------------


def reference_renders(module: ModuleType) -> str:
    """Configurations of sites without dictionaries, rendered by ``module`` (this checkout's
    ``assetpipe.serve.nginx``, or the one before dictionaries, which wrote the reference)."""
    root = Path("/srv/shop/static")
    sites = [
        module.StaticSite(url_path="/static/", root=root),
        module.StaticSite(
            url_path="/assets/v1/",
            root=root,
            hidden=(PurePosixPath("state"),),
            brotli=False,
            max_age=300,
            prehashed=("js/chunk-4f3a2b1c.js", "assets/index-DiwrgTda.css"),
            lookalikes=("lib.deadbeefcafe.css", "img/pic.deadbeefcafe.png"),
            cors=CorsConfig(origins=("https://shop.example", "https://*.shop.example")),
            image_formats=("avif", "webp"),
        ),
        module.StaticSite(
            url_path="/static/", root=root, cors=CorsConfig(), image_formats=("webp",)
        ),
    ]
    parts = [module.render_snippet(site) for site in sites]
    parts.append(
        module.render_server(
            sites[1],
            listen="80",
            upstream="http://127.0.0.1:8000",
            server_name="shop.example",
            script_name="/shop",
        )
    )
    return "\n# ----\n".join(parts)


def test_without_dictionaries_the_configuration_is_what_it_was() -> None:
    assert reference_renders(nginx_module) == REFERENCE.read_text()


def test_with_dictionaries_lines_are_only_added(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build(1)
    site.build(2)
    with_dictionaries = site.snippet()
    manifest = site.root / "staticfiles.json"
    data = json.loads(manifest.read_bytes())
    del data["dictionaries"]
    manifest.write_text(json.dumps(data))
    without = site.snippet()
    assert "assetpipe_delta" in with_dictionaries
    for marker in ("assetpipe_delta", "Available-Dictionary", "dcz", "Use-As-Dictionary"):
        assert marker not in without
    removed = [
        line
        for line in difflib.ndiff(without.splitlines(), with_dictionaries.splitlines())
        if line.startswith("- ")
    ]
    assert removed == []


# --- dcz acceptable: the rule and the regular expression nginx states it with ------------------


def nginx_accepts(header: str | None) -> bool:
    return re.search(accepts_coding_pattern("dcz"), header or "", re.IGNORECASE) is not None


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (CHROMIUM_ACCEPT_ENCODING, True),
        ("dcz", True),
        ("DCZ;q=0.001", True),
        ("br, dcz ; q = 1.0", True),
        ("*", True),
        ("gzip, *;q=0.1", True),
        ("dcz;level=1;q=0.5", True),
        (None, False),
        ("", False),
        ("br, gzip", False),
        ("dcz;q=0", False),
        ("dcz; q=0.000", False),
        ("dcz;q=1.5", False),
        ("dcz;q=", False),
        ("dcz;q", False),
        ("dcz, dcz;q=0", False),
        ("dcz;q=0, *", False),
        ("*;q=0", False),
        ("*, *;q=0", False),
        ("dczx, dcb", False),
        ("xdcz", False),
    ],
)
def test_rule_and_nginx_agree_on_dcz(header: str | None, accepted: bool) -> None:
    assert (preferred_encoding(header, ["dcz"]) == "dcz") is accepted
    assert nginx_accepts(header) is accepted


CODINGS = st.sampled_from(["dcz", "DCZ", "dcb", "br", "gzip", "*", "dczx", "identity", ""])
PARAMETERS = st.sampled_from(
    [
        "",
        ";q=0",
        ";q=0.0",
        ";q=0.000",
        ";q=0.5",
        ";q=1",
        ";q=1.0",
        ";q=1.5",
        ";q=",
        ";q",
        " ; q = 0",
        ";level=1",
        ";level=1;q=0",
        ";Q=0.001",
        ";q=0.0001",
        ";q=abc",
    ]
)


@given(st.lists(st.tuples(CODINGS, PARAMETERS), max_size=6), st.sampled_from([",", ", ", ",\t"]))
def test_nginx_accepts_dcz_exactly_when_the_rule_does(
    elements: list[tuple[str, str]], separator: str
) -> None:
    header = separator.join(coding + parameters for coding, parameters in elements)
    assert nginx_accepts(header) is (preferred_encoding(header, ["dcz"]) == "dcz"), header


# --- chromium: a returning visitor gets deltas --------------------------------------------------

# The access log of the browser test: what was asked for, what was sent, and with which
# dictionary, one request a line.
LOG_FORMAT = (
    "log_format dictionaries "
    "'$request_uri $status enc=$sent_http_content_encoding dict=$http_available_dictionary';"
)


class ReloadableNginx:
    """nginx whose server block includes the configuration rendered for the build in place,
    rendered again and reloaded (SIGHUP) after a build, as a deploy does."""

    def __init__(self, site: Site, server: NginxServer, included: Path) -> None:
        self.site, self.server, self.included = site, server, included

    def deploy(self, manifest: dict[str, Any]) -> None:
        self.included.write_text(self.site.snippet())
        self.server.process.send_signal(signal.SIGHUP)
        # Reloaded when the new workers serve this build's files as dictionaries.
        name = manifest["paths"][JS]
        deadline = time.monotonic() + 30
        while fetch(self.server.url, "/static/" + name).header("Use-As-Dictionary") is None:
            assert time.monotonic() < deadline, self.server.error_log()
            time.sleep(0.05)

    def log_lines(self) -> list[str]:
        path = self.server.prefix / "logs" / "dictionaries.log"
        return path.read_text().splitlines() if path.exists() else []

    def wait_for_requests(self, *paths: str, after: int) -> dict[str, str]:
        """The log line of each of ``paths`` logged after line ``after``, once all are there."""
        deadline = time.monotonic() + 30
        while True:
            found = {}
            for line in self.log_lines()[after:]:
                uri = line.split(" ", 1)[0]
                if uri in paths:
                    found[uri] = line
            if len(found) == len(paths):
                return found
            assert time.monotonic() < deadline, (paths, self.log_lines()[after:])
            time.sleep(0.05)


@contextmanager
def reloadable_nginx(site: Site, prefix: Path) -> Iterator[ReloadableNginx]:
    included = prefix / "assetpipe.conf"
    prefix.mkdir(parents=True, exist_ok=True)
    included.write_text(site.snippet())

    def server(listen: str) -> str:
        return LOG_FORMAT + "\n" + site.server_block(listen, f"include {included};", "dictionaries")

    with running_nginx(prefix, server) as nginx:
        yield ReloadableNginx(site, nginx, included)


def visit(context: Any, url: str, *, keep: bool = False) -> dict[str, Any]:
    """Load a page in a browser profile; what it shows once its module ran. ``keep``: the
    profile is to hold the page's files as dictionaries before this returns."""
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function("window.assetpipeRuns !== undefined")
        if keep:
            wait_until_offered(page)
        state: dict[str, Any] = page.evaluate(
            """() => ({
                runs: window.assetpipeRuns,
                version: window.assetpipeVersion,
                colour: getComputedStyle(document.getElementById("marker")).color,
                integrity: [...document.querySelectorAll("script, link[rel=stylesheet]")]
                    .map((element) => element.integrity),
            })"""
        )
        return state
    finally:
        page.close()


@pytest.mark.browser
def test_chromium_gets_deltas_after_a_deploy(chromium: Any, tmp_path: Path) -> None:
    site = Site(tmp_path / "project", {"dictionaries": {"previous_builds": 3}, "integrity": True})
    manifests = {1: site.build(1)}
    pages = {1: write_page(site, 1, manifests[1])}
    with reloadable_nginx(site, tmp_path / "nginx") as nginx:
        url = nginx.server.url
        # A visitor of build 1, who will not come back before build 5 (k-4).
        old_visitor = chromium.new_context()
        assert visit(old_visitor, url + pages[1], keep=True)["version"] == "1.1.0"
        for build in (2, 3, 4):
            manifests[build] = site.build(build)
            pages[build] = write_page(site, build, manifests[build])
        nginx.deploy(manifests[4])
        # A visitor of build 4 (k-1).
        returning = chromium.new_context()
        seen = len(nginx.log_lines())
        state = visit(returning, url + pages[4], keep=True)
        assert (state["version"], state["runs"]) == ("1.4.0", 1)
        dictionaries = [f"/static/{manifests[4]['paths'][logical]}" for logical in (CSS, JS)]
        first = nginx.wait_for_requests(*dictionaries, after=seen)
        assert all(" enc=br " in line for line in first.values()), first

        manifests[5] = site.build(5)
        pages[5] = write_page(site, 5, manifests[5])
        nginx.deploy(manifests[5])
        changed = [f"/static/{manifests[5]['paths'][logical]}" for logical in (CSS, JS)]
        held = {
            f"/static/{manifests[5]['paths'][logical]}": available(
                (site.root / manifests[4]["paths"][logical]).read_bytes()
            )
            for logical in (CSS, JS)
        }

        seen = len(nginx.log_lines())
        state = visit(returning, url + pages[5])
        lines = nginx.wait_for_requests(*changed, after=seen)
        for path, line in lines.items():
            assert line == f"{path} 200 enc=dcz dict={held[path]}", line
        # The page works: the stylesheet applied, the module ran once, both with integrity.
        assert state["colour"] == "rgb(0, 5, 0)"
        assert (state["version"], state["runs"]) == ("1.5.0", 1)
        assert all(value.startswith("sha384-") for value in state["integrity"])
        assert len(state["integrity"]) == 2

        # A new visitor has no dictionary: brotli.
        seen = len(nginx.log_lines())
        fresh = chromium.new_context()
        assert visit(fresh, url + pages[5])["colour"] == "rgb(0, 5, 0)"
        for path, line in nginx.wait_for_requests(*changed, after=seen).items():
            assert line == f"{path} 200 enc=br dict=-", line

        # The visitor of build 1 offers its dictionary, older than the last 3 builds: brotli.
        seen = len(nginx.log_lines())
        state = visit(old_visitor, url + pages[5])
        assert (state["colour"], state["version"], state["runs"]) == ("rgb(0, 5, 0)", "1.5.0", 1)
        stale = {
            f"/static/{manifests[5]['paths'][logical]}": available(
                (site.root / manifests[1]["paths"][logical]).read_bytes()
            )
            for logical in (CSS, JS)
        }
        for path, line in nginx.wait_for_requests(*changed, after=seen).items():
            assert line == f"{path} 200 enc=br dict={stale[path]}", line
        for context in (old_visitor, returning, fresh):
            context.close()
        errors = nginx.server.error_log().splitlines()
        assert [line for line in errors if "[error]" in line and not mentions_probe(line)] == []


def test_a_prehashed_dictionary_has_one_location(tmp_path: Path) -> None:
    # A name a bundler hashed, were the build to list it as a dictionary: its dictionary
    # location states its caching, and nginx accepts the configuration.
    root = tmp_path / "static"
    name = "assets/index-DiwrgTda.js"
    (root / "assets").mkdir(parents=True)
    (root / name).write_text("export const a = 1;\n")
    manifest = {
        "paths": {name: name},
        "version": "1.1",
        "prehashed": [name],
        "dictionaries": {name: {"match": "index-*.js", "dest": "script", "deltas": []}},
    }
    (root / "staticfiles.json").write_text(json.dumps(manifest))
    snippet = render_snippet(static_site("/static/", root))
    assert snippet.count(f'location = "/static/{name}"') == 1
    with running_nginx(
        tmp_path / "nginx", lambda listen: f"server {{ listen {listen};\n{snippet}\n}}"
    ) as nginx:
        response = fetch(nginx.url, f"/static/{name}")
        assert response.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL
        assert response.header("Use-As-Dictionary") == use_as_dictionary("index-*.js", "script")
