"""Compression dictionaries (RFC 9842) for assetpipe's WhiteNoise and ServeStatic middlewares.

The build lists in ``staticfiles.json`` which files are dictionaries (their ``match`` pattern and
destination) and which deltas it wrote (:mod:`assetpipe.build.dictionaries`). For a request of
such a file this module says which headers to add and whether a delta answers it: one that
names, in ``Available-Dictionary``, a dictionary the build made a delta against, and accepts
``dcz``. Anything else is answered as before; the middlewares only swap the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

from assetpipe.edge.negotiation import preferred_encoding
from assetpipe.headers import DELTA_VARY, USE_AS_DICTIONARY, available_dictionary, use_as_dictionary
from assetpipe.naming import (
    DELTA_ENCODING,
    MANIFEST_NAME,
    delta_name,
    dictionary_hash,
    dictionary_id,
    read_dictionaries,
)


@dataclass(frozen=True)
class Dictionary:
    """One file of the build that is a dictionary, and the deltas written for it."""

    header: str  # Use-As-Dictionary
    deltas: frozenset[bytes]  # the SHA-256s of the dictionaries a delta was made against


@dataclass(frozen=True)
class Choice:
    """What a middleware does with a request of a dictionary file."""

    headers: tuple[tuple[str, str], ...]  # added to whatever is sent
    delta: str | None  # the delta to send instead (a name relative to STATIC_ROOT), or None


def choose(
    name: str, request_headers: Mapping[str, str], table: Mapping[str, Dictionary]
) -> Choice | None:
    """For a request of ``name`` (relative to STATIC_ROOT) with these WSGI/ASGI ``META``
    headers: None when the build's ``table`` does not list it as a dictionary."""
    found = table.get(name)
    if found is None:
        return None
    headers = ((USE_AS_DICTIONARY, found.header), ("Vary", DELTA_VARY))
    sha256 = available_dictionary(request_headers.get("HTTP_AVAILABLE_DICTIONARY"))
    accepted = preferred_encoding(request_headers.get("HTTP_ACCEPT_ENCODING"), [DELTA_ENCODING])
    if sha256 is None or sha256 not in found.deltas or accepted is None:
        return Choice(headers, None)
    return Choice(headers, delta_name(name, dictionary_id(sha256)))


def dictionaries() -> dict[str, Dictionary]:
    """The current build's dictionaries by name; empty without the option, a STATIC_ROOT or a
    build."""
    try:
        manifest_name = getattr(staticfiles_storage, "manifest_name", MANIFEST_NAME)
        path = staticfiles_storage.path(manifest_name)
        stat = os.stat(path)
    except (ImproperlyConfigured, NotImplementedError, OSError):
        return {}
    # Read again only when another build replaced the manifest (autorefresh asks per request).
    return _read(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> dict[str, Dictionary]:
    try:
        with open(path, "rb") as manifest:
            found = read_dictionaries(manifest.read())
    except OSError:
        return {}
    return {
        name: Dictionary(
            use_as_dictionary(entry["match"], entry["dest"]),
            frozenset(h for h in map(dictionary_hash, entry["deltas"]) if h is not None),
        )
        for name, entry in found.items()
    }


def vary(existing: str | None) -> str:
    """``Vary`` for a dictionary file's response: what the server sent, and both headers a delta
    depends on."""
    fields = [f.strip() for f in (existing or "").split(",") if f.strip()]
    lower = {f.lower() for f in fields}
    for name in DELTA_VARY.split(", "):
        if name.lower() not in lower:
            fields.append(name)
    return ", ".join(fields)


class Deltas:
    """The delta files a middleware sends, made into its static files when first asked for:
    ServeStatic serves only the manifest's names, and neither knows a delta's real type."""

    def __init__(self, middleware: Any) -> None:
        self.middleware = middleware
        self.files: dict[str, Any] = {}
        # Read once, as the middleware reads its files once; with autorefresh, per request.
        self.table = None if middleware.autorefresh else dictionaries()

    def choose(self, request: HttpRequest) -> tuple[Choice | None, Any]:
        """What to do with a request of a static file: None for a file that is no dictionary;
        with the middleware's static file of the delta to send, or None."""
        prefix: str = self.middleware.static_prefix
        path = request.path_info
        table = dictionaries() if self.table is None else self.table
        name = path[len(prefix) :]
        choice = choose(name, request.META, table) if path.startswith(prefix) else None
        if choice is None or choice.delta is None:
            return choice, None
        found = self.files.get(choice.delta)
        if found is None:
            try:
                found = self.middleware.get_static_file(
                    staticfiles_storage.path(choice.delta), prefix + choice.delta
                )
            except (OSError, ImproperlyConfigured, NotImplementedError):
                return Choice(choice.headers, None), None  # gone since the manifest was read
            self.files[choice.delta] = found
        return choice, found


def finish(response: HttpResponseBase, static_file: Any, choice: Choice, delta: bool) -> None:
    """Make the response sent for a dictionary file (``delta``: its delta's) say so."""
    if delta and response.status_code != 304:
        # The delta is a coding of the file at this URL: its type and caching are the file's.
        response["Content-Encoding"] = DELTA_ENCODING
        for name, value in _headers(static_file):
            if name.lower() in ("content-type", "cache-control"):
                response[name] = value
    for name, value in choice.headers:
        response[name] = vary(response.get("Vary")) if name == "Vary" else value


def _headers(static_file: Any) -> list[tuple[str, str]]:
    """The headers WhiteNoise or ServeStatic send a file with, its identity variant's."""
    alternatives = getattr(static_file, "alternatives", ())
    if not alternatives:
        return []
    return [(str(k), str(v)) for k, v in alternatives[-1][2] if v is not None]
