"""Giving freed memory back to the system between the phases of a big load.

A million-row load allocates through three heaps: calamine's workbook and numpy's arrays
through glibc's malloc, pandas' Arrow strings through Arrow's pool, polars through its own
jemalloc. glibc and Arrow keep what was freed for reuse, so the process's resident size would
carry the workbook and GX's copies into every later phase; SPEC 9 caps the peak at 2 GiB.
"""

from __future__ import annotations

import ctypes
import sys


def release() -> None:
    """Return the free pages of glibc's heap and Arrow's pool to the system (cheap, safe)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
