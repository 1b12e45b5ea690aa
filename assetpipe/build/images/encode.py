"""Decoding a raster image and encoding its AVIF and WebP variants with Pillow.

Only the image step imports this module, and only with the ``images`` option on. Output is
deterministic: fixed encoder settings, AVIF on one thread (libaom's output depends on its thread
count), no EXIF, XMP or timestamps; only the colour profile is carried over. The library
versions that decide the bytes are in :func:`library_versions`, part of the step's cache key.

Each image is lossless (exact pixels: WebP only) or lossy (every format): see :func:`_lossless`.
A lossy variant is encoded at the fixed ``quality``, or, with a ``floor``, at the lowest quality
whose decoded result still scores the floor against the original (``floor``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, features

from assetpipe.build.images.classify import is_photo
from assetpipe.conf.images import SEARCHED, ImageSettings

# Sources whose pixels are exact (lossless originals), which may get lossless WebP.
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
    # format -> the quality of its lossy variant (absent: lossless, or none reached the floor)
    quality: dict[str, int] = field(default_factory=dict)


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


def encode_image(source: Path | bytes, settings: ImageSettings, forced: str = "") -> Encoded:
    """The variants of one image; :class:`Skipped` when it gets none, never another error.
    ``forced``: "lossless" or "lossy" when a pattern of the settings names the image.

    Pillow's DecompressionBombWarning must be an error in the calling thread's filters (the
    step sets that up around its pool), so an image over Pillow's pixel limit is skipped.
    """
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as opened:
            if getattr(opened, "is_animated", False):
                raise Skipped("animated image, served as it is")
            source_format = opened.format or ""
            image, icc = _normalized(opened)
        blobs: dict[str, bytes | None] = {}
        quality: dict[str, int] = {}
        if _lossless(image, source_format, settings, forced):
            for image_format in settings.formats:
                blobs[image_format] = _encode_lossless(image, icc, image_format)
        elif settings.floor is None:
            for image_format in settings.formats:
                quality[image_format] = settings.quality[image_format]
                blobs[image_format] = _encode(
                    image, icc, image_format, settings, quality[image_format]
                )
        else:
            from assetpipe.build.images.floor import Reference, lowest_passing

            reference, floor = Reference(image), settings.floor["ssim"]

            def passes(blob: bytes) -> bool:
                return reference.score(blob) >= floor

            for image_format in settings.formats:
                found = lowest_passing(
                    partial(_encode, image, icc, image_format, settings),
                    passes,
                    *SEARCHED[image_format],
                )
                blobs[image_format] = None if found is None else found[1]
                if found is not None:
                    quality[image_format] = found[0]
        return Encoded(image.width, image.height, blobs, quality)
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


def _lossless(image: Image.Image, source_format: str, settings: ImageSettings, forced: str) -> bool:
    """Exact pixels? A pattern decides first, then the source: a JPEG is lossy already; a PNG or
    GIF still by ``stills``, where "classify" keeps GIFs (256 colours, often dithered: noise that
    no lossy codec keeps cheaply) lossless and looks at a PNG's pixels (``classify``)."""
    if forced:
        return forced == "lossless"
    if source_format not in LOSSLESS_SOURCES or settings.stills == "lossy":
        return False
    if settings.stills == "lossless" or source_format == "GIF":
        return True
    return not is_photo(image)


def _encode_lossless(image: Image.Image, icc: bytes | None, image_format: str) -> bytes | None:
    if image_format != "webp":
        return None  # no AVIF of an exact-pixel image: AVIF converts to YUV even at 100
    out = io.BytesIO()
    image.save(out, format="WEBP", icc_profile=icc or b"", exact=False, **_LOSSLESS_WEBP)
    return out.getvalue()


def _encode(
    image: Image.Image,
    icc: bytes | None,
    image_format: str,
    settings: ImageSettings,
    quality: int,
) -> bytes:
    out = io.BytesIO()
    if image_format == "webp":
        image.save(
            out,
            format="WEBP",
            icc_profile=icc or b"",
            exact=False,
            quality=quality,
            method=settings.webp_method,
        )
    elif image_format == "avif":
        image.save(
            out,
            format="AVIF",
            quality=quality,
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
