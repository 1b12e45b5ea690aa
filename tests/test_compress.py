"""The compress step on its own: variants, the shared cache, and what it keeps."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli

from assetpipe.compress import ENCODINGS, Compressor, should_compress
from assetpipe.files import BuiltFile
from assetpipe.hashing import md5_hex
from assetpipe.state import BuildState


def servable(root: Path, name: str, data: bytes) -> BuiltFile:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return BuiltFile(name, md5_hex(data), len(data), path.read_bytes)


def compressor(root: Path, state: BuildState, cache: Path) -> Compressor:
    existing = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    return Compressor(
        root, [ENCODINGS["br"], ENCODINGS["gzip"]], state, existing, cache_dir=cache, workers=2
    )


def test_should_compress() -> None:
    skip = frozenset({"png", "woff2"})
    assert should_compress("a/b.css", skip)
    assert should_compress("logo.svg", skip)
    assert not should_compress("a/b.PNG", skip)
    assert not should_compress("font.woff2", skip)
    assert should_compress("LICENSE", skip)


def test_variants_and_their_cache(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    data = b"body { color: red; }\n" * 200
    files = [servable(root, "a.css", data), servable(root, "b.css", data)]
    state = BuildState("x")
    stats = compressor(root, state, cache).run(files)
    assert stats.compressed == 1 and stats.written == 4
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data
    assert gzip.decompress((root / "b.css.gz").read_bytes()) == data
    digest = md5_hex(data)
    assert (cache / digest[:2] / f"{digest}.br").read_bytes() == (root / "a.css.br").read_bytes()

    # Without the state, the cache still answers: nothing is compressed again.
    (root / "a.css.br").unlink()
    stats = compressor(root, BuildState("x"), cache).run(files)
    assert stats.compressed == 0
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data


def test_content_that_does_not_compress_leaves_no_variant_and_is_remembered(tmp_path: Path) -> None:
    import os

    root, cache = tmp_path / "root", tmp_path / "cache"
    noise = os.urandom(2000)
    files = [servable(root, "noise.txt", noise)]
    state = BuildState("x")
    compressor(root, state, cache).run(files)
    assert not (root / "noise.txt.br").exists()
    stats = compressor(root, BuildState("x"), cache).run(files)
    assert stats.compressed == 0


def test_stale_variants_are_removed(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = BuildState("x")
    compressor(root, state, cache).run([servable(root, "a.js", b"var a = 1;\n" * 300)])
    assert (root / "a.js.br").exists()
    # The original became empty: its old variants must not be served any more.
    compressor(root, state, cache).run([servable(root, "a.js", b"")])
    assert not (root / "a.js.br").exists() and not (root / "a.js.gz").exists()


def test_cache_is_pruned_once_enough_contents_were_dropped(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = BuildState("x")
    for version in range(80):
        run = compressor(root, state, cache)
        run.run([servable(root, "a.css", f"/* {version} */\n".encode() + b"a{}\n" * 300)])
        run.prune_cache()
    blobs = [p for p in cache.rglob("*") if p.is_file()]
    # Without pruning there would be 160 blobs; what is left is bounded by the threshold.
    assert 2 <= len(blobs) < 160
    live = md5_hex(b"/* 79 */\n" + b"a{}\n" * 300)
    assert (cache / live[:2] / f"{live}.br").exists()
