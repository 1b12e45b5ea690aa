"""Give the encoders' large buffers back to the operating system as soon as they are freed.

glibc serves a large allocation with its own ``mmap`` and unmaps it on ``free``, but each time
such a block is freed it raises that threshold to the block's size. After the first file, the
brotli encoder's buffers (megabytes each, allocated and freed once per file on every worker
thread) come from the per-thread heaps instead, which keep freed memory: peak RSS then grows
with the number of workers times the fragmentation, not with the file being compressed.
Fixing the threshold (and the heap trim threshold it raises with it) at glibc's defaults keeps
those buffers mapped per use, and lets the heaps give back what is freed at their top.
"""

from __future__ import annotations

import ctypes
import os

# mallopt(3): parameter numbers; glibc's default for both thresholds.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024


def release_large_blocks() -> bool:
    """Fix glibc's thresholds for this process; False where the C library is not glibc."""
    if not _is_glibc():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return all([mallopt(M_MMAP_THRESHOLD, THRESHOLD), mallopt(M_TRIM_THRESHOLD, THRESHOLD)])


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):  # no such name on this platform
        return False
