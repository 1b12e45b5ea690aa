"""The digest step: digests and sizes of the collected sources, reused by their stamps."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from assetpipe.build.sources import digest_sources
from assetpipe.build.state import SourcesState, SourceStamp
from assetpipe.digests import md5_bytes


class MemoryStorage(Storage):
    """A source storage without a local path, like a remote one; counts its reads."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.opened = 0

    def _open(self, name: str, mode: str = "rb") -> ContentFile[bytes]:
        self.opened += 1
        return ContentFile(self.files[name], name=name)


def tree(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "a.css").write_bytes(b"a { }")
    (tmp_path / "b.js").write_bytes(b"var b;")
    return tmp_path


def paths_of(storage: Storage, *names: str) -> dict[str, tuple[Storage, str]]:
    return {name: (storage, name) for name in names}


def test_digests_sizes_and_stamps(tmp_path: Path) -> None:
    storage = FileSystemStorage(tree(tmp_path))
    sources, state = digest_sources(
        paths_of(storage, "css/a.css", "b.js"), SourcesState(), lambda n: n
    )
    a = sources["css/a.css"]
    assert (a.name, a.key, a.digest, a.size) == ("css/a.css", "css/a.css", md5_bytes(b"a { }"), 5)
    assert a.path == os.path.join(str(tmp_path), "css/a.css")
    assert a.load() == b"a { }"
    assert set(state.stamps) == {a.path, os.path.join(str(tmp_path), "b.js")}
    assert state.stamps[a.path].digest == a.digest


def test_unchanged_stamp_reuses_the_digest_without_reading(tmp_path: Path) -> None:
    root = tree(tmp_path)
    stat = (root / "b.js").stat()
    fs_path = os.path.join(str(root), "b.js")
    # A digest the file does not have: reused as it is, which proves nothing was read.
    previous = SourcesState({fs_path: stamp_of(stat, "recorded")})
    sources, state = digest_sources(
        paths_of(FileSystemStorage(root), "b.js"), previous, lambda n: n
    )
    assert sources["b.js"].digest == "recorded"
    assert state.stamps[fs_path] == previous.stamps[fs_path]


def stamp_of(stat: os.stat_result, digest: str) -> SourceStamp:
    return SourceStamp(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, digest)


def test_changed_stamp_reads_again(tmp_path: Path) -> None:
    root = tree(tmp_path)
    stat = (root / "b.js").stat()
    fs_path = os.path.join(str(root), "b.js")
    same = stamp_of(stat, "stale")
    for stamp in (
        same._replace(size=stat.st_size + 1),
        same._replace(mtime_ns=stat.st_mtime_ns + 1),
        # What cp -p and touch -r cannot carry over: a same-size, same-mtime edit is seen.
        same._replace(ctime_ns=stat.st_ctime_ns + 1),
        same._replace(inode=stat.st_ino + 1),
    ):
        sources, _ = digest_sources(
            paths_of(FileSystemStorage(root), "b.js"), SourcesState({fs_path: stamp}), str
        )
        assert sources["b.js"].digest == md5_bytes(b"var b;")


def test_files_no_longer_collected_are_forgotten(tmp_path: Path) -> None:
    root = tree(tmp_path)
    previous = SourcesState({"/gone/file.css": SourceStamp(1, 1, 1, 1, "d")})
    _, state = digest_sources(paths_of(FileSystemStorage(root), "b.js"), previous, str)
    assert "/gone/file.css" not in state.stamps


def test_storage_without_a_path_is_read_when_needed_and_not_kept() -> None:
    storage = MemoryStorage({"b.js": b"var b;"})
    sources, state = digest_sources(paths_of(storage, "b.js"), SourcesState(), str)
    source = sources["b.js"]
    assert source.path is None and state.stamps == {}
    assert source.digest == md5_bytes(b"var b;") and source.size == 6
    # Bytes are not kept for the run: memory is bounded by the largest file, not the tree.
    assert source.load() == b"var b;" and storage.opened == 2


def test_names_are_cleaned_and_keyed(tmp_path: Path) -> None:
    storage = FileSystemStorage(tree(tmp_path))
    sources, _ = digest_sources(
        paths_of(storage, "b.js"), SourcesState(), lambda n: n.upper(), lambda n: "key:" + n
    )
    assert set(sources) == {"key:B.JS"}
    assert sources["key:B.JS"].name == "B.JS"
