"""Compare the build with the bucket's listing: what to upload, and why."""

from __future__ import annotations

from dataclasses import dataclass

from assetpipe.digests import md5_file
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import history_entries
from assetpipe.publish.local import Build, LocalFile
from assetpipe.s3_listing import RemoteObject


@dataclass(frozen=True)
class Upload:
    file: LocalFile
    key: str
    reason: str
    md5: str | None = None  # known already when the content was compared


@dataclass(frozen=True)
class Plan:
    uploads: tuple[Upload, ...]
    present: int  # published files the bucket already has as they are
    manifest_reason: str | None  # why the live manifest needs uploading; None: it is current
    write_history: bool  # the newest history copy is not this build's manifest
    missing: tuple[str, ...]  # hashed names the manifest references that exist nowhere

    @property
    def upload_bytes(self) -> int:
        return sum(upload.file.size for upload in self.uploads)

    @property
    def in_sync(self) -> bool:
        return not self.uploads and self.manifest_reason is None and not self.write_history


def make_plan(build: Build, remote: dict[str, RemoteObject], s3: S3Client) -> Plan:
    uploads: list[Upload] = []
    present = 0
    for name in sorted(build.files):
        file = build.files[name]
        found = remote.get(name)
        if found is None:
            uploads.append(Upload(file, s3.config.key(name), "new"))
        elif file.hashed:
            # A content-addressed key that exists holds this content.
            present += 1
        elif found.size != file.size:
            uploads.append(
                Upload(file, found.key, f"changed: {found.size:,} -> {file.size:,} bytes")
            )
        else:
            md5 = md5_file(file.path)
            if _remote_md5(found, s3) == md5:
                present += 1
            else:
                uploads.append(Upload(file, found.key, "changed: content differs", md5))

    live = remote.get(build.manifest_name)
    manifest_reason: str | None = None
    if live is None:
        manifest_reason = "new"
    elif _remote_md5(live, s3) != build.manifest_md5:
        manifest_reason = "changed"
    history = history_entries(remote)
    write_history = not history or history[0].digest != build.manifest_md5[:12]
    missing = tuple(
        sorted(name for name in build.referenced if name not in build.files and name not in remote)
    )
    return Plan(tuple(uploads), present, manifest_reason, write_history, missing)


def _remote_md5(found: RemoteObject, s3: S3Client) -> str | None:
    """The object's MD5: its ETag, or for a multipart upload the digest kept in its metadata."""
    if not found.multipart:
        return found.etag
    try:
        head = s3.client.head_object(Bucket=s3.config.bucket_name, Key=found.key)
    except S3_ERRORS as exc:
        raise s3.error(exc, "reading", found.key) from exc
    md5: str | None = head.get("Metadata", {}).get("md5")
    return md5
