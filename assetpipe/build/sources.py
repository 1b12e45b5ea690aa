"""The digest step: every collected source's name, digest and size, read only when it changed.

A source's digest is reused while its path, size, mtime, ctime and inode match the previous
run's stamp; anything else reads it once, in chunks. No source's bytes are kept: the steps that
need them read them when they need them (one file at a time, or one per compress worker), so
memory is bounded by the largest file, not by the tree.

``check_originals`` makes sure each original in STATIC_ROOT is its source: Django's copy phase
skips a file whose copy is newer than its source, which a future mtime or an edit with an old
mtime fakes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import FileSystemStorage, Storage

from assetpipe.build.outputs import Outputs, copy_atomic, write_atomic
from assetpipe.build.state import SourcesState, SourceStamp
from assetpipe.digests import md5_bytes, md5_file


@dataclass
class Source:
    """A collected file: its name in STATIC_ROOT and where its bytes come from."""

    name: str
    key: str  # Django's hash_key(clean_name(name)): the manifest's key
    digest: str
    size: int
    path: str | None  # on the local file system, when the source storage has one
    load: Callable[[], bytes]


class Loader:
    """Reads a source's bytes, each time it is called: the caller decides how long to keep them."""

    __slots__ = ("fs_path", "path", "storage")

    def __init__(self, storage: Storage, path: str, fs_path: str | None) -> None:
        self.storage = storage
        self.path = path
        self.fs_path = fs_path

    def __call__(self) -> bytes:
        if self.fs_path is not None:
            with open(self.fs_path, "rb") as f:
                return f.read()
        with self.storage.open(self.path) as f:
            data: bytes = f.read()
            return data


def digest_sources(
    paths: Mapping[str, tuple[Storage, str]],
    previous: SourcesState,
    clean_name: Callable[[str], str],
    hash_key: Callable[[str], str] | None = None,
) -> tuple[dict[str, Source], SourcesState]:
    """Every collected file by manifest key, and the stamps to keep for the next run.

    ``paths`` is collectstatic's: collected name -> (source storage, path in it). ``hash_key``
    is None when it is Django's identity. This loop runs for every file on every run, so it
    stays lean: on a run where nothing changed it is most of what assetpipe adds.
    """
    old_stamps = previous.stamps
    stamps: dict[str, SourceStamp] = {}
    sources: dict[str, Source] = {}
    locations: dict[int, str | None] = {}
    for name, (storage, path) in paths.items():
        location = locations.get(id(storage), "")
        if location == "":
            location = _location(storage)
            locations[id(storage)] = location
        fs_path = os.path.join(location, path) if location is not None else _fs_path(storage, path)
        loader = Loader(storage, path, fs_path)
        if fs_path is not None:
            stat = os.stat(fs_path)
            size = stat.st_size
            stamp = old_stamps.get(fs_path)
            if (
                stamp is None
                or stamp.size != size
                or stamp.mtime_ns != stat.st_mtime_ns
                or stamp.ctime_ns != stat.st_ctime_ns
                or stamp.inode != stat.st_ino
            ):
                stamp = SourceStamp(
                    size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, md5_file(fs_path)
                )
            stamps[fs_path] = stamp
            digest = stamp.digest
        else:
            data = loader()
            digest, size = md5_bytes(data), len(data)
        cleaned = clean_name(name)
        key = cleaned if hash_key is None else hash_key(cleaned)
        sources[key] = Source(cleaned, key, digest, size, fs_path, loader)
    return sources, SourcesState(stamps)


def check_originals(sources: Mapping[str, Source], outputs: Outputs, saved: Collection[str]) -> int:
    """Make each original in STATIC_ROOT its source's bytes; returns how many were replaced.

    ``saved`` are the names Django's copy phase wrote in this run, from their sources. Any
    other original is trusted only while its stamp is the one recorded with that digest;
    otherwise it is read once, and copied again if it differs.
    """
    replaced = 0
    for source in sources.values():
        name = source.name
        if name in saved:
            outputs.wrote(name, source.digest)
        elif not outputs.verify(name, source.digest):
            target = outputs.root / name
            if source.path is not None:
                copy_atomic(Path(source.path), target)
            else:
                write_atomic(target, source.load())
            outputs.wrote(name, source.digest)
            replaced += 1
    return replaced


def _location(storage: Storage) -> str | None:
    # The finders listed these names from this very directory; Storage.path()'s safe_join
    # checks cost more than the rest of the per-file loop.
    return str(storage.location) if isinstance(storage, FileSystemStorage) else None


def _fs_path(storage: Storage, path: str) -> str | None:
    try:
        return storage.path(path)
    except NotImplementedError:
        return None


def loaders(sources: Mapping[str, Source]) -> dict[str, Callable[[], bytes]]:
    """Each source's collected name and how to read its bytes."""
    return {source.name: source.load for source in sources.values()}
