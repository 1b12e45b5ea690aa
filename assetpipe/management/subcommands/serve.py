"""``manage.py assetpipe nginx``: print nginx configuration for this project's STATIC_ROOT."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.images import ImageSettings
from assetpipe.serve.nginx import DEFAULT_MAX_AGE, render_server, render_snippet, static_site


def _storage_attribute(name: str) -> Any:
    try:
        return getattr(staticfiles_storage, name, None)
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc


def _private_dirs() -> tuple[Path, ...]:
    # The build state must never be served; the storage knows where it keeps it (and refuses
    # a state_dir inside STATIC_ROOT, so this is a second line of defence).
    state_dir = _storage_attribute("state_dir")
    return (Path(state_dir),) if state_dir else ()


def _cors() -> CorsConfig | None:
    # The storage's "cors" option, validated by the storage; another storage has none.
    cors = _storage_attribute("cors")
    return cors if isinstance(cors, CorsConfig) else None


def _image_formats() -> tuple[str, ...]:
    # The storage's "images" option: the formats the build writes beside raster images.
    images = _storage_attribute("images")
    return images.formats if isinstance(images, ImageSettings) else ()


class Nginx:
    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--server",
            action="store_true",
            help="print a complete server {} block that proxies everything else to the app",
        )
        parser.add_argument("--listen", metavar="ADDR", help="listen address for --server, e.g. 80")
        parser.add_argument("--server-name", metavar="NAME", help="server_name for --server")
        parser.add_argument(
            "--upstream",
            metavar="URL",
            default="http://127.0.0.1:8000",
            help="the app's address for --server's proxy_pass (default: %(default)s)",
        )
        parser.add_argument(
            "--no-brotli",
            dest="brotli",
            action="store_false",
            help="leave out brotli_static, for an nginx without ngx_brotli's static module",
        )
        parser.add_argument(
            "--max-age",
            type=int,
            default=DEFAULT_MAX_AGE,
            metavar="SECONDS",
            help="Cache-Control max-age for names without a content hash (default: %(default)s)",
        )

    def handle(self, command: BaseCommand, options: dict[str, Any]) -> None:
        if not settings.STATIC_ROOT:
            raise CommandError("STATIC_ROOT is not set: there is nothing for nginx to serve.")
        if options["max_age"] < 0:
            raise CommandError("--max-age must not be negative.")
        server_only = ("listen", "server_name")
        if not options["server"] and any(options[name] for name in server_only):
            raise CommandError("--listen and --server-name only apply with --server.")
        if options["server"] and not options["listen"]:
            raise CommandError("--server needs --listen ADDR (e.g. --listen 80).")
        try:
            site = static_site(
                settings.STATIC_URL,
                settings.STATIC_ROOT,
                private_dirs=_private_dirs(),
                brotli=options["brotli"],
                max_age=options["max_age"],
                cors=_cors(),
                image_formats=_image_formats(),
            )
            if options["server"]:
                text = render_server(
                    site,
                    listen=options["listen"],
                    upstream=options["upstream"],
                    server_name=options["server_name"],
                    # A site below a script name: only its path is the app's, proxied without it.
                    script_name=settings.FORCE_SCRIPT_NAME,
                )
            else:
                text = render_snippet(site)
        except ValueError as error:
            raise CommandError(str(error)) from error
        command.stdout.write(text, ending="")
