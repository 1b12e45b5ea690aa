"""The compress step on its own: variants, the shared cache, and what it keeps."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import brotli
import pytest

from assetpipe.build.cache_blobs import HEADER as BLOB_HEADER
from assetpipe.build.compress import ENCODINGS, Compressor, should_compress
from assetpipe.build.outputs import BuiltFile, OutputRecords, scan_tree
from assetpipe.build.state import CompressState
from assetpipe.digests import md5_bytes


def servable(root: Path, name: str, data: bytes) -> BuiltFile:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return BuiltFile(name, md5_bytes(data), len(data), path.read_bytes)


# What each root's outputs were when written, kept across runs as the build state keeps it.
RECORDS: dict[Path, OutputRecords] = {}


def compressor(root: Path, state: CompressState, cache: Path) -> Compressor:
    existing = scan_tree(root, RECORDS.setdefault(root, {}))
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
    state = CompressState()
    stats = compressor(root, state, cache).run(files)
    # One content, encoded once; two files with variants; four variant files.
    assert stats.encoded == 1 and stats.compressed == 2 and stats.written == 4
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data
    assert gzip.decompress((root / "b.css.gz").read_bytes()) == data
    digest = md5_bytes(data)
    blob = (cache / digest[:2] / f"{digest}.br").read_bytes()
    assert blob[BLOB_HEADER:] == (root / "a.css.br").read_bytes()

    # Without the state, the cache still answers: nothing is compressed again.
    (root / "a.css.br").unlink()
    stats = compressor(root, CompressState(), cache).run(files)
    assert (stats.encoded, stats.compressed, stats.reused) == (0, 0, 2)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data


def test_content_that_does_not_compress_leaves_no_variant_and_is_remembered(tmp_path: Path) -> None:
    import os

    root, cache = tmp_path / "root", tmp_path / "cache"
    noise = os.urandom(2000)
    files = [servable(root, "noise.txt", noise)]
    state = CompressState()
    compressor(root, state, cache).run(files)
    assert not (root / "noise.txt.br").exists()
    stats = compressor(root, CompressState(), cache).run(files)
    assert stats.encoded == 0 and stats.compressed == stats.reused == 0


def test_cold_and_warm_runs_count_the_same_files(tmp_path: Path) -> None:
    import os

    root, cache = tmp_path / "root", tmp_path / "cache"
    data = b"var a = 1;\n" * 300
    files = [
        servable(root, "a.js", data),
        servable(root, "a.0123456789ab.js", data),
        servable(root, "b.css", b"b{}\n" * 300),
        servable(root, "noise.txt", os.urandom(2000)),  # no variants: counted in neither
    ]
    state = CompressState()
    cold = compressor(root, state, cache).run(files)
    assert (cold.encoded, cold.compressed, cold.reused) == (3, 3, 0)
    warm = compressor(root, state, cache).run(files)
    assert (warm.encoded, warm.compressed, warm.reused, warm.written) == (0, 0, 3, 0)
    # A deleted STATIC_ROOT gets its variants back from the cache: still the same files.
    for path in root.glob("*.br"):
        path.unlink()
    copied = compressor(root, CompressState(), cache).run(files)
    assert (copied.encoded, copied.compressed, copied.reused) == (0, 0, 3)


def test_stale_variants_are_removed(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = CompressState()
    compressor(root, state, cache).run([servable(root, "a.js", b"var a = 1;\n" * 300)])
    assert (root / "a.js.br").exists()
    # The original became empty: its old variants must not be served any more.
    compressor(root, state, cache).run([servable(root, "a.js", b"")])
    assert not (root / "a.js.br").exists() and not (root / "a.js.gz").exists()


def test_cache_is_pruned_once_enough_contents_were_dropped(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    state = CompressState()
    for version in range(80):
        run = compressor(root, state, cache)
        run.run([servable(root, "a.css", f"/* {version} */\n".encode() + b"a{}\n" * 300)])
        run.prune_cache()
    blobs = [p for p in cache.rglob("*") if p.is_file()]
    # Without pruning there would be 160 blobs; what is left is bounded by the threshold.
    assert 2 <= len(blobs) < 160
    live = md5_bytes(b"/* 79 */\n" + b"a{}\n" * 300)
    assert (cache / live[:2] / f"{live}.br").exists()


def test_large_files_stream_to_the_same_bytes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import assetpipe.build.compress

    root, cache = tmp_path / "root", tmp_path / "cache"
    data = b"".join(f"line {i} of a large text file\n".encode() for i in range(40_000))
    one_shot = {e.name: e.encode(data) for e in ENCODINGS.values()}
    monkeypatch.setattr(assetpipe.build.compress, "LARGE_FILE", 64 * 1024)  # streamed in chunks
    path = root / "big.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    big = BuiltFile("big.txt", md5_bytes(data), len(data), None, path.parent)
    stats = compressor(root, CompressState(), cache).run([big])
    assert stats.encoded == 1
    assert (root / "big.txt.br").read_bytes() == one_shot["br"]
    assert (root / "big.txt.gz").read_bytes() == one_shot["gzip"]
    digest = md5_bytes(data)
    assert (cache / digest[:2] / f"{digest}.gzip").read_bytes()[BLOB_HEADER:] == one_shot["gzip"]
    assert not [p for p in root.rglob(".ap-*")]


def test_a_corrupt_blob_is_never_copied(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    data = b"body { color: red; }\n" * 200
    files = [servable(root, "a.css", data)]
    compressor(root, CompressState(), cache).run(files)
    digest = md5_bytes(data)
    blob = cache / digest[:2] / f"{digest}.br"
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    (root / "a.css.br").unlink()
    stats = compressor(root, CompressState(), cache).run(files)
    assert stats.encoded == 1 and any("corrupt" in w for w in stats.warnings)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data
    assert blob.read_bytes()[BLOB_HEADER:] == (root / "a.css.br").read_bytes()


def test_cache_write_failure_is_only_a_warning(tmp_path: Path) -> None:
    root, cache = tmp_path / "root", tmp_path / "cache"
    cache.write_bytes(b"a file where the cache directory should be")
    data = b"body { color: red; }\n" * 200
    stats = compressor(root, CompressState(), cache).run([servable(root, "a.css", data)])
    assert any("could not write the compressed cache" in w for w in stats.warnings)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == data


def test_gzip_bytes_are_the_same_on_every_python() -> None:
    # gzip.compress writes OS byte 3 on Python 3.11 and 255 on 3.13: not used for that reason.
    data = b"".join(f"rule {i} {{ margin: {i}px; }}\n".encode() for i in range(2000))
    encoded = ENCODINGS["gzip"].encode(data)
    assert encoded[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    assert gzip.decompress(encoded) == data
    assert (
        md5_bytes(encoded) == "7870547ca28186159811e6247afb35ff"
    )  # pinned: the same on 3.11, 3.12 and 3.13
    stream = ENCODINGS["gzip"].stream()
    chunks = [stream.process(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    assert b"".join(chunks) + stream.finish() == encoded


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_decode_stops_within_a_piece_of_the_expected_size(encoding: str) -> None:
    # Imported here: on a version without bounded decoding only this test fails.
    from assetpipe.build.compress import DECODE_PIECE, TooLarge, decode_bounded

    expected = 4096
    bomb = ENCODINGS[encoding].encode(bytes(64 << 20))  # 64 MiB of zeros: tens of KB at most
    assert len(bomb) < 100_000
    with pytest.raises(TooLarge) as raised:
        decode_bounded(ENCODINGS[encoding], bomb, expected)
    # brotli's buffer grows in blocks: up to two pieces past the limit, never the whole.
    assert expected < raised.value.produced <= expected + 2 * DECODE_PIECE
    content = b"body { color: red }\n" * 200
    assert decode_bounded(ENCODINGS[encoding], ENCODINGS[encoding].encode(content), 4000) == (
        content
    )


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_truncated_or_padded_encoding_is_refused(encoding: str) -> None:
    from assetpipe.build.compress import DECODE_ERRORS, decode_bounded

    encoded = ENCODINGS[encoding].encode(b"body { color: red }\n" * 200)
    for bad in (encoded[:-4], encoded + b"\0junk"):
        with pytest.raises(DECODE_ERRORS):
            decode_bounded(ENCODINGS[encoding], bad, 4000)


def test_a_cached_bomb_is_discarded_having_made_at_most_a_piece(tmp_path: Path) -> None:
    """A cache blob filed under a content, of its size, that decodes to far more: copying it
    stops decoding past the content's size."""
    root, cache = tmp_path / "root", tmp_path / "cache"
    content = "".join(f".c{i} {{ color: #{i * 7919 % 4096:03x} }}\n" for i in range(2000)).encode()
    a = servable(root, "a.css", content)
    state = CompressState()
    compressor(root, state, cache).run([a])
    good = (root / "a.css.br").read_bytes()
    (blob,) = cache.rglob("*.br")
    raw = blob.read_bytes()
    header = raw[: len(raw) - len(good)]
    bomb = ENCODINGS["br"].encode(bytes(64 << 20))
    assert len(bomb) <= len(good)
    bomb += bytes(len(good) - len(bomb))  # padded to the size the state records
    blob.write_bytes(header[:-16] + hashlib.md5(bomb).digest() + bomb)
    (root / "a.css.br").unlink()

    stats = compressor(root, CompressState(), cache).run([a])

    assert any("corrupt cached blob" in warning for warning in stats.warnings)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == content
