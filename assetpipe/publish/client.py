"""The S3 client a run uses, the requests it sends, and its errors in the user's terms."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import botocore.loaders
import botocore.session
import botocore.utils
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from assetpipe.conf.s3 import AccessDenied, PublishError, S3Config

# The parsed service models, shared by every client in the process: loading them costs more
# than a whole no-change publish. Each client still resolves its own credentials.
_LOADER = botocore.loaders.create_loader()

PERMISSIONS = {
    "listing": "s3:ListBucket",
    "uploading": "s3:PutObject",
    "reading": "s3:GetObject",
    "deleting": "s3:DeleteObject",
    "reading the CORS configuration of": "s3:GetBucketCORS",
    "writing the CORS configuration of": "s3:PutBucketCORS",
}


class S3Client:
    """One thread-safe botocore client for a run, counting the HTTP requests it sends.

    Counts are per attempt (retries included) and keyed by operation name, e.g. ``PutObject``.
    Close it when the run ends (``with S3Client(config) as s3:``): its pool keeps up to
    ``max_pool_connections`` sockets open, and only the garbage collector would close them.
    """

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        session = botocore.session.Session()
        session.register_component("data_loader", _LOADER)
        session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp
        )
        self.client: Any = session.create_client(
            "s3",
            endpoint_url=config.endpoint_url,
            region_name=config.region_name,
            config=Config(
                # Standard mode retries throttling (503 SlowDown), 5xx and connection errors
                # with backoff; AWS_MAX_ATTEMPTS or the profile still set the attempt count.
                retries={"mode": "standard"},
                max_pool_connections=max(10, config.workers),
                # Content-MD5 is sent with every upload; the extra CRC32 of newer botocore
                # costs time and breaks several S3-compatible stores.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self.client.meta.events.register("before-send.s3", self._count)

    def _count(self, event_name: str, **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.requests[operation] += 1

    def close(self) -> None:
        """Close the client's pooled connections."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def error(self, exc: Exception, action: str, key: str | None = None) -> PublishError:
        """A botocore failure while ``action`` (listing, uploading, ...) as a PublishError."""
        return describe_failure(exc, self.config, action, key)


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 (listings) directly; botocore's dateutil-based default for anything else.

    The default parser takes about half the time of parsing a listing of 1,000 keys."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        parsed: datetime = botocore.utils.parse_timestamp(value)
        return parsed


def describe_failure(
    exc: Exception, config: S3Config, action: str, key: str | None = None
) -> PublishError:
    bucket = config.bucket_name
    where = f"s3://{bucket}/{key}" if key is not None else config.where
    endpoint = config.endpoint
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return PublishError(
            f"no AWS credentials for {where}: boto3 found none in the environment "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), the shared config/credentials files "
            "or an instance/container role"
        )
    if isinstance(
        exc,
        EndpointConnectionError | ConnectionClosedError | ConnectTimeoutError | ReadTimeoutError,
    ):
        return PublishError(f"cannot reach S3 endpoint {endpoint} while {action} {where}: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = error.get("Message") or exc
        if code == "NoSuchBucket" or (code == "404" and action == "listing"):
            return PublishError(f"bucket {bucket!r} does not exist at {endpoint}")
        if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}:
            return PublishError(
                f"{endpoint} rejected the AWS credentials while {action} {where} ({code})"
            )
        if code in {"AccessDenied", "AllAccessDisabled", "403"} or status == 403:
            permission = PERMISSIONS.get(action, "access")
            return AccessDenied(
                f"access denied while {action} {where} at {endpoint}: "
                f"the credentials need {permission} there"
            )
        return PublishError(
            f"{action} {where} failed at {endpoint}: {code or status} {message}".rstrip()
        )
    return PublishError(f"{action} {where} failed at {endpoint}: {exc}")


# What callers catch around a request: botocore's errors, never programming errors.
S3_ERRORS = (BotoCoreError, ClientError)
