"""The perceptual floor: the lowest quality whose decoded variant still looks like the original.

The score is SSIM (Wang et al. 2004, scikit-image's ``structural_similarity`` with the paper's
Gaussian window: sigma 1.5, population covariance) on luma (BT.601 weights, in floating point),
the channel where SSIM was validated and where lossy codecs' artefacts show; both codecs
subsample chroma anyway. An image with alpha is scored composited on black and on white, the
lower score counting, so that damage to the alpha channel, or to colour under partial
transparency, shows against either background a page may have. The variant is decoded by
Pillow (dav1d, libwebp), as a browser would decode it, and converted to the original's mode.

Scores are compared rounded to ``FLOOR_DECIMALS``: SSIM is a sum of floating-point filters
whose last bits may differ between CPUs and numpy builds; rounding keeps a score that sits on the
floor on the same side everywhere (only a score within about 1e-12 of a rounding boundary could
still differ, which no image has been seen to do).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from assetpipe.conf.images import FLOOR_DECIMALS

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# How the score is computed here (channel, composites, window, rounding): part of the step's
# key with the metric's package versions, so changing it re-encodes every image once.
METRIC_VERSION = 1
_LUMA = (0.299, 0.587, 0.114)
# The Gaussian window's width at sigma 1.5, as scikit-image truncates it (3.5 sigma each side).
WINDOW = 11


def metric_versions() -> str:
    """The metric's implementation, without importing it (the step's key is made on every run,
    also one that decodes nothing). numpy's and scipy's versions are left out on purpose: the
    rounded scores must not depend on them, and the lock gives each Python its own."""
    try:
        package = f"scikit-image {version('scikit-image')}"
    except PackageNotFoundError:
        package = "scikit-image missing"
    return f"floor metric {METRIC_VERSION}; {package}"


class Reference:
    """The original's luma planes, computed once for every candidate of one image."""

    def __init__(self, image: Image.Image) -> None:
        self.mode = image.mode
        self.planes = _planes(image)

    def score(self, blob: bytes) -> float:
        """SSIM of the decoded ``blob`` against the original, rounded to FLOOR_DECIMALS."""
        from PIL import Image
        from skimage.metrics import structural_similarity

        with Image.open(io.BytesIO(blob)) as decoded:
            planes = _planes(decoded.convert(self.mode))
        score = min(
            float(
                structural_similarity(  # type: ignore[no-untyped-call]
                    original,
                    variant,
                    data_range=255.0,
                    gaussian_weights=True,
                    sigma=1.5,
                    use_sample_covariance=False,
                )
            )
            for original, variant in zip(self.planes, planes, strict=True)
        )
        return round(score, FLOOR_DECIMALS)


def _planes(image: Image.Image) -> list[np.ndarray]:
    import numpy as np

    pixels = np.asarray(image, dtype=np.float64)
    # SSIM's window needs WINDOW pixels each way: a smaller image is scored with its edge pixels
    # repeated up to that size (the original and its variant alike).
    short = [(0, max(0, WINDOW - side)) for side in pixels.shape[:2]] + [(0, 0)]
    pixels = np.pad(pixels, short, mode="edge")
    luma = pixels[..., :3] @ np.array(_LUMA)
    if image.mode != "RGBA":
        return [luma]
    alpha = pixels[..., 3] / 255.0
    return [luma * alpha, luma * alpha + 255.0 * (1.0 - alpha)]  # over black, over white


def lowest_passing(
    encode: Callable[[int], bytes], passes: Callable[[bytes], bool], low: int, high: int
) -> tuple[int, bytes] | None:
    """Bisection over the integer qualities low..high: the lowest one whose encode passes, with
    its bytes, or None when none does. Scores rise with quality on the whole but not strictly, so
    the answer is one the search measured passing (never an untried one), found in about
    log2(high - low + 1) encodes."""
    found: tuple[int, bytes] | None = None
    while low < high:
        middle = (low + high) // 2
        blob = encode(middle)
        if passes(blob):
            found, high = (middle, blob), middle
        else:
            low = middle + 1
    if found is None:
        blob = encode(low)  # the top of the range, never tried: the last chance
        if passes(blob):
            found = (low, blob)
    return found
