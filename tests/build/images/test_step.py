"""The image step on its own: which variants it writes, what it records and reuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from assetpipe.build.cache_blobs import HEADER
from assetpipe.build.images import encode
from assetpipe.build.images.step import ImageStats, ImageStep
from assetpipe.build.outputs import BuiltFile, OutputRecords, scan_tree
from assetpipe.build.state import ImageRecord, ImageState
from assetpipe.conf.images import ImageSettings
from assetpipe.digests import md5_bytes
from tests.build.images.pictures import animated_gif, decode, photo, png, rgba_png

RECORDS: dict[Path, OutputRecords] = {}


def servable(root: Path, name: str, data: bytes) -> BuiltFile:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return BuiltFile(name, md5_bytes(data), len(data), None, root)


def run(
    root: Path,
    state: ImageState,
    cache: Path,
    files: list[BuiltFile],
    settings: ImageSettings | None = None,
    *,
    edge: bool = False,
) -> ImageStats:
    existing = scan_tree(root, RECORDS.setdefault(root, {}))
    step = ImageStep(
        root,
        settings or ImageSettings(workers=2),
        state,
        existing,
        cache_dir=cache,
        every_format=edge,
    )
    return step.run(files)


def tiny_png() -> bytes:
    # 1x1: a PNG of a few dozen bytes that no variant can beat by 10%.
    return png(Image.new("RGB", (1, 1), "red"), optimize=True)


def test_original_and_hashed_copy_share_one_encode(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    data = photo()
    files = [servable(root, "a.jpg", data), servable(root, "a.0123456789ab.jpg", data)]
    state = ImageState()
    stats = run(root, state, cache, files)
    assert (stats.decoded, stats.converted, stats.reused, stats.written) == (1, 2, 0, 4)
    for name in ("a.jpg", "a.0123456789ab.jpg"):
        for suffix in (".avif", ".webp"):
            variant = (root / (name + suffix)).read_bytes()
            assert len(variant) <= 0.9 * len(data)
    record = state.images[md5_bytes(data)]
    assert (record.width, record.height, record.skipped) == (480, 320, "")
    assert record.sizes == {
        "avif": len((root / "a.jpg.avif").read_bytes()),
        "webp": len((root / "a.jpg.webp").read_bytes()),
    }
    assert stats.original_bytes == 2 * len(data)
    assert stats.smallest_bytes == 2 * min(size or 0 for size in record.sizes.values())


def test_not_smaller_means_no_variant_and_is_not_tried_again(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    data = tiny_png()
    files = [servable(root, "dot.png", data)]
    state = ImageState()
    cold = run(root, state, cache, files, ImageSettings(stills="lossy"))
    assert cold.decoded == 1 and cold.converted == 0 and cold.written == 0
    assert state.images[md5_bytes(data)] == ImageRecord(1, 1, {"avif": None, "webp": None})
    assert not list(root.glob("dot.png.*"))
    warm = run(root, state, cache, files, ImageSettings(stills="lossy"))
    assert (warm.decoded, warm.converted, warm.reused, warm.written) == (0, 0, 0, 0)
    # Without the state, the cache's record says the same: still no decode.
    again = run(root, ImageState(), cache, files, ImageSettings(stills="lossy"))
    assert again.decoded == 0


def test_no_change_run_and_a_lost_static_root(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    files = [servable(root, "a.jpg", photo()), servable(root, "b.png", rgba_png())]
    state = ImageState()
    run(root, state, cache, files)
    variants = {p.name: p.read_bytes() for p in root.glob("*.*.*")}
    assert set(variants) == {"a.jpg.avif", "a.jpg.webp", "b.png.webp"}
    warm = run(root, state, cache, files)
    assert (warm.decoded, warm.converted, warm.reused, warm.written) == (0, 0, 2, 0)
    for name in variants:
        (root / name).unlink()
    copied = run(root, ImageState(), cache, files)  # state gone too: the cache answers
    assert (copied.decoded, copied.converted, copied.reused, copied.written) == (0, 0, 2, 3)
    assert {p.name: p.read_bytes() for p in root.glob("*.*.*")} == variants


def test_a_corrupt_cached_blob_is_encoded_again(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    data = photo()
    files = [servable(root, "a.jpg", data)]
    run(root, ImageState(), cache, files)
    good = (root / "a.jpg.avif").read_bytes()
    (blob,) = cache.rglob("*.avif")
    raw = bytearray(blob.read_bytes())
    raw[HEADER + 10] ^= 0xFF
    blob.write_bytes(bytes(raw))
    (root / "a.jpg.avif").unlink()
    stats = run(root, ImageState(), cache, files)
    assert stats.decoded == 1 and any("corrupt cached image" in w for w in stats.warnings)
    assert (root / "a.jpg.avif").read_bytes() == good


def test_stale_variants_are_replaced_or_removed(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = ImageState()
    run(root, state, cache, [servable(root, "a.jpg", photo(seed=1))])
    first = (root / "a.jpg.avif").read_bytes()
    run(root, state, cache, [servable(root, "a.jpg", photo(seed=2))])
    assert (root / "a.jpg.avif").read_bytes() != first
    # No longer an image Pillow reads: no variant may be served for it any more.
    stats = run(root, state, cache, [servable(root, "a.jpg", b"not an image")])
    assert not list(root.glob("a.jpg.*"))
    assert stats.problems == [
        "a.jpg: not a readable image (UnidentifiedImageError: cannot "
        f"identify image file '{root / 'a.jpg'}')"
    ]
    # Empty: no variants either.
    run(root, state, cache, [servable(root, "a.jpg", photo())])
    run(root, state, cache, [servable(root, "a.jpg", b"")])
    assert not list(root.glob("a.jpg.*"))


def test_a_format_no_longer_configured_is_removed(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = ImageState()
    files = [servable(root, "a.jpg", photo())]
    run(root, state, cache, files)
    assert (root / "a.jpg.avif").exists()
    stats = run(root, state, cache, files, ImageSettings(formats=("webp",)))
    assert not (root / "a.jpg.avif").exists() and (root / "a.jpg.webp").exists()
    assert stats.decoded == 1  # other settings: a key of their own


def test_animated_and_unreadable_images_get_nothing_and_are_remembered(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    files = [servable(root, "spin.gif", animated_gif()), servable(root, "bad.jpg", b"\xff\xd8junk")]
    state = ImageState()
    cold = run(root, state, cache, files)
    assert not list(root.glob("*.avif")) and not list(root.glob("*.webp"))
    assert [p.split(":")[0] for p in cold.problems] == ["bad.jpg"]  # animated is no problem
    warm = run(root, state, cache, files)
    assert warm.decoded == 0 and warm.problems == cold.problems  # still reported, not decoded


def test_edge_gets_every_format_of_every_raster_image(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    sources = {
        "photo.jpg": photo(),
        "dot.png": tiny_png(),
        "icon.png": rgba_png(),  # lossless: WebP kept, no AVIF
        "spin.gif": animated_gif(),
        "bad.jpg": b"\xff\xd8junk",
        "empty.png": b"",
    }
    files = [servable(root, name, data) for name, data in sources.items()]
    files.append(servable(root, "site.css", b"body{}"))
    state = ImageState()
    stats = run(root, state, cache, files, edge=True)
    for name, data in sources.items():
        for suffix in (".avif", ".webp"):
            variant = (root / (name + suffix)).read_bytes()
            kept = state.images[md5_bytes(data)].sizes.get(suffix[1:]) is not None
            if not kept or state.images[md5_bytes(data)].skipped:
                assert variant == data  # the original's bytes, sent with its own type
            else:
                assert len(variant) < len(data) and decode(variant).format == suffix[1:].upper()
    assert not list(root.glob("site.css.*"))
    assert [p.partition(":")[0] for p in stats.problems] == ["bad.jpg"]  # empty is no problem
    # Only files with a smaller variant count as converted, whatever copies an edge gets.
    with_variants = [
        name
        for name, data in sources.items()
        if any(size is not None for size in state.images[md5_bytes(data)].sizes.values())
        and not state.images[md5_bytes(data)].skipped
    ]
    assert {"photo.jpg", "icon.png"} <= set(with_variants) <= {"photo.jpg", "icon.png", "dot.png"}
    assert stats.converted == len(with_variants)
    warm = run(root, state, cache, files, edge=True)
    assert warm.written == 0 and warm.decoded == 0
    # Leaving the edge: the copies go, the smaller variants stay.
    run(root, state, cache, files)
    assert sorted(p.name for p in root.glob("*.avif")) == ["photo.jpg.avif"]
    assert sorted(p.name for p in root.glob("*.webp")) == sorted(f"{n}.webp" for n in with_variants)


def test_a_collected_file_with_a_variant_name_is_never_overwritten(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    mine = b"RIFF-my-own-webp"
    files = [servable(root, "a.jpg", photo()), servable(root, "a.jpg.webp", mine)]
    stats = run(root, ImageState(), cache, files)
    assert (root / "a.jpg.webp").read_bytes() == mine
    assert not (root / "a.jpg.avif").exists()
    assert stats.problems and stats.problems[0].startswith("a.jpg: a collected file")


def test_a_run_with_nothing_to_encode_does_not_ask_pillow_for_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    files = [servable(root, "a.jpg", photo())]
    state = ImageState()
    run(root, state, cache, files)
    assert "Pillow" in state.libraries

    def loading_every_codec() -> str:
        raise AssertionError("asked Pillow for its codecs' versions")

    monkeypatch.setattr(encode, "library_versions", loading_every_codec)
    warm = run(root, state, cache, files)
    assert (warm.decoded, warm.reused) == (0, 1)
    # Another install of Pillow (other files): asked again, and the key follows.
    state.libraries = "elsewhere" + state.libraries
    monkeypatch.setattr(encode, "library_versions", lambda: "Pillow 99")
    moved = run(root, state, cache, files)
    assert moved.decoded == 1 and state.libraries.endswith("\nPillow 99")
