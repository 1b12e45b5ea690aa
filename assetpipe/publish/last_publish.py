"""What the last completed publish made live, kept in the build's ``state_dir``.

A publish completes when every object the manifest references is confirmed in the bucket (listed
or uploaded) and the manifest went up last. The record names that manifest (its digest, and the
ETag the bucket gave it) and the files of the build, so that the next run with the same build
can ask the bucket one question: is the live manifest still that one? If so, its objects are
still there, because prune never deletes what the live manifest references.

One file per STATIC_ROOT and destination; a record that is unreadable, of another format or
about another destination is ignored, which only costs the listing it would have saved.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from assetpipe.build.outputs import write_atomic
from assetpipe.conf.s3 import S3Config
from assetpipe.digests import md5_bytes
from assetpipe.publish.local import Build

FORMAT = 1


@dataclass(frozen=True)
class PublishRecord:
    static_root: str  # resolved
    endpoint: str
    bucket: str
    location: str
    manifest_name: str
    manifest_md5: str
    files: str  # digest of the published files' names and sizes
    etag: str  # the live manifest's ETag, without quotes
    format: int = FORMAT


def record_path(state_dir: Path, static_root: Path, config: S3Config) -> Path:
    """The record's file: one per resolved STATIC_ROOT, endpoint, bucket and location."""
    key = "\0".join(
        (str(static_root.resolve()), config.endpoint, config.bucket_name, config.location)
    )
    return state_dir / f"publish-{md5_bytes(key.encode())[:16]}.json"


def files_digest(build: Build) -> str:
    """Names and sizes of what is published: changes with the ``variants`` option or a variant."""
    lines = sorted(f"{name}\0{file.size}" for name, file in build.files.items())
    return md5_bytes("\n".join(lines).encode())


def expected(build: Build, config: S3Config, etag: str) -> PublishRecord:
    """The record a completed publish of ``build`` to ``config`` leaves."""
    return PublishRecord(
        static_root=str(build.root.resolve()),
        endpoint=config.endpoint,
        bucket=config.bucket_name,
        location=config.location,
        manifest_name=build.manifest_name,
        manifest_md5=build.manifest_md5,
        files=files_digest(build),
        etag=etag,
    )


def load_record(path: Path) -> PublishRecord | None:
    """The record at ``path``, or None if there is none or it cannot be trusted as one."""
    try:
        data = json.loads(path.read_bytes())
        record = PublishRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
    fields = asdict(record)
    if record.format != FORMAT or not all(
        isinstance(value, str) for name, value in fields.items() if name != "format"
    ):
        return None
    return record


def matching_etag(path: Path, build: Build, config: S3Config) -> str | None:
    """The recorded live ETag if the record describes publishing ``build`` to ``config``."""
    record = load_record(path)
    if record is None:
        return None
    return record.etag if record == expected(build, config, record.etag) else None


def save_record(path: Path, record: PublishRecord) -> None:
    """Write the record; failing to is harmless (the next run lists), so it never raises."""
    data = json.dumps(asdict(record), indent=1, sort_keys=True).encode()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)


def forget_record(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
