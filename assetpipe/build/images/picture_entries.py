"""What ``staticfiles.json`` tells ``{% static_picture %}`` about each raster image.

``"images": {"img/hero.jpg": {"width": 1200, "height": 800, "formats": ["avif", "webp"]}}``,
keyed like Django's ``"paths"``, only with the ``images`` option on. ``formats`` lists only the
variants that are smaller than the original (never an edge's byte copies), in the order a
browser should try them; width and height are the upright image's, for the ``<img>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from assetpipe.build.state import ImageState
from assetpipe.naming import IMAGE_VARIANTS, is_raster_image


def manifest_images(
    names: Iterable[tuple[str, str]], state: ImageState, key_for: Callable[[str], str]
) -> dict[str, dict[str, Any]]:
    """``names``: (collected name, its content digest) of the build's sources."""
    images: dict[str, dict[str, Any]] = {}
    for name, digest in names:
        record = state.images.get(digest)
        if not is_raster_image(name) or record is None or record.skipped or not record.width:
            continue
        formats = [f for f in IMAGE_VARIANTS if record.sizes.get(f) is not None]
        images[key_for(name)] = {
            "width": record.width,
            "height": record.height,
            "formats": formats,
        }
    return dict(sorted(images.items()))
