"""Image variants (``hero.<hash>.jpg.avif``, ``.webp``) in the bucket: published beside their
originals with the type of their bytes and their original's caching, required where an edge
picks them, kept and pruned with their originals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.edge.negotiation import Negotiation
from assetpipe.publish.prune import prune
from assetpipe.publish.s3 import PublishError, S3Config, publish
from assetpipe.publish.status import status
from tests.publish.conftest import TREE, bucket_keys, build_static

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
# The start of an AVIF file (an ftyp box of brand avif) and of a WebP one: the type is sniffed.
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8L" + bytes(64)
EDGE = Negotiation(
    "static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS, image_formats=("avif", "webp")
)


def logo(root: Path) -> str:
    name: str = json.loads((root / "staticfiles.json").read_bytes())["paths"]["img/logo.png"]
    return name


def with_variants(root: Path, *, webp: bytes | None = WEBP) -> Path:
    """Variants of img/logo.png, hashed and original, as the image step writes them; ``webp``
    None: none, as for an encode that was not smaller outside edge mode."""
    for name in (logo(root), "img/logo.png"):
        (root / f"{name}.avif").write_bytes(AVIF)
        if webp is not None:
            (root / f"{name}.webp").write_bytes(webp)
    return root


def head(s3_client: Any, config: S3Config, name: str) -> dict[str, Any]:
    response: dict[str, Any] = s3_client.head_object(
        Bucket=config.bucket_name, Key=config.key(name)
    )
    return response


@pytest.mark.parametrize("variants", ["static_root", "static_root_and_bucket"])
def test_variants_are_published_with_the_type_of_their_bytes_and_their_originals_caching(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any, variants: str
) -> None:
    # The .webp of an edge-mode build whose encode was not smaller: a copy of the PNG.
    png = (static_root / "img/logo.png").read_bytes()
    root = with_variants(static_root, webp=png)
    cfg = config(variants=variants)
    publish(root, "staticfiles.json", cfg)
    hashed = logo(root)
    for name, cache_control in ((hashed, IMMUTABLE), ("img/logo.png", SHORT)):
        avif = head(s3_client, cfg, f"{name}.avif")
        assert (avif["ContentType"], avif["CacheControl"]) == ("image/avif", cache_control)
        copy = head(s3_client, cfg, f"{name}.webp")
        assert (copy["ContentType"], copy["CacheControl"]) == ("image/png", cache_control)
        assert "ContentEncoding" not in avif and "ContentEncoding" not in copy
        body = s3_client.get_object(Bucket=cfg.bucket_name, Key=cfg.key(f"{name}.webp"))["Body"]
        assert body.read() == png


def test_an_edge_build_lacking_an_image_variant_is_never_published(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    root = with_variants(static_root, webp=None)
    cfg = config(variants="static_root_and_bucket")
    with pytest.raises(PublishError) as raised:
        publish(root, "staticfiles.json", cfg, negotiation=EDGE)
    assert ".png.webp is missing" in str(raised.value)
    assert "nothing was published" in str(raised.value)
    assert not bucket_keys(s3_client, cfg.bucket_name)
    # Without image formats the edge asks for no image variant: the same build publishes.
    without = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS)
    publish(root, "staticfiles.json", cfg, negotiation=without)
    assert cfg.key(f"{logo(root)}.avif") in bucket_keys(s3_client, cfg.bucket_name)


def test_an_edge_build_with_every_image_variant_is_published_and_status_agrees(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    root = with_variants(static_root)
    cfg = config(variants="static_root_and_bucket")
    publish(root, "staticfiles.json", cfg, negotiation=EDGE)
    keys = bucket_keys(s3_client, cfg.bucket_name)
    for name in (logo(root), "img/logo.png"):
        assert {cfg.key(f"{name}.avif"), cfg.key(f"{name}.webp")} <= keys
    assert status(root, "staticfiles.json", cfg, negotiation=EDGE).edge_missing == []
    s3_client.delete_object(Bucket=cfg.bucket_name, Key=cfg.key(f"{logo(root)}.webp"))
    found = status(root, "staticfiles.json", cfg, negotiation=EDGE)
    assert found.edge_missing == [f"{logo(root)}.webp"]


def test_prune_keeps_the_variants_of_kept_builds_and_deletes_those_of_older_ones(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    root = tmp_path / "static"
    cfg = config()
    logos = []
    for version in range(4):
        tree = {**TREE, "img/logo.png": TREE["img/logo.png"] + bytes([version])}
        with_variants(build_static(root, tree))
        publish(root, "staticfiles.json", cfg)
        logos.append(logo(root))
    before = bucket_keys(s3_client, cfg.bucket_name)
    result = prune(cfg, keep=3, min_age=0)
    oldest = {cfg.key(logos[0] + suffix) for suffix in ("", ".avif", ".webp")}
    # The oldest logo and its variants, and the CSS that referenced it.
    assert {k for k in result.deleted if "/img/" in k} == oldest
    assert bucket_keys(s3_client, cfg.bucket_name) == before - set(result.deleted)
    # The kept builds' variants, of the hashed names and of the original, are all there.
    for name in (*logos[1:], "img/logo.png"):
        assert {cfg.key(f"{name}.avif"), cfg.key(f"{name}.webp")} <= before - set(result.deleted)


def test_prune_deletes_an_orphaned_variant_of_a_hashed_name_only(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    publish(static_root, "staticfiles.json", cfg)
    # Left by a publish cut short: a variant no manifest names the original of.
    orphans = {"img/gone.0123456789ab.png.avif": AVIF, "img/gone.png.webp": WEBP}
    for name, data in orphans.items():
        s3_client.put_object(Bucket=cfg.bucket_name, Key=cfg.key(name), Body=data)
    result = prune(cfg, keep=3, min_age=0)
    assert result.deleted == (cfg.key("img/gone.0123456789ab.png.avif"),)
    assert cfg.key("img/gone.png.webp") in bucket_keys(s3_client, cfg.bucket_name)
