"""The bucket as a build cache: the variants earlier builds published, fetched instead of encoded.

A fresh runner (a CI job, a container build) has no build state, but the bucket holds the last
build's ``.br``/``.gz`` objects under the same content-addressed names. The compress step asks
for the variants of the contents it would otherwise encode; this module finds which exist with
listing requests (or, for a handful, one GET each), downloads them in parallel and hands back
the bytes with the encoder the object says it was made with. It trusts nothing: the compress
step decodes every variant and compares it with the content's digest before using it.

The cache is an optimisation: an unreachable bucket or a refused request is a line in the
build's warnings and the contents are encoded as usual, never a failed build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from assetpipe.build.compress import FetchedVariant
from assetpipe.build.outputs import LARGE_FILE
from assetpipe.conf.s3 import S3Config
from assetpipe.naming import variant_name
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.listing import RemoteObject, list_objects
from assetpipe.publish.object_args import ENCODER_METADATA

# Up to this many variants are asked for one GET each; more, and one listing (a request per
# 1,000 keys) first tells which exist, so that a fresh runner sends no GET that answers 404.
DIRECT_GETS = 16


class BucketVariants:
    """Fetch published variants from ``config``'s bucket (see the module's docstring)."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.problems: list[str] = []  # why some could not be fetched, for the build's warnings
        self.requests: Counter[str] = Counter()
        # The prefix as this run listed it, for publishing to plan with instead of listing again.
        self.listed: dict[str, RemoteObject] | None = None

    def _list(self, s3: S3Client) -> dict[str, RemoteObject] | None:
        try:
            self.listed = list_objects(s3.client, self.config.bucket_name, self.config.prefix)
        except S3_ERRORS as exc:
            self.problems.append(f"{s3.error(exc, 'listing')}; compressing instead")
            return None
        return self.listed

    def fetch(self, wanted: Sequence[tuple[str, str]]) -> Iterator[FetchedVariant]:
        """Those of ``wanted`` ((name, encoding) pairs) the bucket has, as it has them."""
        if not wanted:
            return
        with S3Client(self.config) as s3:
            try:
                yield from self._fetch(s3, wanted)
            finally:
                self.requests.update(s3.requests)

    def present(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The size of each of ``wanted`` the bucket has, from its listing; {} if unlisted."""
        if not wanted:
            return {}
        with S3Client(self.config) as s3:
            try:
                listed = self._list(s3)
            finally:
                self.requests.update(s3.requests)
        if listed is None:
            return {}
        return {
            (name, encoding): found.size
            for name, encoding in wanted
            if (found := listed.get(variant_name(name, encoding))) is not None
        }

    def _fetch(self, s3: S3Client, wanted: Sequence[tuple[str, str]]) -> Iterator[FetchedVariant]:
        if len(wanted) > DIRECT_GETS:
            listed = self._list(s3)
            if listed is None:
                return
            # Variants too large to hold are streamed through the encoders here instead.
            wanted = [
                (name, encoding)
                for name, encoding in wanted
                if (found := listed.get(variant_name(name, encoding))) is not None
                and found.size <= LARGE_FILE
            ]
        # At most twice the pool's width in flight: fetched bytes are handed on as they come,
        # so a large tree is never held whole.
        window = 2 * self.config.workers
        with ThreadPoolExecutor(max_workers=self.config.workers) as pool:
            running: set[Future[FetchedVariant | None]] = set()
            pairs = iter(wanted)
            while True:
                for name, encoding in pairs:
                    running.add(pool.submit(self._get, s3, name, encoding))
                    if len(running) >= window:
                        break
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    variant = future.result()
                    if variant is not None:
                        yield variant

    def _get(self, s3: S3Client, name: str, encoding: str) -> FetchedVariant | None:
        key = self.config.key(variant_name(name, encoding))
        where = f"s3://{self.config.bucket_name}/{key}"
        try:
            response: dict[str, Any] = s3.client.get_object(Bucket=self.config.bucket_name, Key=key)
        except S3_ERRORS as exc:
            if _not_found(exc):
                return None
            self.problems.append(f"{s3.error(exc, 'reading', key)}; compressing instead")
            return None
        body = response["Body"]
        try:
            if response.get("ContentLength", 0) > LARGE_FILE:
                return None
            # Read no more than that whatever the header said: the object is not trusted yet.
            data: bytes = body.read(LARGE_FILE + 1)
            if len(data) > LARGE_FILE:
                return None
        except S3_ERRORS as exc:
            self.problems.append(f"{s3.error(exc, 'reading', key)}; compressing instead")
            return None
        finally:
            body.close()
        tag = response.get("Metadata", {}).get(ENCODER_METADATA)
        return FetchedVariant(name, encoding, data, tag, where)


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404"}
