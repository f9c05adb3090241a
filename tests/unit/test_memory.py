"""memory.release() runs while GX imports on a background thread: pyarrow may be half-imported."""

import importlib.machinery
import sys
import types

from ingestion import memory


def _module(initialising: bool, with_pool: bool) -> tuple[types.ModuleType, list]:
    released = []
    module = types.ModuleType("pyarrow")
    module.__spec__ = importlib.machinery.ModuleSpec("pyarrow", None)
    module.__spec__._initializing = initialising
    if with_pool:
        pool = types.SimpleNamespace(release_unused=lambda: released.append(True))
        module.default_memory_pool = lambda: pool
    return module, released


def test_a_half_imported_pyarrow_is_left_alone(monkeypatch):
    # what CI hit: the module sits in sys.modules before its body has defined anything
    half, _ = _module(initialising=True, with_pool=False)
    monkeypatch.setitem(sys.modules, "pyarrow", half)
    memory.release()  # raised AttributeError ("partially initialized module") before the fix


def test_a_pyarrow_still_initialising_is_not_touched_even_with_its_pool_defined(monkeypatch):
    half, released = _module(initialising=True, with_pool=True)
    monkeypatch.setitem(sys.modules, "pyarrow", half)
    memory.release()
    assert released == []


def test_a_fully_imported_pyarrow_gives_its_free_pages_back(monkeypatch):
    whole, released = _module(initialising=False, with_pool=True)
    monkeypatch.setitem(sys.modules, "pyarrow", whole)
    memory.release()
    assert released == [True]
