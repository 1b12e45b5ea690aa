"""``manage.py assetpipe nginx``: configuration derived from the project's settings."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from assetpipe.conf.edge import CorsConfig
from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import NGINX, require_nginx

LISTED = {"origins": ["https://shop.example", "https://*.acme.example"], "max_age": 600}


def with_cors(cors: object) -> dict[str, object]:
    """STORAGES with the staticfiles storage's "cors" option."""
    backend = "assetpipe.storage.AssetPipeStorage"
    return {"staticfiles": {"BACKEND": backend, "OPTIONS": {"cors": cors}}}


def nginx_command(*args: str) -> str:
    out = StringIO()
    call_command("assetpipe", "nginx", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    root = tmp_path / "public" / "static"
    root.mkdir(parents=True)
    return root


def test_snippet_follows_settings(static_root: Path) -> None:
    with override_settings(STATIC_ROOT=str(static_root), STATIC_URL="https://cdn.example/assets/"):
        text = nginx_command()
    assert text == render_snippet(static_site("/assets/", static_root))
    assert "location ^~ /assets/ {" in text
    assert f"alias {static_root}/;" in text
    assert "brotli_static on;" in text
    assert "libnginx-mod-http-brotli-static" in text
    assert "gzip_static on;" in text
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in text
    assert "server {" not in text


def test_options(static_root: Path) -> None:
    with override_settings(STATIC_ROOT=str(static_root)):
        text = nginx_command("--no-brotli", "--max-age", "300")
    assert "brotli" not in text
    assert 'add_header Cache-Control "public, max-age=300";' in text


def test_server_block(static_root: Path) -> None:
    with override_settings(STATIC_ROOT=str(static_root)):
        text = nginx_command(
            "--server",
            "--listen",
            "8080",
            "--server-name",
            "shop.example",
            "--upstream",
            "http://app:9000",
        )
    assert text.startswith("server {\n    listen 8080;\n    server_name shop.example;\n")
    assert "        proxy_pass http://app:9000;" in text
    assert "    location ^~ /static/ {" in text
    assert text.endswith("}\n")


def test_server_block_below_the_script_name(static_root: Path) -> None:
    settings = {"STATIC_ROOT": str(static_root), "FORCE_SCRIPT_NAME": "/shop"}
    with override_settings(STATIC_URL="/shop/static/", **settings):
        text = nginx_command("--server", "--listen", "8080", "--upstream", "http://app:9000")
    assert "    location ^~ /shop/static/ {" in text
    # The app's own paths, proxied without the script name Django adds back to its URLs.
    assert "    location /shop/ {\n        proxy_pass http://app:9000/;" in text
    assert "    location / {" not in text


@pytest.mark.parametrize("cors", [{"origins": ["*"]}, LISTED])
def test_cors_follows_the_option(static_root: Path, cors: dict[str, object]) -> None:
    with override_settings(STATIC_ROOT=str(static_root), STORAGES=with_cors(cors)):
        text = nginx_command()
    config = CorsConfig.from_options(cors)
    assert text == render_snippet(static_site("/static/", static_root, cors=config))
    assert "add_header Access-Control-Allow-Origin" in text
    assert "location @assetpipe_cors_preflight {" in text
    assert ("$http_origin ~" in text) == (cors == LISTED)


def test_no_cors_without_the_option(static_root: Path) -> None:
    with override_settings(STATIC_ROOT=str(static_root)):
        text = nginx_command()
    assert "Access-Control" not in text and "assetpipe_cors" not in text


def test_an_invalid_cors_option_is_an_error(static_root: Path) -> None:
    with (
        override_settings(STATIC_ROOT=str(static_root), STORAGES=with_cors({"origins": "*"})),
        pytest.raises(CommandError, match="cors"),
    ):
        nginx_command()


def test_state_dir_inside_static_root_is_refused_and_denied(static_root: Path) -> None:
    storages = {
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"state_dir": str(static_root / "build-state")},
        }
    }
    with (
        override_settings(STATIC_ROOT=str(static_root), STORAGES=storages),
        pytest.raises(CommandError, match="inside STATIC_ROOT"),
    ):
        nginx_command()
    # Were a private directory inside STATIC_ROOT, the configuration would deny it.
    inside = static_site("/static/", static_root, private_dirs=(static_root / "build-state",))
    assert inside.hidden
    text = render_snippet(inside)
    assert "    location ^~ /static/build-state/ {\n        return 404;" in text
    # Outside STATIC_ROOT it cannot be reached through the alias; only the dotfile rule applies.
    outside = static_site(
        "/static/", static_root, private_dirs=(static_root.parent / ".assetpipe",)
    )
    assert outside.hidden == ()


@pytest.mark.parametrize(
    ("settings", "args", "message"),
    [
        ({"STATIC_ROOT": None}, [], "STATIC_ROOT is not set"),
        ({}, ["--server"], "--server needs --listen"),
        ({}, ["--listen", "80"], "only apply with --server"),
        ({"STATIC_URL": "/", "MEDIA_URL": "/media/"}, [], "must not be '/'"),
        ({"STATIC_URL": "/static/{x}/"}, [], "characters nginx would misread"),
        ({}, ["--server", "--listen", "80", "--upstream", "app:9000"], "http:// or https://"),
        ({}, ["--max-age", "-1"], "must not be negative"),
    ],
)
def test_errors(
    static_root: Path, settings: dict[str, object], args: list[str], message: str
) -> None:
    with (
        override_settings(**{"STATIC_ROOT": str(static_root), **settings}),
        pytest.raises(CommandError, match=message),
    ):
        nginx_command(*args)


@pytest.mark.nginx
@pytest.mark.parametrize("args", [[], ["--no-brotli"], ["--server", "--listen", "127.0.0.1:8080"]])
@pytest.mark.parametrize("cors", [None, {"origins": ["*"]}, LISTED], ids=["no-cors", "any", "list"])
def test_nginx_accepts_the_output(
    static_root: Path, tmp_path: Path, args: list[str], cors: dict[str, object] | None
) -> None:
    require_nginx()
    storages = {} if cors is None else {"STORAGES": with_cors(cors)}
    with override_settings(STATIC_ROOT=str(static_root), **storages):
        text = nginx_command(*args)
    if "--server" not in args:
        text = f"server {{\n listen 127.0.0.1:8080;\n{text}\n}}"
    # --no-brotli must work on an nginx without the module, so load it only when used.
    load = (
        ""
        if "--no-brotli" in args
        else "load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;"
    )
    config = tmp_path / "nginx.conf"
    config.write_text(f"{load}\npid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n{text}\n}}\n")
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_djangos_options_after_the_subcommand(static_root: Path) -> None:
    with override_settings(STATIC_ROOT=str(static_root)):
        text = nginx_command("--no-brotli", "-v", "2", "--traceback", "--no-color")
    assert text == render_snippet(static_site("/static/", static_root, brotli=False))
