"""The HTTP headers an object is stored with: type, encoding, caching, ACL."""

from __future__ import annotations

import mimetypes
from typing import Any

from assetpipe.publish.config import S3Config
from assetpipe.publish.local import LocalFile

# Python's built-in table only: /etc/mime.types differs between machines, uploads must not.
_MIMETYPES = mimetypes.MimeTypes()
# Where the built-in table is missing or outdated for the web.
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
# A file that is itself an archive (not a variant) is served as one, not as its inner type.
_ARCHIVES = {"gzip": "application/gzip", "br": "application/x-brotli"}
_TEXT = {
    "application/json",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
    "text/javascript",
}
MANIFEST_TYPE = "application/json; charset=utf-8"


def content_type(name: str) -> str:
    """``Content-Type`` for a file name, with a charset for text types."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > name.rfind("/") else ""
    guessed: str | None
    if extension in _TYPES:
        guessed = _TYPES[extension]
    else:
        guessed, encoding = _MIMETYPES.guess_type(name, strict=False)
        if encoding is not None:
            guessed = _ARCHIVES.get(encoding, "application/octet-stream")
    guessed = guessed or "application/octet-stream"
    if guessed.startswith("text/") or guessed in _TEXT:
        return f"{guessed}; charset=utf-8"
    return guessed


def upload_args(file: LocalFile, md5: str, config: S3Config) -> dict[str, Any]:
    """Arguments for PutObject (or ExtraArgs for a multipart upload) besides bucket/key/body."""
    base = file.name.rsplit(".", 1)[0] if file.encoding else file.name
    args: dict[str, Any] = {
        "ContentType": content_type(base),
        "CacheControl": (
            config.hashed_cache_control if file.hashed else config.unhashed_cache_control
        ),
        # Multipart ETags are not MD5s; the listing cannot show this, a HEAD can.
        "Metadata": {"md5": md5},
    }
    if file.encoding:
        args["ContentEncoding"] = file.encoding
    if config.default_acl:
        args["ACL"] = config.default_acl
    return args
