"""Incremental, content-hashed, precompressed Django static files, published to S3."""

__version__ = "0.1.0"
