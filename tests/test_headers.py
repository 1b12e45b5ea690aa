"""One Content-Type per file, wherever it is served from: S3, nginx and WhiteNoise agree.

The agreement test collects Django admin's static tree and files of every type a front end
ships, publishes it to the moto server, serves it with a real nginx (the generated configuration)
and with WhiteNoise's middleware on a real WSGI server, and compares what each one sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from whitenoise.media_types import default_types

from assetpipe.headers import charset_types, content_type, media_type
from assetpipe.naming import split_variant
from assetpipe.publish.local import read_build
from assetpipe.publish.s3 import S3Config, publish
from assetpipe.serve import whitenoise_mimetypes
from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import BuiltStatic, build_static, running_nginx, running_wsgi
from tests.serve.fetch import fetch


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("css/app.css", "text/css; charset=utf-8"),
        ("js/app.3b1f0c9e8d7a.js", "text/javascript; charset=utf-8"),
        ("js/module.mjs", "text/javascript; charset=utf-8"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("LICENSE-SELECT2.md", "text/markdown; charset=utf-8"),
        ("feed.xml", "text/xml; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        # No charset: JSON has none (RFC 8259); on XML types it would override the file's own.
        ("js/app.js.map", "application/json"),
        ("data.json", "application/json"),
        ("site.webmanifest", "application/manifest+json"),
        ("img/logo.svg", "image/svg+xml"),
        ("img/logo.png", "image/png"),
        ("img/photo.JPG", "image/jpeg"),
        ("fonts/icons.woff2", "font/woff2"),
        ("fonts/icons.woff", "font/woff"),
        ("app.wasm", "application/wasm"),
        ("downloads/source.tar.gz", "application/gzip"),
        ("LICENSE", "application/octet-stream"),
        ("LICENSE.2c54f4e1ca1c", "application/octet-stream"),
        ("dir.v2/README", "application/octet-stream"),
        ("crossdomain.xml", "text/xml; charset=utf-8"),
    ],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_only_text_types_carry_a_charset() -> None:
    assert charset_types() == sorted(
        {t for t in whitenoise_mimetypes().values() if t.startswith("text/")}
    )


def test_whitenoise_setting_covers_every_name_whitenoise_knows() -> None:
    # A name only WhiteNoise's own table knew would get a type that nginx and S3 do not send.
    setting = whitenoise_mimetypes()
    assert set(default_types()) <= set(setting)
    for key, value in setting.items():
        assert value == media_type(f"file{key}" if key.startswith(".") else key)


# --- the agreement -----------------------------------------------------------------------------

EXTRA: dict[str, bytes] = {
    "front/app.mjs": b"export const answer = 42;\n",
    "front/app.js": b"console.log('front');\n",
    "front/app.js.map": b'{"version": 3, "sources": [], "mappings": ""}\n',
    "front/site.webmanifest": b'{"name": "shop", "icons": []}\n',
    "front/module.wasm": b"\x00asm\x01\x00\x00\x00",
    "front/notes.txt": b"plain text\n",
    "front/feed.xml": b'<?xml version="1.0" encoding="utf-8"?><feed/>\n',
    "front/data.json": b'{"items": []}\n',
    "front/icon.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    # Names without an extension and Markdown: Django admin's tree has them on some releases.
    "front/LICENSE": b"Permission is hereby granted, free of charge.\n",
    "front/README.md": b"# front\n",
}
REQUIRED_EXTENSIONS = {
    *(".svg", ".json", ".js", ".mjs", ".map", ".webmanifest", ".wasm", ".txt", ".xml"),
    *(".css", ".md", ""),
}
ADMIN = "admin/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltStatic:
    return build_static(tmp_path_factory.mktemp("headers"), EXTRA)


@pytest.fixture(scope="module")
def published(built: BuiltStatic, s3_endpoint: str) -> Iterator[tuple[Any, S3Config]]:
    """The build published (variants as their own keys too) to a fresh bucket on moto."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    config = S3Config.from_options(
        {
            "bucket_name": bucket,
            "location": "static",
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        }
    )
    publish(built.root, "staticfiles.json", config)
    yield client, config


@pytest.fixture(scope="module")
def nginx_url(built: BuiltStatic, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    snippet = render_snippet(static_site("/static/", built.root))

    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n{snippet}\n}}"

    with running_nginx(tmp_path_factory.mktemp("headers-nginx"), server) as nginx:
        yield nginx.url


@pytest.fixture(scope="module")
def whitenoise_url(built: BuiltStatic) -> Iterator[str]:
    with (
        override_settings(
            **built.settings,
            MIDDLEWARE=["whitenoise.middleware.WhiteNoiseMiddleware"],
            WHITENOISE_MIMETYPES=whitenoise_mimetypes(),
        ),
        running_wsgi(get_wsgi_application()) as url,
    ):
        yield url


def parsed(value: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A Content-Type as RFC 9110 compares it: case-insensitive names, quoted or bare values.

    (WhiteNoise quotes the charset, ``charset="utf-8"``; nginx and S3 do not.)"""
    assert value is not None
    message = Message()
    message["Content-Type"] = value
    params = message.get_params(unquote=True) or []
    return message.get_content_type(), tuple(sorted((k.lower(), v.lower()) for k, v in params[1:]))


def served(base: str, name: str) -> set[str | None]:
    """The Content-Type ``name`` is sent with, as it is and precompressed."""
    return {
        fetch(base, f"/static/{quote(name)}", {"Accept-Encoding": accept}).header("Content-Type")
        for accept in ("br", "gzip", "identity")
    }


def test_s3_nginx_and_whitenoise_send_the_same_content_type(
    built: BuiltStatic, published: tuple[Any, S3Config], nginx_url: str, whitenoise_url: str
) -> None:
    client, config = published
    build = read_build(built.root, "staticfiles.json", with_encodings=True)
    names = sorted(name for name in build.files if split_variant(name)[1] is None)
    assert {Path(name).suffix for name in names} >= REQUIRED_EXTENSIONS
    assert sum(name.startswith(ADMIN) for name in names) > 100  # admin's tree, original and hashed

    def stored(key: str) -> str:
        head = client.head_object(Bucket=config.bucket_name, Key=config.key(key))
        return str(head["ContentType"])

    def compare(name: str) -> str | None:
        variants = [v for v in build.files if v != name and split_variant(v)[0] == name]
        from_s3 = {stored(key) for key in (name, *variants)}
        from_nginx = served(nginx_url, name)
        from_whitenoise = served(whitenoise_url, name)
        # S3 and nginx send the same bytes; WhiteNoise quotes the charset.
        every = from_s3 | from_nginx | from_whitenoise
        if len(from_s3 | from_nginx) == 1 and len({parsed(v) for v in every}) == 1:
            return None
        return f"{name}: S3 {from_s3}, nginx {from_nginx}, WhiteNoise {from_whitenoise}"

    # Requests in parallel: each server answers from its own threads or workers.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(compare, [*names, "staticfiles.json"]))
    disagreements = [result for result in results if result is not None]
    assert not disagreements, "\n".join(disagreements)
