"""Upload planned files in parallel, then the manifest: the only writes a publish makes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from s3transfer.futures import NonThreadedExecutor
from s3transfer.manager import TransferConfig, TransferManager

from assetpipe.digests import content_md5, md5_file
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.config import PublishError
from assetpipe.publish.headers import manifest_args, upload_args
from assetpipe.publish.plan import Upload
from assetpipe.report import Progress


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

    with ThreadPoolExecutor(max_workers=s3.config.max_workers) as pool:
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
    bucket = s3.config.bucket_name
    try:
        if file.size < s3.config.multipart_threshold:
            s3.client.put_object(
                Bucket=bucket,
                Key=upload.key,
                Body=file.path.read_bytes(),
                ContentMD5=content_md5(md5),
                **args,
            )
        else:
            threshold = s3.config.multipart_threshold
            transfer_config = TransferConfig(
                multipart_threshold=threshold, multipart_chunksize=threshold
            )
            # Parts go up one after another: the pool already bounds concurrency.
            with TransferManager(
                s3.client, transfer_config, executor_cls=NonThreadedExecutor
            ) as manager:
                manager.upload(str(file.path), bucket, upload.key, extra_args=args).result()
    except S3_ERRORS as exc:
        raise s3.error(exc, "uploading", upload.key) from exc
    except OSError as exc:
        raise PublishError(f"cannot read {file.path} to upload it: {exc}") from exc


def put_manifest(s3: S3Client, key: str, data: bytes, md5: str) -> None:
    args = manifest_args(key, md5, s3.config)
    try:
        s3.client.put_object(
            Bucket=s3.config.bucket_name, Key=key, Body=data, ContentMD5=content_md5(md5), **args
        )
    except S3_ERRORS as exc:
        raise s3.error(exc, "uploading", key) from exc
