"""Which image format an ``Accept`` header picks: the rule (preferred_image_format) and the
regular expressions nginx states it with, over the headers browsers send and those that refuse.

The same headers go to real nginx (tests/serve/test_nginx_images.py) and to the edge code on
node and workerd (tests/edge/test_images.py).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetpipe.edge.negotiation import preferred_image_format
from assetpipe.serve.nginx import accepts_pattern
from tests.serve.images.pictures import BROWSER_ACCEPTS, REFUSING_ACCEPTS

FORMATS = ("avif", "webp")
CASES = {**BROWSER_ACCEPTS, **REFUSING_ACCEPTS}


def nginx_choice(header: str | None, formats: tuple[str, ...] = FORMATS) -> str | None:
    """What the generated server-level ``if``s leave in the variable: the last match wins,
    and they run from the least preferred format to the most."""
    chosen = None
    for image_format in reversed(formats):
        if re.search(accepts_pattern(image_format), header or "", re.IGNORECASE):
            chosen = image_format
    return chosen


@pytest.mark.parametrize(("header", "expected"), CASES.values(), ids=CASES.keys())
def test_rule_and_nginx_pick_the_same_format(header: str | None, expected: str | None) -> None:
    assert preferred_image_format(header, FORMATS) == expected
    assert nginx_choice(header) == expected


def test_the_server_order_decides_between_formats_of_equal_weight() -> None:
    safari = BROWSER_ACCEPTS["Safari 17"][0]
    assert preferred_image_format(safari, ("webp", "avif")) == "webp"
    assert nginx_choice(safari, ("webp", "avif")) == "webp"
    assert preferred_image_format(safari, ("webp",)) == "webp"
    assert preferred_image_format("image/avif", ()) is None


def test_a_higher_weight_wins_in_the_rule_only() -> None:
    # The documented limit: nginx cannot compare weights, and keeps the server's order.
    header = "image/webp,image/avif;q=0.5"
    assert preferred_image_format(header, FORMATS) == "webp"
    assert nginx_choice(header) == "avif"


ELEMENTS = st.sampled_from(
    [
        "image/avif",
        "image/webp",
        "IMAGE/AVIF",
        "image/*",
        "*/*",
        "image/png",
        "image/avifx",
        "",
    ]
)
PARAMETERS = st.sampled_from(
    ["", ";q=0", ";q=0.0", ";q=0.000", ";q=0.5", ";q=1", ";q=1.0", ";q=1.5", ";q=", ";q",
     " ; q = 0", ";level=1", ";level=1;q=0", ";Q=0.001", ";q=0.0001", ";q=abc"]
)  # fmt: skip


@given(st.lists(st.tuples(ELEMENTS, PARAMETERS), max_size=6), st.sampled_from([",", ", ", ",\t"]))
def test_nginx_never_serves_a_format_the_rule_refuses(
    elements: list[tuple[str, str]], separator: str
) -> None:
    header = separator.join(media + parameters for media, parameters in elements)
    chosen = nginx_choice(header)
    if chosen is not None:
        # Accepted alone, the rule would pick it too: its weight is above 0.
        assert preferred_image_format(header, (chosen,)) == chosen
    else:
        assert all(preferred_image_format(header, (f,)) is None for f in FORMATS)
