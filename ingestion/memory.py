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
    pyarrow = sys.modules.get("pyarrow")
    # another thread (GX's background import) may be importing pyarrow right now: its module
    # is in sys.modules before its body has run, so touch it only once fully initialised
    if pyarrow is not None and not _initialising(pyarrow):
        pyarrow.default_memory_pool().release_unused()


def _initialising(module) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False)) or not hasattr(module, "default_memory_pool")
