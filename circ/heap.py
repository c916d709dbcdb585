"""Keep freed memory for reuse in a long run: glibc's allocator, told not to give it back.

PyTorch's CPU tensors come straight from malloc. A network pass allocates and frees tensors of a
few MB each; glibc serves those from mmap or trims them off the heap top once freed, so the next
pass takes every page of them again as a fresh page fault — on these VMs several µs a page (issue
19: 123k rows of examples/sequences.circ in bf16 spent 3.9 s of 12 in the kernel, 0.2 s with the
heap kept). With a fixed mmap threshold of 32 MB and the heap top kept, 10⁶ rows took 34 s instead
of 43 in bf16 and 58 instead of 64 in fp32, peak memory 382 MB instead of 366 (RESULTS.md, round 4).
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # <malloc.h>
MMAP_BYTES = 32 << 20  # glibc's largest mmap threshold: anything smaller comes from the heap
KEEP_BYTES = 1 << 30  # free memory the heap top keeps before trimming: larger than any pass frees
PAD_BYTES = 64 << 20  # grow the heap in steps this large, not a tensor at a time


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's malloc to reuse freed memory (once per process); False where the C library is
    not glibc (macOS, musl), which keep their own policies."""
    try:  # the process's own symbols: no `ctypes.util.find_library` (it runs ldconfig, ~9 ms a run)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    settings = ((M_MMAP_THRESHOLD, MMAP_BYTES), (M_TRIM_THRESHOLD, KEEP_BYTES), (M_TOP_PAD, PAD_BYTES))
    return all(mallopt(option, value) == 1 for option, value in settings)
