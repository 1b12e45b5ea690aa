"""Copy an existing local MEDIA_ROOT into a tenant's prefix, never replacing anything.

One listing of the prefix tells what is already there: an object whose ETag matches the local
file's MD5 is skipped, one that differs is a conflict and is left alone, everything else is
uploaded with a conditional PUT (``If-None-Match: *``), so an object that appears meanwhile is
not replaced either.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import SuspiciousFileOperation
from storages.utils import setting

from assetpipe.digests import content_md5, md5_file, multipart_etag
from assetpipe.media.storage import TenantMediaStorage
from assetpipe.publish.listing import list_objects


class Action(Enum):
    UPLOAD = "upload"  # uploaded, or would be with dry_run
    SAME = "same"  # already in the bucket with the same content
    CONFLICT = "conflict"  # in the bucket with other content; left as it is
    REFUSED = "refused"  # the local name is not a valid media name
    SKIPPED = "skipped"  # a symbolic link out of the directory uploaded; not read
    FAILED = "failed"  # S3 or the file system refused the upload


@dataclass(frozen=True)
class Outcome:
    name: str
    action: Action
    size: int = 0
    detail: str = ""


@dataclass
class UploadReport:
    bucket: str
    prefix: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, action: Action) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.action is action]

    @property
    def problems(self) -> list[Outcome]:
        """Files that are not in the bucket as they are on disk."""
        return [
            outcome
            for outcome in self.outcomes
            if outcome.action in (Action.CONFLICT, Action.REFUSED, Action.FAILED)
        ]


@dataclass(frozen=True)
class LocalFiles:
    """What :func:`local_files` found under a root."""

    files: list[tuple[str, Path]]  # (media name, the file to read), in name order
    # Symbolic links that leave the root or loop (SKIPPED), directories that cannot be read
    # (FAILED).
    skipped: list[Outcome]


def local_files(root: Path) -> LocalFiles:
    """Every file under ``root``, following symbolic links (to files and directories) only
    where they resolve inside ``root``.

    A link that resolves outside it (``secret -> ../../.env``, ``shared -> /etc``) is skipped
    and reported, never read: uploading it would copy a file from elsewhere on the machine into
    the tenant's prefix. A file is read through its resolved path, the one that was checked.
    """
    top = root.resolve()
    files: list[tuple[str, Path]] = []
    skipped: list[Outcome] = []

    def inside(target: Path) -> bool:
        return target == top or top in target.parents

    def skip(name: str, path: Path, target: Path, why: str) -> None:
        detail = f"{path} is a symbolic link to {target}, {why}; not uploaded"
        skipped.append(Outcome(name, Action.SKIPPED, 0, detail))

    def walk(directory: Path, name: str, ancestors: frozenset[Path]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            skipped.append(Outcome(name or ".", Action.FAILED, 0, str(error)))
            return
        for entry in entries:
            path = Path(entry.path)
            entry_name = f"{name}/{entry.name}" if name else entry.name
            target = path.resolve()
            if entry.is_symlink() and not inside(target):
                skip(entry_name, path, target, f"outside {root}")
            elif target.is_dir():
                if target in ancestors:
                    skip(entry_name, path, target, "a directory that contains it (a loop)")
                else:
                    walk(path, entry_name, ancestors | {target})
            elif target.is_file():
                files.append((entry_name, target))

    walk(top, "", frozenset({top}))
    return LocalFiles(sorted(files), sorted(skipped, key=lambda outcome: outcome.name))


def same_content(path: Path, size: int, etag: str, part_sizes: tuple[int, ...]) -> bool:
    """Whether ``etag`` is the ETag of ``path``'s content.

    A multipart ETag depends on the part size, which the listing does not say; the part
    sizes the storage itself uploads with are tried. An ETag that is not an MD5 at all
    (SSE-KMS) never matches, so such objects are reported as conflicts, never replaced.
    """
    if "-" not in etag:
        return md5_file(path) == etag
    count = etag.rpartition("-")[2]
    return any(
        size > 0
        and str(math.ceil(size / part_size)) == count
        and multipart_etag(path, size, part_size) == etag
        for part_size in part_sizes
    )


def upload_media(
    storage: TenantMediaStorage, root: Path, *, dry_run: bool = False, jobs: int = 8
) -> UploadReport:
    """Upload the files under ``root`` that the storage's tenant prefix lacks."""
    prefix = storage.tenant_prefix()
    report = UploadReport(bucket=storage.bucket_name, prefix=prefix, dry_run=dry_run)
    # boto3 clients are thread-safe; one client serves every worker.
    client = storage.connection.meta.client
    remote = list_objects(client, storage.bucket_name, prefix)
    part_sizes = (
        storage.transfer_config.multipart_chunksize,  # storage.save()
        setting("AWS_S3_FILE_BUFFER_SIZE", 5 * 1024 * 1024),  # storage.open(name, "w")
    )

    def process(name: str, path: Path, key: str) -> Outcome:
        size = 0
        try:
            size = path.stat().st_size
            if name in remote:
                if same_content(path, size, remote[name].etag, part_sizes):
                    return Outcome(name, Action.SAME, size)
                return Outcome(
                    name,
                    Action.CONFLICT,
                    size,
                    f"s3://{storage.bucket_name}/{key} has other content than {path}",
                )
            if not dry_run:
                _put(storage, client, key, path)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "PreconditionFailed":
                return Outcome(
                    name,
                    Action.CONFLICT,
                    size,
                    f"s3://{storage.bucket_name}/{key} was created while uploading {path}",
                )
            return Outcome(name, Action.FAILED, 0, f"s3://{storage.bucket_name}/{key}: {error}")
        except BotoCoreError as error:
            return Outcome(name, Action.FAILED, 0, f"s3://{storage.bucket_name}/{key}: {error}")
        except OSError as error:
            return Outcome(name, Action.FAILED, 0, str(error))
        return Outcome(name, Action.UPLOAD, size)

    work = _keyed(storage, root, report)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        report.outcomes += pool.map(lambda item: process(*item), work)
    report.outcomes.sort(key=lambda outcome: outcome.name)
    return report


def _keyed(
    storage: TenantMediaStorage, root: Path, report: UploadReport
) -> list[tuple[str, Path, str]]:
    """``(name, path, key)`` of the files under ``root``; names the storage refuses are
    reported as such."""
    work: list[tuple[str, Path, str]] = []
    found = local_files(root)
    report.outcomes += found.skipped
    for name, path in found.files:
        try:
            # Keys are made here, on the calling thread, where a tenant resolver has its
            # context; the workers only hash and upload.
            work.append((name, path, storage.key(name)))
        except SuspiciousFileOperation as error:
            report.outcomes.append(Outcome(name, Action.REFUSED, 0, str(error)))
    return work


def _put(storage: TenantMediaStorage, client: Any, key: str, path: Path) -> None:
    # The storage's own write parameters (content type, object parameters, ACL if one is
    # configured), so an uploaded file is stored exactly as storage.save() would store it.
    params: dict[str, Any] = storage._get_write_parameters(key)
    with path.open("rb") as body:
        client.put_object(
            Bucket=storage.bucket_name,
            Key=key,
            Body=body,
            ContentMD5=content_md5(md5_file(path)),
            IfNoneMatch="*",
            **params,
        )
