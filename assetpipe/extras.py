"""Which optional extra provides which third-party module, and the error when one is missing.

A local build (hash + compress) needs only Django and brotli. Publishing to S3, tenant media,
WhiteNoise and image variants each come with an extra; a feature calls :func:`require` before its
first import of such a module, so a missing one fails at start-up with the ``pip install`` line
that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Extra:
    name: str
    feature: str
    modules: tuple[str, ...]


EXTRAS = {
    extra.name: extra
    for extra in (
        Extra("s3", "publishing to S3", ("botocore", "certifi")),
        Extra("media", "tenant media storage", ("storages", "boto3", "botocore")),
        Extra("whitenoise", "serving with WhiteNoise", ("whitenoise",)),
        Extra("servestatic", "serving with ServeStatic", ("servestatic",)),
        Extra("images", "AVIF and WebP image variants", ("PIL", "skimage", "numpy")),
        Extra("minify", "minifying CSS and JavaScript", ("minify",)),
        Extra("dictionaries", "deltas against earlier builds (dcz)", ("zstandard",)),
    )
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported, found without importing them."""
    return [module for module in EXTRAS[extra].modules if find_spec(module) is None]


def require(extra: str) -> None:
    """Raise ImproperlyConfigured naming ``extra`` unless all of its modules are installed."""
    missing = missing_modules(extra)
    if missing:
        raise ImproperlyConfigured(missing_message(extra, missing))


def missing_message(extra: str, missing: list[str]) -> str:
    names = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
    which, them = ("is", "it") if len(missing) == 1 else ("are", "them")
    return (
        f"assetpipe: {EXTRAS[extra].feature} needs {names}, which {which} not installed; "
        f"install {them} with `pip install 'assetpipe[{extra}]'`"
    )
