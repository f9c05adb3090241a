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

_BLOCK = 1 << 22


def refuse_huge_extent(path: Path, zf: zipfile.ZipFile, sheets: dict[str, str],
                       max_rows: int) -> None:
    """Raise FileRejected when a sheet's cells span more than calamine can hold."""
    limit = max(CELL_LIMIT, (max_rows + 1_000) * COLUMNS_OF_ONE_LETTER)
    for name, member in sheets.items():
        try:
            bound = _quick_bound(zf, member)
            if bound is None or bound[0] * bound[1] > limit:  # look at every cell
                bound = _exact_bound(zf, member)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
            continue  # a damaged member: calamine says so in its own words
        rows, columns = bound
        if rows * columns > limit:
            raise FileRejected(
                "file_too_large",
                f"Sheet {name!r} of {path.name} reaches row {rows:,} and column "
                f"{_letters(columns)}, {rows * columns:,} cells, over the {limit:,} Lumbung "
                "reads; delete the stray cells far from the table.",
            )


_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b")
_REFERENCE_HERE = re.compile(rb"""r=["']([A-Za-z]*)([0-9]+)["']""")
_REFERENCE = re.compile(rb"""\br=["']([A-Za-z]*)([0-9]+)["']""")


def _patterns(prefix: bytes) -> tuple[re.Pattern, re.Pattern]:
    """For the sheet's element prefix (`x:` in files some .NET libraries write): a cell whose
    reference can make the extent big (two or more letters, seven or more digits) or that has
    no reference first; and any row or cell."""
    c, row = re.escape(prefix + b"c"), re.escape(prefix + b"row")
    return (re.compile(b"<" + c + rb"""[ \t\r\n](?!r="[A-Z]?[0-9]{1,6}")|<""" + c + b"[>/]"),
            re.compile(b"<" + row + rb"\b([^>]*)>|<" + c + rb"\b([^>]*)>"))


def _quick_bound(zf: zipfile.ZipFile, member: str) -> tuple[int, int] | None:
    """The largest row and column any cell can reach, looking only at the rare references
    outside A..Z x 1..999,999; None when a cell has no reference of its own."""
    rows, columns = ROWS_OF_SIX_DIGITS, COLUMNS_OF_ONE_LETTER
    notable = None
    for text in _xml_pieces(zf, member):
        if notable is None:
            root = _ROOT.search(text)
            notable = _patterns(root.group(1) or b"" if root else b"")[0]
        for match in notable.finditer(text):
            ref = _REFERENCE_HERE.match(text, match.end())
            if ref is None:
                return None
            rows = max(rows, int(ref.group(2)))
            columns = max(columns, _column_number(ref.group(1)))
    return rows, columns


def _exact_bound(zf: zipfile.ZipFile, member: str) -> tuple[int, int]:
    """Every row and cell, placed as calamine places them: by its reference, else one after
    the previous row or cell."""
    row = column = rows = columns = 0
    row_or_cell = None
    for text in _xml_pieces(zf, member):
        if row_or_cell is None:
            root = _ROOT.search(text)
            row_or_cell = _patterns(root.group(1) or b"" if root else b"")[1]
        for match in row_or_cell.finditer(text):
            row_attributes, cell_attributes = match.groups()
            if row_attributes is not None:
                ref = _REFERENCE.search(row_attributes)
                row, column = (int(ref.group(2)) if ref else row + 1), 0
                continue
            ref = _REFERENCE.search(cell_attributes)
            if ref and ref.group(1):
                column, at_row = _column_number(ref.group(1)), int(ref.group(2))
            else:
                column, at_row = column + 1, row
            rows, columns = max(rows, at_row), max(columns, column)
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
    if info.compress_type != zipfile.ZIP_DEFLATED or not zf.filename:
        with zf.open(member) as fh:  # stored, another codec, or in memory: zipfile reads it
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
    for ch in letters.upper():
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
