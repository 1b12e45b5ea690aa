"""Upload planned files in parallel, then the manifest: the only writes a publish makes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from assetpipe.build.report import Progress
from assetpipe.conf.s3 import PublishError
from assetpipe.digests import content_md5, md5_bytes, md5_file, part_size
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.object_args import manifest_args, upload_args
from assetpipe.publish.plan import Upload

# part_size is the digests module's; named here, where the multipart upload is.
__all__ = ["part_size", "put_manifest", "upload_file", "upload_files", "upload_in_parts"]


def upload_files(s3: S3Client, uploads: Sequence[Upload], progress: Progress | None) -> None:
    """Upload everything or raise; on the first failure no new upload starts."""
    if not uploads:
        return
    stopped = threading.Event()

    def run(upload: Upload) -> bool:
        if stopped.is_set():
            return False
        try:
            upload_file(s3, upload)
        except BaseException:
            stopped.set()
            raise
        if progress:
            progress.advance(upload.file.size)
        return True

    with ThreadPoolExecutor(max_workers=s3.config.workers) as pool:
        futures: list[Future[bool]] = [pool.submit(run, upload) for upload in uploads]
        wait(futures, return_when=FIRST_EXCEPTION)
        stopped.set()
        pool.shutdown(wait=True, cancel_futures=True)
    if progress:
        progress.close()
    finished = [f for f in futures if not f.cancelled()]
    failures = [error for f in finished if (error := f.exception()) is not None]
    if failures:
        done = sum(1 for f in finished if f.exception() is None and f.result())
        raise PublishError(
            f"{failures[0]}; {len(uploads) - done:,} of {len(uploads):,} uploads did not "
            "complete. The bucket's manifest was left as it was; run again to upload what is "
            "missing."
        ) from failures[0]


def upload_file(s3: S3Client, upload: Upload) -> None:
    file = upload.file
    md5 = upload.md5 or md5_file(file.path)
    args = upload_args(file, md5, s3.config)
    try:
        if file.size < s3.config.multipart_threshold:
            # An open file, not its bytes: botocore reads it in chunks and seeks back to retry.
            with file.path.open("rb") as body:
                s3.client.put_object(
                    Bucket=s3.config.bucket_name,
                    Key=upload.key,
                    Body=body,
                    ContentMD5=content_md5(md5),
                    **args,
                )
        else:
            upload_in_parts(s3, upload, args)
    except S3_ERRORS as exc:
        raise s3.error(exc, "uploading", upload.key) from exc
    except OSError as exc:
        raise PublishError(f"cannot read {file.path} to upload it: {exc}") from exc


def upload_in_parts(s3: S3Client, upload: Upload, args: dict[str, Any]) -> None:
    """A multipart upload, one part in memory at a time; aborted if any step fails.

    An aborted upload keeps no parts (which S3 would otherwise store, and bill, until a
    lifecycle rule removes them). Only a killed process leaves one behind.
    """
    bucket, key = s3.config.bucket_name, upload.key
    created = s3.client.create_multipart_upload(Bucket=bucket, Key=key, **args)
    upload_id = created["UploadId"]
    try:
        parts = _upload_parts(s3, upload, upload_id)
        s3.client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        with contextlib.suppress(*S3_ERRORS):
            s3.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def _upload_parts(s3: S3Client, upload: Upload, upload_id: str) -> list[dict[str, Any]]:
    file = upload.file
    size = part_size(file.size, s3.config.multipart_threshold)
    parts: list[dict[str, Any]] = []
    with file.path.open("rb") as source:
        for number, start in enumerate(range(0, file.size, size), start=1):
            data = source.read(size)
            if len(data) != min(size, file.size - start):
                raise OSError(f"{file.path} changed size while it was being uploaded")
            response = s3.client.upload_part(
                Bucket=s3.config.bucket_name,
                Key=upload.key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ContentMD5=content_md5(md5_bytes(data)),
            )
            parts.append({"PartNumber": number, "ETag": response["ETag"]})
    return parts


def put_manifest(s3: S3Client, key: str, data: bytes, md5: str) -> str:
    """Upload the manifest (or a history copy); return the ETag the bucket gave it."""
    args = manifest_args(key, md5, s3.config)
    try:
        response = s3.client.put_object(
            Bucket=s3.config.bucket_name, Key=key, Body=data, ContentMD5=content_md5(md5), **args
        )
    except S3_ERRORS as exc:
        raise s3.error(exc, "uploading", key) from exc
    etag: str = response.get("ETag", "").strip('"')
    return etag
