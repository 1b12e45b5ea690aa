"""The arguments an object is uploaded with: type, encoding, caching, ACL, its MD5."""

from __future__ import annotations

from typing import Any

from assetpipe.build.compress import ENCODINGS
from assetpipe.conf.s3 import S3Config
from assetpipe.headers import SNIFF_BYTES, content_type, sniffed_image_type
from assetpipe.naming import variant_original
from assetpipe.publish.local import LocalFile

# The object metadata (x-amz-meta-encoder) that says which encoder made a variant.
ENCODER_METADATA = "encoder"


def upload_args(file: LocalFile, md5: str, config: S3Config) -> dict[str, Any]:
    """Arguments for PutObject (or ExtraArgs for a multipart upload) besides bucket/key/body."""
    # A variant keeps its original's type; Content-Encoding says how it is compressed.
    original = variant_original(file.name) if file.encoding else file.name
    args: dict[str, Any] = {
        "ContentType": image_content_type(file) if file.image_format else content_type(original),
        "CacheControl": (
            config.hashed_cache_control if file.hashed else config.unhashed_cache_control
        ),
        # Multipart ETags are not MD5s; the listing cannot show this, a HEAD can.
        "Metadata": {"md5": md5},
    }
    if file.encoding:
        args["ContentEncoding"] = file.encoding
        if file.encoding in ENCODINGS:
            # What made it, so that a build using the bucket as its cache takes only its kind.
            args["Metadata"][ENCODER_METADATA] = ENCODINGS[file.encoding].tag
    if config.default_acl:
        args["ACL"] = config.default_acl
    return args


def image_content_type(file: LocalFile) -> str:
    """An image variant's type is that of its bytes: with the ``cdn`` option, one whose encode
    was not smaller is a copy of the original (JPEG bytes in ``hero.jpg.avif``)."""
    with file.path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    return sniffed_image_type(head) or content_type(file.name)


def manifest_args(key: str, md5: str, config: S3Config) -> dict[str, Any]:
    """PutObject arguments for the manifest or a history copy: never cached for long."""
    args: dict[str, Any] = {
        "ContentType": content_type(key),
        "CacheControl": config.unhashed_cache_control,
        "Metadata": {"md5": md5},
    }
    if config.default_acl:
        args["ACL"] = config.default_acl
    return args
