"""Is a PNG a photograph (lossy variants) or a graphic (lossless)? Decided from its pixels alone.

A graphic - a logo, an icon, text, a screenshot, a diagram - has large runs of identical pixels
and few colours, and its sharp edges ring in a lossy codec; a photograph has sensor noise and
smooth shading, so neighbouring pixels are rarely identical and it has thousands of colours. A
PNG is a photograph when all of these hold, else a graphic:

* it is at least ``MIN_SIDE`` pixels on each side (icons and sprites are graphics);
* at least ``MIN_OPAQUE`` of its pixels are opaque (alpha 255): a shape on a transparent ground is
  a graphic, a photograph with a cut-out background a photograph. Only opaque pixels are looked
  at below; transparency alone decides nothing, and the variants keep it either way;
* fewer than ``MAX_FLAT`` of the horizontally adjacent opaque pixel pairs are identical;
* it has more than ``MAX_PALETTE`` colours (more than a palette PNG holds), or, when it is grey
  (every pixel R = G = B), more than ``MAX_GREY_LEVELS`` grey levels.

Deterministic (integer counts on the decoded pixels) and cheap next to one encode. Calibrated on
scikit-image's sample images: every photograph among them (astronaut, chelsea, coffee, camera,
coins, motorcycle, grass, gravel...) is one, and its logo, text renderings, chessboards and
phantom are graphics, like every icon of Django's admin (all under ``MIN_SIDE``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

MIN_SIDE = 64
MIN_OPAQUE = 0.5
MAX_FLAT = 0.5
MAX_PALETTE = 256
MAX_GREY_LEVELS = 128


def is_photo(image: Image.Image) -> bool:
    """``image``: RGB or RGBA, upright (as the encoders get it)."""
    if min(image.size) < MIN_SIDE:
        return False
    pixels = np.asarray(image)
    colour = pixels[..., :3]
    opaque = pixels[..., 3] == 255 if image.mode == "RGBA" else np.ones(pixels.shape[:2], bool)
    count = int(opaque.sum())
    if count < MIN_OPAQUE * opaque.size:
        return False
    pairs = opaque[:, 1:] & opaque[:, :-1]
    same = (colour[:, 1:] == colour[:, :-1]).all(axis=-1) & pairs
    if int(same.sum()) >= MAX_FLAT * int(pairs.sum()):
        return False
    shown = colour[opaque].astype(np.uint32)
    grey = bool((shown[:, 0] == shown[:, 1]).all() and (shown[:, 1] == shown[:, 2]).all())
    if grey:
        return len(np.unique(shown[:, 0])) > MAX_GREY_LEVELS
    packed = (shown[:, 0] << 16) | (shown[:, 1] << 8) | shown[:, 2]
    return len(np.unique(packed)) > MAX_PALETTE
