"""The image variants' cache outside STATIC_ROOT: encoded bytes and what was decided, by content.

Like the compressed-bytes cache (``assetpipe.build.compress``): a blob is ``MAGIC``, the MD5 of the
image it encodes, the MD5 of its payload and the payload (``assetpipe.build.cache_blobs``), checked
while it is copied into place, so a damaged blob, or one filed under another image's digest, is
re-encoded rather than served. A lossy encode cannot be decoded back to its source to prove it, so
only a build that is trusted to publish may write this cache (see docs/how-to/ci.md). Beside the
blobs, one small record per content (its size, the formats kept and their qualities, or why
none) lets a build whose state is gone place every variant without decoding an image.

The directory's name carries the step's key (settings, the floor's metric and encoder library
versions), so bytes made under other settings are never reused. Failing to read or write the
cache is a warning.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from assetpipe.build.cache_blobs import Corrupt, copy_blob, write_blob
from assetpipe.build.outputs import WriteError, write_atomic
from assetpipe.build.state import ImageRecord

MAGIC = b"API2"
# Blobs of another format live in a directory of their own, so an upgrade is a cold cache, not
# a warning per image.
FORMAT = 2
RECORD = ".json"


class ImageCache:
    def __init__(self, directory: Path | None) -> None:
        self.directory = None if directory is None else directory / f"v{FORMAT}"
        self.warnings: list[str] = []

    def _path(self, digest: str, suffix: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / digest[:2] / f"{digest}{suffix}"

    def record(self, digest: str) -> ImageRecord | None:
        path = self._path(digest, RECORD)
        if path is None:
            return None
        try:
            return ImageRecord.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, IndexError, KeyError, AttributeError):
            return None  # a damaged record costs one decode

    def store(self, digest: str, record: ImageRecord, blobs: dict[str, bytes | None]) -> None:
        """Blobs first, then the record that says they are there."""
        try:
            for image_format, blob in blobs.items():
                path = self._path(digest, f".{image_format}")
                if path is None:
                    return
                if blob is not None:
                    write_blob(path, blob, MAGIC, digest)
            path = self._path(digest, RECORD)
            if path is not None:
                write_atomic(path, json.dumps(list(record), sort_keys=True).encode())
        except OSError as exc:
            self.warnings.append(f"could not write the image cache: {exc}")
            self.directory = None  # the rest of the run goes on without it

    def copy(self, digest: str, image_format: str, size: int, target: Path) -> bool:
        """Copy a cached variant to ``target`` if whole and intact; False if not (re-encode)."""
        blob = self._path(digest, f".{image_format}")
        if blob is None:
            return False
        try:
            copy_blob(blob, target, size, MAGIC, digest)
        except Corrupt:
            self.warnings.append(f"corrupt cached image {blob} discarded; encoding again")
            with suppress(OSError):
                blob.unlink(missing_ok=True)
            return False
        except WriteError:
            raise  # STATIC_ROOT, not the cache, failed
        except FileNotFoundError:
            return False
        except OSError as exc:
            self.warnings.append(f"could not read the image cache: {exc}")
            return False
        return True

    def prune(self, live: Iterable[str]) -> None:
        """Remove what no content of the build has any more."""
        if self.directory is None or not self.directory.is_dir():
            return
        keep = set(live)
        for other in self.directory.parent.iterdir():
            if other != self.directory and other.is_dir():
                # Blobs of an earlier format, never read again.
                shutil.rmtree(other, ignore_errors=True)
        for bucket in self.directory.iterdir():
            if bucket.is_dir():
                for entry in bucket.iterdir():
                    if entry.name.partition(".")[0] not in keep:
                        entry.unlink(missing_ok=True)
