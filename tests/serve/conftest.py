"""Fixtures for serving tests: a built STATIC_ROOT, a private nginx, a WSGI server, chromium.

Every server here is started by the test itself on a free loopback port, with its own configuration,
pid and log files under the test's temp dir; the system's nginx service is never touched.
"""

from __future__ import annotations

import getpass
import grp
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import free_port, require_component

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

STATIC_BACKEND = "assetpipe.storage.AssetPipeStorage"

DOTFILE_SECRET = b"dotfile in STATIC_ROOT: never served\n"
OUTSIDE_SECRET = b"file beside STATIC_ROOT: never served\n"


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# --- a small but realistic source tree --------------------------------------------------------


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour PNG (the test tree needs a real image, not just bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def write_source_tree(source: Path, extra: Mapping[str, bytes] | None = None) -> None:
    rules = "\n".join(f".item-{i} {{ margin: {i}px; padding: {i % 7}px; }}" for i in range(200))
    files: dict[str, bytes] = {
        "app/css/site.css": (
            '@import url("base.css");\n'
            'body { background: url("../img/dot.png") repeat; }\n'
            'h1::before { content: url("../img/logo.svg"); }\n' + rules + "\n"
        ).encode(),
        "app/css/base.css": ("html { font-family: sans-serif; }\n" + rules + "\n").encode(),
        "app/js/app.js": "\n".join(
            f"export function f{i}(x) {{ return x * {i} + {i % 5}; }}" for i in range(200)
        ).encode(),
        "app/img/logo.svg": (
            '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
            + "".join(f'<rect x="{i % 8}" y="{i // 8}" width="1" height="1"/>' for i in range(64))
            + "</svg>\n"
        ).encode(),
        "app/img/dot.png": png(4, 4, (200, 30, 30)),
        "app/data/info.json": (
            '{"items": [' + ",".join(f'{{"n": {i}}}' for i in range(300)) + "]}"
        ).encode(),
        "app/ünïcode name.txt": ("plain text with a space and non-ASCII name\n" * 40).encode(),
        # An unhashed original spelled like a hashed name: only the build knows it is not.
        "app/lib.deadbeefcafe.css": (".lib { color: teal; }\n" * 40).encode(),
        **(extra or {}),
    }
    for name, content in files.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@dataclass(frozen=True)
class BuiltStatic:
    source: Path
    """STATICFILES_DIRS entry the tree was collected from."""
    site: Path
    """A server's document root: holds STATIC_ROOT and assetpipe's state beside it."""
    root: Path
    """STATIC_ROOT."""
    settings: dict[str, Any]
    """The settings the build ran with, for serving it through Django/WhiteNoise."""

    def manifest(self) -> dict[str, str]:
        paths: dict[str, str] = json.loads((self.root / "staticfiles.json").read_text())["paths"]
        return paths


def build_static(
    base: Path,
    extra: Mapping[str, bytes] | None = None,
    options: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> BuiltStatic:
    """Collect the test tree (and ``extra`` files) with every app's static files (Django admin's)
    into ``base/site/static`` (with the storage's ``options`` and the settings ``overrides``, e.g.
    a script name), and plant files that must stay private.

    ``base/site`` stands for a project directory that a server block might use as its ``root``;
    ``base/secret.txt`` lies outside it, reachable only by escaping.
    """
    source = base / "src"
    write_source_tree(source, extra)
    site = base / "site"
    root = site / "static"
    settings: dict[str, Any] = {
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(source)],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": STATIC_BACKEND, **({"OPTIONS": options} if options else {})},
        },
        **(overrides or {}),
    }
    with override_settings(**settings):
        call_command("collectstatic", interactive=False, verbosity=0)
    (root / ".env").write_bytes(DOTFILE_SECRET)
    (root / "app" / ".hidden").mkdir()
    (root / "app" / ".hidden" / "x.css").write_bytes(DOTFILE_SECRET)
    (base / "secret.txt").write_bytes(OUTSIDE_SECRET)
    return BuiltStatic(source=source, site=site, root=root, settings=settings)


@pytest.fixture(scope="package")
def built_static(tmp_path_factory: pytest.TempPathFactory) -> BuiltStatic:
    return build_static(tmp_path_factory.mktemp("built"))


# --- nginx ------------------------------------------------------------------------------------


def require_nginx() -> None:
    require_component(
        "nginx with the brotli static module",
        os.access(NGINX, os.X_OK) and BROTLI_MODULE.exists(),
        "apt-get install nginx libnginx-mod-http-brotli-static",
    )


class NginxServer:
    """One nginx master with its own prefix, configuration, pid and logs, on a loopback port."""

    def __init__(
        self, prefix: Path, server_block: Callable[[str], str], port: int | None = None
    ) -> None:
        self.prefix = prefix
        self.port = free_port() if port is None else port
        self.url = f"http://127.0.0.1:{self.port}"
        listen = f"127.0.0.1:{self.port}"
        for name in ("logs", "temp"):
            (prefix / name).mkdir(parents=True, exist_ok=True)
        # As root, nginx's workers would drop to "nobody", who cannot read pytest's 0700 temp dirs.
        user = (
            f"user {getpass.getuser()} {grp.getgrgid(os.getegid()).gr_name};"
            if os.geteuid() == 0
            else ""
        )
        temp = prefix / "temp"
        self.config = prefix / "nginx.conf"
        self.config.write_text(
            f"""load_module {BROTLI_MODULE};
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server_block(listen)}
}}
"""
        )
        check = subprocess.run(
            [
                NGINX,
                "-t",
                "-p",
                str(prefix),
                "-c",
                str(self.config),
                "-e",
                str(prefix / "logs/error.log"),
            ],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, f"nginx rejected the configuration:\n{check.stderr}"
        self.process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(prefix),
                "-c",
                str(self.config),
                "-e",
                str(prefix / "logs/error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(self.port)
        except OSError:
            self.stop()
            raise

    def error_log(self) -> str:
        return (self.prefix / "logs" / "error.log").read_text()

    def stop(self) -> None:
        # SIGQUIT: graceful shutdown of the master and its workers.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def running_nginx(
    prefix: Path, server_block: Callable[[str], str], port: int | None = None
) -> Iterator[NginxServer]:
    """nginx with ``server_block(listen)`` on ``port`` (a free one if ``None``)."""
    require_nginx()
    server = NginxServer(prefix, server_block, port)
    try:
        yield server
    finally:
        server.stop()


# --- WSGI --------------------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def running_wsgi(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free loopback port; yield its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- ASGI --------------------------------------------------------------------------------------


@contextmanager
def running_asgi(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn (HTTP/1.1) on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)  # no signal handlers off main
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


# --- chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    require_component("chromium", CHROMIUM.exists(), "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- the example project -----------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_MANAGE = REPO / "example_project" / "manage.py"


def example_env(demo_dir: Path) -> dict[str, str]:
    """Environment for the example project: its own build dir, a free port for its S3 server."""
    env = dict(os.environ)
    env.update(
        ACME_DEMO_DIR=str(demo_dir),
        ACME_S3_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        # The checkout's assetpipe, whether or not it is installed in this environment.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def run_example(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE_MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class DemoServer:
    url: str
    env: dict[str, str]
    demo_dir: Path
    output: list[str]

    @property
    def static_root(self) -> Path:
        return self.demo_dir / "build" / "static"


@contextmanager
def running_demo(demo_dir: Path) -> Iterator[DemoServer]:
    """``manage.py demo --port 0`` in a subprocess, until it prints the URL it serves."""
    env = example_env(demo_dir)
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE_MANAGE), "demo", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found = threading.Event()
    urls: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = re.search(r"The shop is at (http://\S+/) ", line)
            if match:
                urls.append(match.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        found.wait(timeout=180)
        assert urls, "the demo did not start serving:\n" + "".join(output)
        yield DemoServer(url=urls[0], env=env, demo_dir=demo_dir, output=output)
    finally:
        # Ctrl-C, as a user would stop it.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
