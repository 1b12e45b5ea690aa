"""EarlyHints under Hypercorn over HTTP/2 with TLS: what each visitor is sent, read off the wire
with an HTTP/2 client (tests/serve/test_early_hints_chromium.py: what chromium does with it)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import h2.config
import h2.connection
import h2.events
import pytest
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import override_settings
from django.urls import path

from assetpipe.serve.early_hints import EXTENSION, EarlyHints
from assetpipe.serve.preload import parse_links
from assetpipe.serve.servestatic import servestatic_mimetypes
from tests.conftest import free_port, require_component
from tests.serve import test_integrity_browser as integrity
from tests.serve.conftest import wait_for_port

site = integrity.site  # the integrity tests' build: modules, stylesheets, a classic script

MIDDLEWARE = [
    "assetpipe.serve.servestatic.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "assetpipe.serve.preload.PreloadMiddleware",
]
SIGNED_MEDIA = "https://media.example/acme/u/7/avatar.jpg?X-Amz-Signature=0123abcd"
STYLESHEET = '{% static_stylesheet "app/site.css" %}'


def html(template: str, request: HttpRequest) -> str:
    source = "{% load assetpipe %}<!DOCTYPE html><html><head>" + template + "</head></html>"
    return engines["django"].from_string(source).render({}, request)


def page(template: str = STYLESHEET, **headers: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(html(template, request))
        for name, value in headers.items():
            response[name.replace("_", "-")] = value
        return response

    return view


def signed_in(request: HttpRequest) -> HttpResponse:
    # A page for whoever the session says: reading it makes Django add Vary: Cookie.
    user = request.session.get("user", "anonymous")
    return HttpResponse(html(STYLESHEET + f"<!-- {user} -->", request))


def turns_private(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(html(STYLESHEET, request))
    if request.GET.get("private"):
        response["Cache-Control"] = "private"
    return response


def sets_cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(html(STYLESHEET, request))
    response.set_cookie("seen", "1")
    return response


urlpatterns = [
    path("", integrity.page),
    path("plain/", page()),
    path("private/", page(Cache_Control="private, max-age=60")),
    path("no-store/", page(Cache_Control="no-store")),
    path("vary-cookie/", signed_in),
    path("vary-language/", page(Vary="Accept-Language")),
    path("sets-cookie/", sets_cookie),
    path("turns-private/", turns_private),
    path("own-link/", page(Link=f"<{SIGNED_MEDIA}>; rel=preload; as=image")),
    path(
        "replaced-src/",
        page('{% static_script "app/classic.js" src="/static/app/classic.js?sig=abc" %}'),
    ),
    path("media/", page('{% static_script "app/classic.js" src="/media/u/7/a.js" %}')),
    path("print/", page('{% static_stylesheet "app/site.css" media="screen, print" %}')),
    path(
        "crafted/",
        page(
            '{% static_stylesheet "app/site.css" media=crafted %}'.replace(
                "crafted", "'a\", </static/evil.js>; rel=preload; as=script; x=\"'"
            )
        ),
    ),
]


# --- a server and a client --------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: browsers speak HTTP/2 over TLS only."""
    require_component("openssl", shutil.which("openssl") is not None, "apt-get install openssl")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    command += " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
    subprocess.run(
        ["openssl", *command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Seen:
    """Every HTTP request the server handed the application: path and headers, in order."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # With hold_after_hints: per 103, whether every file it named was asked for before the page.
    hints_followed: list[bool] = field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(1 for seen, _ in self.requests if seen == path)


@dataclass
class Server:
    url: str
    port: int
    hints: EarlyHints
    seen: Seen


@contextmanager
def running_hypercorn(
    certificate: tuple[Path, Path], hold_after_hints: bool = False
) -> Iterator[Server]:
    """Hypercorn (HTTP/2 over TLS) serving the Django application wrapped in EarlyHints, in a
    thread with a loop of its own; the outermost layer notes each request it is handed.

    With ``hold_after_hints``, a response that follows a 103 waits until the server has seen a
    request for every file the 103 named (at most 10 s): a browser acts on a 103 when it gets to
    it, and the page's own requests must not overtake it on a busy machine."""
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    hints = EarlyHints(get_asgi_application())
    seen = Seen()

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            seen.requests.append((scope["path"], headers))

        async def holding(message: Any) -> None:
            await send(message)
            if hold_after_hints and message["type"] == EXTENSION:
                links = parse_links(link.decode("latin-1") for link in message["links"])
                deadline = asyncio.get_running_loop().time() + 10
                while not (followed := all(seen.count(link.target) for link in links)):
                    if asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.01)  # polls a condition, with a deadline
                seen.hints_followed.append(followed)

        await hints(scope, receive, holding)

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(certificate[0]), str(certificate[1])
    config.accesslog = None
    config.errorlog = None  # Django answers lifespan with an error Hypercorn would log
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(
            serve(counting, config, shutdown_trigger=stop.wait, mode="asgi")
        ),
        daemon=True,
    )
    thread.start()
    try:
        wait_for_port(port)
        yield Server(f"https://127.0.0.1:{port}", port, hints, seen)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        loop.close()


@pytest.fixture
def server(
    request: pytest.FixtureRequest, site: Any, certificate: tuple[Path, Path]
) -> Iterator[Server]:
    # A module that drives a browser sets HOLD_AFTER_HINTS (running_hypercorn says why).
    hold = getattr(request.module, "HOLD_AFTER_HINTS", False)
    with (
        override_settings(
            ROOT_URLCONF=__name__,
            MIDDLEWARE=MIDDLEWARE,
            SERVESTATIC_MIMETYPES=servestatic_mimetypes(),
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            MEDIA_URL="/media/",
        ),
        running_hypercorn(certificate, hold_after_hints=hold) as running,
    ):
        yield running


@dataclass
class Exchange:
    """One request's answers: the 103s' Link fields, then the final status and headers."""

    early: list[list[str]]
    status: int
    headers: dict[str, str]


def get(
    server: Server, path: str, authority: str = "a.example", headers: dict[str, str] | None = None
) -> Exchange:
    """GET ``path`` over HTTP/2 with TLS, as written on the wire: informational responses kept."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own certificate, on loopback
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        assert sock.selected_alpn_protocol() == "h2"
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        connection.initiate_connection()
        stream = connection.get_next_available_stream_id()
        request = [(":method", "GET"), (":scheme", "https"), (":authority", authority)]
        request += [(":path", path), *(headers or {}).items()]
        connection.send_headers(stream, request, end_stream=True)
        sock.sendall(connection.data_to_send())
        early: list[list[str]] = []
        final: dict[str, str] = {}
        ended = False
        while not ended:
            data = sock.recv(65536)
            assert data, "the server closed the connection"
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.InformationalResponseReceived):
                    fields = [(bytes(k).decode(), bytes(v).decode()) for k, v in event.headers]
                    assert (":status", "103") in fields
                    early.append([v for k, v in fields if k == "link"])
                elif isinstance(event, h2.events.ResponseReceived):
                    for k, v in event.headers:
                        name, value = bytes(k).decode(), bytes(v).decode()
                        final[name] = f"{final[name]}, {value}" if name in final else value
                elif isinstance(event, h2.events.DataReceived):
                    connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    ended = True
            sock.sendall(connection.data_to_send())
    return Exchange(early, int(final.pop(":status")), final)


def hinted(exchange: Exchange) -> list[str]:
    """The targets of every link the 103s carried."""
    return [link.target for links in exchange.early for link in parse_links(links)]


def static_url(site: Any, name: str) -> str:
    return "/static/" + quote(site.hashed(name))


# --- what a visitor may be sent ---------------------------------------------------------------


def test_the_next_visitor_of_the_page_gets_its_links_first(server: Server, site: Any) -> None:
    first = get(server, "/plain/")
    assert first.status == 200 and not first.early
    second = get(server, "/plain/")
    assert len(second.early) == 1
    # Exactly the Link value the page's response carried, one link per field.
    assert second.early[0] == [second.headers["link"]]
    assert hinted(second) == [static_url(site, "app/site.css")]


def test_no_links_from_another_host(server: Server) -> None:
    get(server, "/plain/", "a.example")
    assert not get(server, "/plain/", "b.example").early
    assert get(server, "/plain/", "a.example").early
    assert not get(server, "/plain/", "a.example:8443").early


@pytest.mark.parametrize(
    ("page_path", "expected"),
    [
        # The view's own Link header (a signed media URL) beside the tags' links.
        ("/own-link/", ["app/site.css"]),
        # A tag whose src the template replaced: a query URL, a media URL.
        ("/replaced-src/", []),
        ("/media/", []),
    ],
)
def test_only_the_builds_files_are_hinted(
    server: Server, site: Any, page_path: str, expected: list[str]
) -> None:
    first = get(server, page_path)
    assert first.status == 200
    assert hinted(get(server, page_path)) == [static_url(site, name) for name in expected]
    if page_path == "/own-link/":
        assert SIGNED_MEDIA in first.headers["link"]  # the view's header is left as it was
    else:
        assert "link" not in first.headers  # nor does the page's own header preload them


@pytest.mark.parametrize("page_path", ["/private/", "/no-store/", "/vary-cookie/", "/sets-cookie/"])
def test_nothing_from_a_response_that_is_not_everyones(server: Server, page_path: str) -> None:
    for _ in range(2):
        exchange = get(server, page_path, headers={"cookie": "sessionid=x"})
        assert exchange.status == 200 and not exchange.early
        assert "link" in exchange.headers  # the response itself still preloads
    assert not get(server, page_path).early
    assert server.hints.links == {}


def test_a_page_that_reads_the_session_is_never_hinted(server: Server) -> None:
    # Even to visitors without a session: Django marks the page Vary: Cookie all the same.
    get(server, "/vary-cookie/")
    assert get(server, "/vary-cookie/").headers["vary"] == "Cookie"
    assert server.hints.links == {}


def test_a_page_that_turns_private_is_forgotten(server: Server) -> None:
    get(server, "/turns-private/")
    # The query is not part of the page: this request is hinted, and its answer is private.
    assert get(server, "/turns-private/?private=1").early
    assert not get(server, "/turns-private/").early


def test_nothing_for_a_request_with_authorization(server: Server) -> None:
    credentials = {"authorization": "Bearer secret"}
    get(server, "/plain/", headers=credentials)
    assert server.hints.links == {}
    get(server, "/plain/")
    assert get(server, "/plain/").early
    assert not get(server, "/plain/", headers=credentials).early


def test_vary_is_part_of_the_key(server: Server) -> None:
    get(server, "/vary-language/", headers={"accept-language": "fr"})
    assert not get(server, "/vary-language/", headers={"accept-language": "de"}).early
    get(server, "/vary-language/", headers={"accept-language": "de"})
    assert get(server, "/vary-language/", headers={"accept-language": "de"}).early
    assert not get(server, "/vary-language/").early


def test_a_quoted_comma_stays_in_its_link(server: Server, site: Any) -> None:
    link = get(server, "/print/").headers["link"]
    assert link.endswith('; media="screen, print"')
    # The stylesheet's link whole, not cut at the comma inside the quotes.
    assert get(server, "/print/").early == [[link]]
    (parsed,) = parse_links([link])
    assert parsed.target == static_url(site, "app/site.css")
    assert parsed.param("media") == "screen, print"


def test_a_crafted_quoted_value_is_no_link_of_its_own(server: Server, site: Any) -> None:
    # A value that, split at ", ", would end one link and start another preloading evil.js.
    link = get(server, "/crafted/").headers["link"]
    assert link.endswith('; media="a\\", </static/evil.js>; rel=preload; as=script; x=\\""')
    assert get(server, "/crafted/").early == [[link]]
    (parsed,) = parse_links([link])
    assert parsed.target == static_url(site, "app/site.css")
    assert parsed.param("media") == 'a", </static/evil.js>; rel=preload; as=script; x="'


def test_pages_are_capped(server: Server) -> None:
    server.hints.max_paths = 2
    for page_path in ("/plain/", "/print/", "/own-link/", "/print/"):
        get(server, page_path)
    # The least recently requested page is dropped first.
    assert [key[3] for key in server.hints.links] == ["/own-link/", "/print/"]
    assert all(key[:3] == ("https", "a.example", "") for key in server.hints.links)
