"""Compare the build with the bucket's listing: what to upload, and why.

A content-addressed key the bucket has is compared too, with no request more: the listing
carries each object's ETag, the MD5 of its bytes (for a multipart upload, of its parts' MD5s),
and the build has the bytes it made, so a variant or hashed copy that was planted or altered in
the bucket is uploaded again (``altered``) instead of being served to every browser that asks
for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from assetpipe.digests import md5_file, upload_etag
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import history_entries, manifest_sha256
from assetpipe.publish.listing import RemoteObject
from assetpipe.publish.local import Build, LocalFile

# Upload.reason of a content-addressed object whose bytes in the bucket are not the build's.
ALTERED = "altered in the bucket: its bytes are not this build's"


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

    @property
    def altered(self) -> tuple[str, ...]:
        """Content-addressed keys whose objects are not what the build made: repaired by
        publishing, which overwrites them with the build's bytes."""
        return tuple(upload.key for upload in self.uploads if upload.reason == ALTERED)


def make_plan(build: Build, remote: dict[str, RemoteObject], s3: S3Client) -> Plan:
    uploads: list[Upload] = []
    present = 0
    threshold = s3.config.multipart_threshold
    for name in sorted(build.files):
        file = build.files[name]
        found = remote.get(name)
        if found is None:
            uploads.append(Upload(file, s3.config.key(name), "new"))
        elif file.hashed:
            # The name says which content the key holds, not that it holds it: the ETag does.
            if found.size == file.size and found.etag == upload_etag(
                file.path, file.size, threshold
            ):
                present += 1
            else:
                uploads.append(Upload(file, found.key, ALTERED))
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
    # A copy written before history names carried a full digest is written again, verifiable.
    write_history = not history or history[0].sha256 != manifest_sha256(build.manifest)
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
