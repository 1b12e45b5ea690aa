"""The digest step: every collected source's name, digest and size, read only when it changed.

A source's digest is reused while its path, size and mtime (ns) match the previous run's stamp;
anything else reads it once. The bytes read are kept for the rest of the run, so the hash and
compress steps never read a source twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.files.storage import FileSystemStorage, Storage

from assetpipe.digests import md5_bytes
from assetpipe.state import SourcesState, SourceStamp


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
    """Reads a source's bytes on first use and keeps them for the rest of the run."""

    __slots__ = ("data", "fs_path", "path", "storage")

    def __init__(self, storage: Storage, path: str, fs_path: str | None) -> None:
        self.storage = storage
        self.path = path
        self.fs_path = fs_path
        self.data: bytes | None = None

    def __call__(self) -> bytes:
        if self.data is None:
            if self.fs_path is not None:
                with open(self.fs_path, "rb") as f:
                    self.data = f.read()
            else:
                with self.storage.open(self.path) as f:
                    self.data = f.read()
        return self.data


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
            if stamp is None or stamp.size != size or stamp.mtime_ns != stat.st_mtime_ns:
                stamp = SourceStamp(size, stat.st_mtime_ns, md5_bytes(loader()))
            stamps[fs_path] = stamp
            digest = stamp.digest
        else:
            data = loader()
            digest, size = md5_bytes(data), len(data)
        cleaned = clean_name(name)
        key = cleaned if hash_key is None else hash_key(cleaned)
        sources[key] = Source(cleaned, key, digest, size, fs_path, loader)
    return sources, SourcesState(stamps)


def _location(storage: Storage) -> str | None:
    # The finders listed these names from this very directory; Storage.path()'s safe_join
    # checks cost more than the rest of the per-file loop.
    return str(storage.location) if isinstance(storage, FileSystemStorage) else None


def _fs_path(storage: Storage, path: str) -> str | None:
    try:
        return storage.path(path)
    except NotImplementedError:
        return None
