"""Moved to ``assetpipe.report``, the package's one home for sizes and progress bars."""

from assetpipe.report import Progress, format_bytes, unwrapped

__all__ = ["Progress", "format_bytes", "unwrapped"]
