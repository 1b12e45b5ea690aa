"""Memory the compressors free goes back to the operating system, not into glibc's heaps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# Run in a child process: the check depends on what this process has allocated and freed
# before, and release_large_blocks changes the whole process.
PROBE = textwrap.dedent(
    """
    import ctypes
    from assetpipe.build.allocator import release_large_blocks

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = MallInfo2

    def held_after(size):
        # MiB the heap keeps, free, after one block of this size is allocated and freed.
        libc.free(libc.malloc(size))
        return libc.mallinfo2().fordblks >> 20

    # Freeing a mapped 4 MiB block raises glibc's thresholds: 2 MiB then comes from the heap,
    # which keeps it when freed.
    libc.free(libc.malloc(4 << 20))
    print(held_after(2 << 20), release_large_blocks(), held_after(2 << 20))
    """
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's allocator",
)
def test_freed_large_blocks_are_not_kept_in_the_heap() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["2", "True", "0"]
