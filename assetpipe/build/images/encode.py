"""Decoding a raster image and encoding its AVIF and WebP variants with Pillow.

Only the image step imports this module, and only with the ``images`` option on. Output is
deterministic: fixed encoder settings, AVIF on one thread (libaom's output depends on its thread
count), no EXIF, XMP or timestamps; only the colour profile is carried over. The library
versions that decide the bytes are in :func:`library_versions`, part of the step's cache key.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, features

from assetpipe.conf.images import ImageSettings

# Sources whose pixels are exact (lossless originals): with ``lossless`` they get lossless WebP.
LOSSLESS_SOURCES = frozenset({"PNG", "GIF"})
# Lossless WebP: effort 80 of 100 at method 4, libwebp's defaults.
_LOSSLESS_WEBP = {"lossless": True, "quality": 80, "method": 4}
# (profile colour space, image mode) that are converted to sRGB through the profile.
_CONVERTIBLE = frozenset({("CMYK", "CMYK"), ("GRAY", "L"), ("GRAY", "LA")})


class Skipped(Exception):
    """The image gets no variants; the message says why (animated, corrupt, too large...)."""


@dataclass(frozen=True)
class Encoded:
    width: int
    height: int
    # format -> encoded bytes, or None for a format this image does not get
    blobs: dict[str, bytes | None]


def library_versions() -> str:
    """Pillow's and its codecs' versions: a change to any of them may change the bytes."""
    from PIL import __version__

    parts = [f"Pillow {__version__}"]
    for name in ("webp", "avif", "jpg", "zlib", "littlecms2"):
        parts.append(f"{name} {features.version(name)}")
    try:
        from PIL import _avif

        parts.append(f"avif codecs {_avif.codec_versions()}")
    except ImportError:
        pass
    return "; ".join(parts)


def encode_image(source: Path | bytes, settings: ImageSettings) -> Encoded:
    """The variants of one image; :class:`Skipped` when it gets none, never another error.

    Pillow's DecompressionBombWarning must be an error in the calling thread's filters (the
    step sets that up around its pool), so an image over Pillow's pixel limit is skipped.
    """
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as opened:
            if getattr(opened, "is_animated", False):
                raise Skipped("animated image, served as it is")
            source_format = opened.format or ""
            image, icc = _normalized(opened)
        lossless = settings.lossless and source_format in LOSSLESS_SOURCES
        blobs: dict[str, bytes | None] = {}
        for image_format in settings.formats:
            blobs[image_format] = _encode(image, icc, image_format, settings, lossless)
        return Encoded(image.width, image.height, blobs)
    except Skipped:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Skipped(f"over Pillow's pixel limit, Image.MAX_IMAGE_PIXELS ({exc})") from exc
    except Exception as exc:  # Pillow raises many kinds for bad input; none may fail the build
        raise Skipped(f"not a readable image ({type(exc).__name__}: {exc})") from exc


def _normalized(opened: Image.Image) -> tuple[Image.Image, bytes | None]:
    """The pixels upright, in RGB or RGBA, and the ICC profile that describes them (if any)."""
    image = ImageOps.exif_transpose(opened)  # a copy, upright; the orientation tag is gone
    icc: bytes | None = opened.info.get("icc_profile") or None
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: scaled to 8 bits (a plain convert would clip at 255).
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (
        image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )
    target = "RGBA" if has_alpha else "RGB"
    if icc is not None:
        space = _colour_space(icc)
        if space == "RGB" and image.mode != "CMYK":
            pass  # the profile describes the RGB pixels the encoders get: kept
        elif (space, image.mode) in _CONVERTIBLE:
            # A CMYK or greyscale profile cannot describe RGB pixels: convert through it to
            # sRGB, which browsers assume for an image without a profile.
            image, icc = _to_srgb(image, icc, target), None
        else:
            icc = None  # unreadable, or not the pixels' colour space: pixels kept as they are
    if image.mode != target:
        image = image.convert(target)
    image.info.clear()  # nothing of the source's metadata may reach an encoder by default
    return image, icc


def _colour_space(icc: bytes) -> str | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError):
        return None  # unreadable: dropped, the pixels are kept as they are
    return str(profile.profile.xcolor_space).strip()


def _to_srgb(image: Image.Image, icc: bytes, target: str) -> Image.Image:
    alpha = image.getchannel("A") if image.mode == "LA" else None
    if alpha is not None:
        image = image.convert("L")
    converted = ImageCms.profileToProfile(
        image,
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    )
    assert converted is not None
    if alpha is not None and target == "RGBA":
        converted.putalpha(alpha)
    return converted


def _encode(
    image: Image.Image,
    icc: bytes | None,
    image_format: str,
    settings: ImageSettings,
    lossless: bool,
) -> bytes | None:
    out = io.BytesIO()
    if image_format == "webp":
        options: dict[str, object] = (
            dict(_LOSSLESS_WEBP)
            if lossless
            else {"quality": settings.quality["webp"], "method": settings.webp_method}
        )
        image.save(out, format="WEBP", icc_profile=icc or b"", exact=False, **options)
    elif image_format == "avif":
        if lossless:
            return None  # no AVIF for an exact-pixel source: lossy would blur its edges
        image.save(
            out,
            format="AVIF",
            quality=settings.quality["avif"],
            speed=settings.avif_speed,
            subsampling="4:2:0",
            max_threads=1,  # libaom's bytes depend on its thread count
            codec="auto",
            range="full",
            icc_profile=icc or b"",
            exif=b"",
            xmp=b"",
        )
    else:  # pragma: no cover - formats are validated
        raise ValueError(image_format)
    return out.getvalue()
