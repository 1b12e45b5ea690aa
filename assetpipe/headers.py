"""The HTTP headers a built file is sent with, wherever it is served from: S3, nginx, WhiteNoise.

One table of media types and one charset rule, so that a file gets the same ``Content-Type``
from an S3 object (uploaded with it), from nginx (whose ``types``/``charset_types`` are rendered
from it) and from WhiteNoise (given it through ``WHITENOISE_MIMETYPES``, see
:func:`assetpipe.serve.whitenoise_mimetypes`). The caching headers live here for the same reason.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from types import MappingProxyType

from assetpipe.naming import dictionary_hash

# Hashed names never change content: cache them for a year, never revalidate.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Unhashed names (and the manifest) may change on the next deploy.
DEFAULT_MAX_AGE = 60


def short_cache_control(max_age: int = DEFAULT_MAX_AGE) -> str:
    """``Cache-Control`` for a name without a content hash."""
    return f"public, max-age={max_age}"


DEFAULT_MEDIA_TYPE = "application/octet-stream"
# Django reads and writes static text as UTF-8 (it decodes CSS and JS to rewrite them), so text
# is declared as such. Only text/* gets a charset: JSON has no charset parameter (RFC 8259), and
# on XML types (SVG) one would override the file's own encoding declaration (RFC 7303).
CHARSET = "utf-8"

# Extension (lower case, with the dot) -> media type. nginx's mime.types as WhiteNoise ships it,
# with current types where those are outdated (.woff) or missing (.map, .webmanifest, .ttf, .otf,
# .gz). A fixed table, not the system's: /etc/mime.types differs between machines.
MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".3gp": "video/3gpp",
        ".3gpp": "video/3gpp",
        ".7z": "application/x-7z-compressed",
        ".ai": "application/postscript",
        ".asf": "video/x-ms-asf",
        ".asx": "video/x-ms-asf",
        ".atom": "application/atom+xml",
        ".avi": "video/x-msvideo",
        ".avif": "image/avif",
        ".bmp": "image/x-ms-bmp",
        ".cco": "application/x-cocoa",
        ".crt": "application/x-x509-ca-cert",
        ".css": "text/css",
        ".der": "application/x-x509-ca-cert",
        ".doc": "application/msword",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".ear": "application/java-archive",
        ".eot": "application/vnd.ms-fontobject",
        ".eps": "application/postscript",
        ".flv": "video/x-flv",
        ".gif": "image/gif",
        ".gz": "application/gzip",
        ".hqx": "application/mac-binhex40",
        ".htc": "text/x-component",
        ".htm": "text/html",
        ".html": "text/html",
        ".ico": "image/x-icon",
        ".jad": "text/vnd.sun.j2me.app-descriptor",
        ".jar": "application/java-archive",
        ".jardiff": "application/x-java-archive-diff",
        ".jng": "image/x-jng",
        ".jnlp": "application/x-java-jnlp-file",
        ".jpeg": "image/jpeg",
        ".jpg": "image/jpeg",
        ".js": "text/javascript",
        ".json": "application/json",
        ".kar": "audio/midi",
        ".kml": "application/vnd.google-earth.kml+xml",
        ".kmz": "application/vnd.google-earth.kmz",
        ".m3u8": "application/vnd.apple.mpegurl",
        ".m4a": "audio/x-m4a",
        ".m4v": "video/x-m4v",
        ".map": "application/json",
        ".md": "text/markdown",
        ".mid": "audio/midi",
        ".midi": "audio/midi",
        ".mjs": "text/javascript",
        ".mml": "text/mathml",
        ".mng": "video/x-mng",
        ".mov": "video/quicktime",
        ".mp3": "audio/mpeg",
        ".mp4": "video/mp4",
        ".mpeg": "video/mpeg",
        ".mpg": "video/mpeg",
        ".odg": "application/vnd.oasis.opendocument.graphics",
        ".odp": "application/vnd.oasis.opendocument.presentation",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet",
        ".odt": "application/vnd.oasis.opendocument.text",
        ".ogg": "audio/ogg",
        ".otf": "font/otf",
        ".pdb": "application/x-pilot",
        ".pdf": "application/pdf",
        ".pem": "application/x-x509-ca-cert",
        ".pl": "application/x-perl",
        ".pm": "application/x-perl",
        ".png": "image/png",
        ".ppt": "application/vnd.ms-powerpoint",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".prc": "application/x-pilot",
        ".ps": "application/postscript",
        ".ra": "audio/x-realaudio",
        ".rar": "application/x-rar-compressed",
        ".rpm": "application/x-redhat-package-manager",
        ".rss": "application/rss+xml",
        ".rtf": "application/rtf",
        ".run": "application/x-makeself",
        ".sea": "application/x-sea",
        ".shtml": "text/html",
        ".sit": "application/x-stuffit",
        ".svg": "image/svg+xml",
        ".svgz": "image/svg+xml",
        ".swf": "application/x-shockwave-flash",
        ".tcl": "application/x-tcl",
        ".tif": "image/tiff",
        ".tiff": "image/tiff",
        ".tk": "application/x-tcl",
        ".ts": "video/mp2t",
        ".ttf": "font/ttf",
        ".txt": "text/plain",
        ".war": "application/java-archive",
        ".wasm": "application/wasm",
        ".wbmp": "image/vnd.wap.wbmp",
        ".webm": "video/webm",
        ".webmanifest": "application/manifest+json",
        ".webp": "image/webp",
        ".wml": "text/vnd.wap.wml",
        ".wmlc": "application/vnd.wap.wmlc",
        ".wmv": "video/x-ms-wmv",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".xhtml": "application/xhtml+xml",
        ".xls": "application/vnd.ms-excel",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xml": "text/xml",
        ".xpi": "application/x-xpinstall",
        ".xspf": "application/xspf+xml",
        ".zip": "application/zip",
    }
)


def extension(name: str) -> str:
    """The last extension of the last path segment, lower case with its dot ("" for none).

    As WhiteNoise and nginx read it (``a.tar.gz``: ``.gz``); for a dotfile (``.env``: none),
    nginx would differ, but the generated configuration never serves dotfiles.
    """
    return posixpath.splitext(posixpath.basename(name))[1].lower()


def media_type(name: str) -> str:
    """The media type for a file name, without parameters."""
    return MEDIA_TYPES.get(extension(name), DEFAULT_MEDIA_TYPE)


def has_charset(media_type: str) -> bool:
    return media_type.startswith("text/")


def content_type(name: str) -> str:
    """``Content-Type`` for a file name: its media type, with the charset for text."""
    found = media_type(name)
    return f"{found}; charset={CHARSET}" if has_charset(found) else found


def charset_types() -> list[str]:
    """Every media type in the table that is sent with the charset, sorted."""
    return sorted({found for found in MEDIA_TYPES.values() if has_charset(found)})


# The longest start of a file that :func:`sniffed_image_type` reads: an AVIF file's ``ftyp``
# box, which lists its brands, is well under this in every encoder's output.
SNIFF_BYTES = 64


def sniffed_image_type(head: bytes) -> str | None:
    """The media type of a raster image by its first bytes (:data:`SNIFF_BYTES` suffice), or
    ``None`` for anything else.

    An image variant is named after the format it was meant to be (``hero.jpg.avif``), but with
    the ``cdn`` option one whose encode was not smaller is a byte copy of its original, so that
    an edge choosing by name never meets a missing key; it has to be sent as what its bytes are.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        # ISO BMFF: the major brand, a minor version, then compatible brands to the box's end.
        end = min(int.from_bytes(head[:4], "big"), len(head))
        brands = [head[8:12], *(head[i : i + 4] for i in range(16, end - 3, 4))]
        if b"avif" in brands or b"avis" in brands:
            return "image/avif"
    return None


# Compression dictionaries (RFC 9842): a content-named CSS/JS file is declared a dictionary for
# the next versions of its logical name, and a delta made with one is sent to a browser that
# names that dictionary. assetpipe.build.dictionaries decides which files and patterns.
USE_AS_DICTIONARY = "Use-As-Dictionary"
AVAILABLE_DICTIONARY = "Available-Dictionary"
# A delta answers only the request that named its dictionary: a cache keys on both headers.
DELTA_VARY = "Accept-Encoding, Available-Dictionary"


def use_as_dictionary(match: str, dest: str) -> str:
    """``Use-As-Dictionary`` for a file whose next versions ``match`` covers (relative to its
    URL), offered for requests of destination ``dest`` (``script``, ``style``)."""
    return f"match={_sf_string(match)}, match-dest=({_sf_string(dest)})"


def available_dictionary(value: str | None) -> bytes | None:
    """The SHA-256 an ``Available-Dictionary`` header names (a structured-field byte sequence,
    ``:<base64>:``); None for no header or any other value."""
    if value is None:
        return None
    value = value.strip(" \t")
    if len(value) < 2 or value[0] != ":" or value[-1] != ":":
        return None
    return dictionary_hash(value[1:-1])


def _sf_string(text: str) -> str:
    """A structured-field string (RFC 8941, 3.3.3): quoted, ``\\`` and ``"`` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
