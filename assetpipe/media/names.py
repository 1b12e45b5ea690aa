"""Validation of tenant ids and media names.

A media name is an S3 key relative to the tenant's prefix. The storage refuses, rather than
rewrites, any name that is not already in its one canonical form: a name that would be altered
by normalisation (``a/../b``, ``a\\b``, ``./a``) is a name whose author meant something other
than the key it would get, and the only safe answer to that is "no".
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

# A slug as Django defines it (letters, digits, hyphen, underscore) that starts with a letter
# or digit, so it is a single path segment, carries no IAM wildcard (``*``, ``?``) and fits
# into IAM user and policy names.
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")

# S3's limit on the UTF-8 length of a whole key.
MAX_KEY_BYTES = 1024

_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
# Characters XML 1.0 cannot carry: S3 lists keys in XML, so such a key could be written but
# never listed again.
_XML_NONCHARACTERS = frozenset("\ufffe\uffff")


def validate_tenant(
    tenant: object,
    source: str = "tenant",
    error: type[ImproperlyConfigured] = ImproperlyConfigured,
) -> str:
    """Return ``tenant`` if it is a valid tenant id, else raise ``error``.

    ``source`` says where the value came from, for the message.
    """
    if tenant is None or tenant == "":
        raise error(f"{source}: no tenant id ({tenant!r}); the media storage needs one.")
    if not isinstance(tenant, str) or not TENANT_PATTERN.fullmatch(tenant):
        raise error(
            f"{source}: {tenant!r} is not a valid tenant id; use 1 to 63 letters, digits, "
            "hyphens or underscores, starting with a letter or digit."
        )
    return tenant


def validate_location(location: str) -> str:
    """Return the base prefix without surrounding slashes, or raise ``ImproperlyConfigured``."""
    stripped = location.strip("/")
    if stripped:
        try:
            validate_name(stripped)
        except SuspiciousFileOperation as error:
            raise ImproperlyConfigured(f"media location {location!r} is invalid: {error}") from None
    return stripped


def validate_name(name: object) -> str:
    """Return ``name`` if it is a canonical relative media name; else ``SuspiciousFileOperation``.

    Refused: anything but a non-empty ``str``; absolute paths and Windows drive prefixes
    (joined to a directory on Windows, ``C:x`` leaves it); backslashes; empty, ``.`` or ``..``
    segments; control characters and characters S3 cannot list; and any name whose
    percent-decoded or NFKC-normalised form would break one of these rules, since a proxy, CDN
    or file system on the way may decode or normalise it.
    """
    if not isinstance(name, str):
        raise SuspiciousFileOperation(f"Media name {name!r} is not a string.")
    if not name:
        raise SuspiciousFileOperation("Media name is empty.")
    for form in _decoded_forms(name):
        _check_form(name, form)
    return name


def validate_directory(path: object) -> str:
    """Like :func:`validate_name` for a directory: ``""`` (the tenant root) and a trailing
    slash are allowed."""
    if path == "":
        return ""
    if isinstance(path, str) and path.endswith("/"):
        validate_name(path[:-1])
        return path
    return validate_name(path)


def _decoded_forms(name: str) -> list[str]:
    """``name`` and every form it takes under repeated percent-decoding and NFKC."""
    forms = [name]
    current = name
    # Each decoding that changes the string makes it shorter, so this ends.
    while (decoded := unquote(current)) != current:
        forms.append(decoded)
        current = decoded
    forms += [unicodedata.normalize("NFKC", form) for form in list(forms)]
    return forms


def _check_form(name: str, form: str) -> None:
    def refuse(reason: str) -> SuspiciousFileOperation:
        return SuspiciousFileOperation(f"Media name {name!r} refused: {reason}.")

    for char in form:
        if unicodedata.category(char) == "Cc":
            raise refuse(f"it contains the control character U+{ord(char):04X}")
        if char in _XML_NONCHARACTERS or unicodedata.category(char) == "Cs":
            raise refuse(f"it contains U+{ord(char):04X}, which S3 cannot list")
    if "\\" in form:
        raise refuse("it contains a backslash")
    if form.startswith("/") or _WINDOWS_DRIVE.match(form):
        raise refuse("it is an absolute path or starts with a drive letter")
    for segment in form.split("/"):
        if segment in ("", ".", ".."):
            raise refuse(f"it contains an empty, '.' or '..' segment ({segment!r})")
    if len(form.encode("utf-8", errors="surrogatepass")) > MAX_KEY_BYTES:
        raise refuse(f"it is longer than S3's {MAX_KEY_BYTES}-byte key limit")
