"""Real images and variants for the serving tests, and the ``Accept`` headers browsers send.

The bytes come from Pillow (the ``images`` extra), as the build step's would; without it the
tests that need them skip, or fail under CI.
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

from assetpipe.naming import IMAGE_VARIANTS, image_variant_name
from tests.conftest import require_component

# Format (naming.IMAGE_VARIANTS' keys and the originals') -> Pillow's format name.
PILLOW_FORMATS = {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG", "png": "PNG", "gif": "GIF"}

# The Accept header each browser sends for images (MDN's "List of default Accept values", and
# requests captured from Safari 17.6 and 18; see /docs/how-to/nginx.md), with the format an
# AVIF-then-WebP server picks for it.
BROWSER_ACCEPTS: dict[str, tuple[str, str | None]] = {
    "Chrome": ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "avif"),
    "Firefox": ("image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5", "avif"),
    "Firefox 92-127": ("image/avif,image/webp,*/*", "avif"),
    "Safari 17": (
        "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
        "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        "avif",
    ),
    "Safari 14-16": (
        "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
        "webp",
    ),
    "curl": ("*/*", None),
}
# Headers that refuse or malform a format, with the format that must be picked.
REFUSING_ACCEPTS: dict[str, tuple[str | None, str | None]] = {
    "no header": (None, None),
    "empty": ("", None),
    "image/* only": ("image/*", None),
    "avif refused": ("image/avif;q=0,image/webp,*/*", "webp"),
    "avif refused, Chrome's list": (
        "image/avif;q=0,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "webp",
    ),
    "both refused": ("image/avif;q=0, image/webp;q=0.000, */*", None),
    "refused upper case, spaced": ("IMAGE/AVIF ; Q = 0.0 , image/webp", "webp"),
    "refused after a parameter": ("image/avif;level=1;q=0,image/webp", "webp"),
    "refused twice listed": ("image/avif,image/webp,image/avif;q=0", "webp"),
    "malformed weight": ("image/avif;q=1.5,image/webp", "webp"),
    "empty weight": ("image/avif;q=,image/webp;q", None),
    "small weight": ("image/avif;q=0.001", "avif"),
    "tabs": ("image/webp;q=0.9,\timage/avif\t;\tq=0", "webp"),
    "a longer type": ("image/avifx,image/webp-not", None),
}


def require_pillow() -> Any:
    """Pillow's Image module, able to write AVIF and WebP (imported by name: it is optional)."""
    try:
        image = importlib.import_module("PIL.Image")
        features = importlib.import_module("PIL.features")
    except ImportError:
        available = False
    else:
        available = bool(features.check("avif")) and bool(features.check("webp"))
    require_component("Pillow with AVIF and WebP", available, "pip install assetpipe[images]")
    return image


def photo(width: int = 96, height: int = 64) -> Any:
    """A small image with gradients, so that each format encodes it to its own bytes."""
    image_module = require_pillow()
    image = image_module.new("RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // width, (y * 255) // height, ((x + y) * 7) % 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def encode(image: Any, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, PILLOW_FORMATS[image_format])
    return out.getvalue()


def write_variants(original: Path, formats: tuple[str, ...] = tuple(IMAGE_VARIANTS)) -> None:
    """Write each format's variant beside ``original``, as the build's image step does."""
    with require_pillow().open(original) as image:
        image.load()
        for image_format in formats:
            path = original.parent / image_variant_name(original.name, image_format)
            path.write_bytes(encode(image.convert("RGB"), image_format))
