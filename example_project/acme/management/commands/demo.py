"""``manage.py demo``: the whole tour on one machine, no AWS account needed.

1. start a local S3 endpoint (moto's server on loopback) at ``ACME_S3_ENDPOINT``;
2. build STATIC_ROOT cold with ``collectstatic``, which also publishes it to the static bucket;
3. run ``collectstatic`` again: nothing changed, so nothing is hashed, compressed or uploaded;
4. store a file through the tenant media storage, then list both buckets;
5. serve the shop with WhiteNoise until interrupted (``--no-serve`` stops after step 4).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any, cast
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIServer, make_server

import boto3
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.wsgi import get_wsgi_application

from assetpipe.media import TenantMediaStorage
from assetpipe.storage import AssetPipeStorage

# Bucket listings show folders with more objects than this as one line.
LIST_UP_TO = 30


def folder(key: str) -> str:
    """The first two levels of ``key``'s folders, e.g. ``static/admin/``."""
    return "".join(f"{part}/" for part in key.split("/")[:-1][:2])


class Command(BaseCommand):
    help = (
        "Start a local S3 endpoint, run collectstatic cold and again with nothing to do, list the "
        "buckets, then serve the site."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="stop after listing the buckets"
        )
        parser.add_argument("--addr", default="127.0.0.1", help="address to serve on")
        parser.add_argument(
            "--port", type=int, default=8000, help="port to serve on; 0 picks a free one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo talks only to its own local endpoint: never sign its requests with real
        # credentials that happen to be in the environment.
        os.environ.update(
            AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION="us-east-1"
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)

        with local_s3(settings.S3_ENDPOINT):
            s3 = boto3.client("s3", endpoint_url=settings.S3_ENDPOINT, region_name="us-east-1")
            for bucket in (settings.STATIC_BUCKET, settings.MEDIA_BUCKET):
                s3.create_bucket(Bucket=bucket)
            self.stdout.write(f"Local S3 endpoint: {settings.S3_ENDPOINT}")

            # A cold build every time: the demo starts from an empty STATIC_ROOT and no state.
            static = cast(AssetPipeStorage, staticfiles_storage)
            for path in (settings.STATIC_ROOT, static.state_dir):
                shutil.rmtree(path, ignore_errors=True)

            self.heading("collectstatic, cold")
            call_command("collectstatic", interactive=False, stdout=self.stdout)
            self.heading("collectstatic again, nothing changed")
            call_command("collectstatic", interactive=False, stdout=self.stdout)

            self.heading("Tenant media")
            media = cast(TenantMediaStorage, default_storage)
            name = media.save("welcome.txt", ContentFile(b"Welcome to ACME's media.\n"))
            self.stdout.write(f"Stored {name!r} as s3://{settings.MEDIA_BUCKET}/{media.key(name)}")
            self.stdout.write(f"Signed URL: {media.url(name)}")

            self.heading("Bucket contents")
            self.list_bucket(s3, settings.STATIC_BUCKET)
            self.list_bucket(s3, settings.MEDIA_BUCKET)

            if options["no_serve"]:
                return
            self.serve(options["addr"], options["port"])

    def heading(self, title: str) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"== {title} =="))

    def list_bucket(self, s3: Any, bucket: str) -> None:
        keys: list[tuple[str, int]] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys += [(item["Key"], item["Size"]) for item in page.get("Contents", [])]
        total = sum(size for _, size in keys)
        self.stdout.write(f"s3://{bucket}: {len(keys)} objects, {total:,} bytes")
        # Big folders (the admin's files) are summarised; the rest is listed key by key.
        folders = Counter(folder(key) for key, _ in keys)
        for key, size in keys:
            if folders[folder(key)] <= LIST_UP_TO:
                self.stdout.write(f"  {key}  ({size:,} bytes)")
        for name, count in sorted(folders.items()):
            if count > LIST_UP_TO:
                self.stdout.write(f"  {name}...  ({count} objects)")

    def serve(self, addr: str, port: int) -> None:
        # Requests are logged to stderr, one line each.
        server = make_server(addr, port, get_wsgi_application(), server_class=_ThreadingWSGIServer)
        host = f"[{addr}]" if ":" in addr else addr
        url = f"http://{host}:{server.server_port}/"
        self.heading("Serving")
        self.stdout.write(f"The shop is at {url} (static files by WhiteNoise). Ctrl-C stops it.")
        self.stdout.write(
            "To put nginx in front instead: python example_project/manage.py assetpipe nginx "
            f"--server --listen 8080 --upstream http://{host}:{server.server_port}"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


@contextmanager
def local_s3(endpoint: str) -> Iterator[None]:
    """Run moto's S3 server at ``endpoint`` (a loopback URL) for the duration."""
    from moto.server import ThreadedMotoServer

    parts = urlsplit(endpoint)
    host, port = parts.hostname or "", parts.port
    if host not in ("127.0.0.1", "localhost", "::1") or port is None:
        raise CommandError(
            f"ACME_S3_ENDPOINT={endpoint!r}: the demo starts its S3 server on loopback only; "
            "use a URL like http://127.0.0.1:9753"
        )
    with socket.socket() as probe:
        if probe.connect_ex((host, port)) == 0:
            raise CommandError(
                f"Port {port} is in use, so the demo cannot start its S3 server at {endpoint}. "
                "Set ACME_S3_ENDPOINT to another loopback URL, e.g. http://127.0.0.1:9754"
            )
    # moto's server logs every request it handles; the demo's output is the builds' summaries.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        yield
    finally:
        server.stop()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # A browser opens several connections at once; answer them concurrently.
    daemon_threads = True
    block_on_close = False
