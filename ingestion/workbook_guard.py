"""Workbooks python-calamine must not be handed (SPEC 10): calamine is fast, but a few damaged
or hostile structures make it ask for unbounded memory, and Rust's allocation failure aborts the
whole process: no exception, no quarantine row, just a dead worker. These are refused first.

- xlsx, the extent: calamine allocates height x width cells for a sheet (`Range::from_sparse`),
  whatever cells are present, so a single cell at XFD1048576 beside A1 asks for 17 billion. The
  sheet XML is scanned for the cell references that can make an extent big (two or more column
  letters, or seven or more row digits); every other reference lies within A..Z x 1..999,999.
- xls, the whole parse: calamine follows a compound file's sector chains without checking them
  for cycles or range (fuzzing found files that ask for 4 GiB and more). An xls holds at most
  65,536 rows, so it is parsed once in a forked probe under an address-space limit and a
  timeout; only a file the probe survived is parsed for real.
"""

from __future__ import annotations

import faulthandler
import os
import re
import resource
import signal
import time
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingestion.cells import FileRejected

CELL_LIMIT = 100_000_000  # calamine's own cap for an ods sheet
COLUMNS_OF_ONE_LETTER = 26
ROWS_OF_SIX_DIGITS = 999_999
PROBE_HEADROOM = 2 << 30  # address space the probe may add to what the parent has mapped
PROBE_TIMEOUT_S = 120

_BIG_REF = re.compile(rb' r="(?:([A-Z]{2,})([0-9]+)|[A-Z]?([0-9]{7,}))"')
_ANY_REF = re.compile(rb' r="([A-Z]*)([0-9]+)"')
_BLOCK = 1 << 22


def refuse_huge_extent(path: Path, zf: zipfile.ZipFile, sheets: dict[str, str],
                       max_rows: int) -> None:
    """Raise FileRejected when a sheet's cells span more than calamine can hold."""
    limit = max(CELL_LIMIT, (max_rows + 1_000) * COLUMNS_OF_ONE_LETTER)
    for name, member in sheets.items():
        try:
            rows, columns = _extent_bound(zf, member, _BIG_REF)
            if rows * columns > limit:  # wide or long on its face: count every reference
                rows, columns = _extent_bound(zf, member, _ANY_REF)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
            continue  # a damaged member: calamine says so in its own words
        if rows * columns > limit:
            raise FileRejected(
                "file_too_large",
                f"Sheet {name!r} of {path.name} reaches row {rows:,} and column "
                f"{_letters(columns)}, {rows * columns:,} cells, over the {limit:,} Lumbung "
                "reads; delete the stray cells far from the table.",
            )


def _extent_bound(zf: zipfile.ZipFile, member: str, pattern: re.Pattern) -> tuple[int, int]:
    """The largest row and column a reference of PATTERN names, at least the bounds of the
    references it does not look at (the fast pattern skips A..Z x 1..999,999)."""
    exact = pattern is _ANY_REF
    rows = 0 if exact else ROWS_OF_SIX_DIGITS
    columns = 0 if exact else COLUMNS_OF_ONE_LETTER
    for text in _xml_pieces(zf, member):
        for match in pattern.finditer(text):
            letters, digits = match.group(1), match.group(2)
            if not exact and digits is None:  # seven digits or more, one letter or none
                rows = max(rows, int(match.group(3)))
                continue
            rows = max(rows, int(digits))
            columns = max(columns, _column_number(letters))
    return rows, columns


def _xml_pieces(zf: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """MEMBER unpacked in pieces cut before a `<` (no reference is split); the next piece is
    inflated on a thread while this one is searched (zlib lets go of the GIL on big calls)."""
    tail = b""
    with ThreadPoolExecutor(1, thread_name_prefix="inflate") as pool:
        inflated = _inflated(zf, member)
        ahead = pool.submit(next, inflated, None)
        while (block := ahead.result()) is not None:  # an inflate call may give b"" midway
            ahead = pool.submit(next, inflated, None)
            text = tail + block
            cut = text.rfind(b"<")
            text, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            yield text
    if tail:
        yield tail


def _inflated(zf: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    info = zf.getinfo(member)
    if info.compress_type != zipfile.ZIP_DEFLATED or zf.fp is None:
        with zf.open(member) as fh:  # stored, or another codec: zipfile's own reader
            while block := fh.read(_BLOCK):
                yield block
        return
    with open(zf.filename, "rb") as fh:  # the deflate stream itself, inflated in big calls
        fh.seek(info.header_offset)
        local = fh.read(30)
        if local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"no local header for {member}")
        fh.seek(int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little"),
                os.SEEK_CUR)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        left = info.compress_size
        while left > 0 and not inflater.eof:
            data = fh.read(min(left, _BLOCK // 8))
            if not data:
                break
            left -= len(data)
            yield inflater.decompress(data)
        yield inflater.flush()


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


def _letters(number: int) -> str:
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out or "A"


def probe_xls(path: Path) -> None:
    """Parse PATH with calamine in a forked child limited in memory and time; raise
    FileRejected if the child does not come back whole."""
    from python_calamine import CalamineWorkbook  # imported here, so the child imports nothing

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the probe: calamine only (no polars, whose thread pool a fork does not copy)
        os.close(read_end)
        faulthandler.disable()  # an abort here is the verdict, not a crash to report
        try:  # Rust's 'memory allocation failed' and its backtrace are not the user's to read
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            limit = _mapped_bytes() + PROBE_HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            workbook = CalamineWorkbook.from_path(str(path))
            for name in workbook.sheet_names:
                workbook.get_sheet_by_name(name)
            verdict = b"ok"
        except BaseException as err:  # an exception is the parent's to report, in its words;
            # a Rust panic would print its own lines on the parent's stderr: refused here
            verdict = b"no" if type(err).__name__ == "PanicException" else b"ok"
        os.write(write_end, verdict)
        os._exit(0)
    os.close(write_end)
    try:
        said, status = _await(pid, read_end)
    finally:
        os.close(read_end)
    if said != b"ok" or status != 0:
        how = (f"reading it took longer than {PROBE_TIMEOUT_S} s" if status is None
               else "its structure contradicts itself" if said == b"no"
               else "reading it needs far more memory than its size explains")
        raise FileRejected(
            "unreadable_file",
            f"{path.name} is a damaged xls workbook: {how}; open it in a spreadsheet "
            "program and save it again as xlsx.",
        )


def _await(pid: int, read_end: int) -> tuple[bytes, int | None]:
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.read(read_end, 2), status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return b"", None
        time.sleep(0.01)


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
