"""Workbooks python-calamine must not be handed (SPEC 10): calamine is fast, but a few damaged
or hostile structures make it ask for unbounded memory, and Rust's allocation failure aborts the
whole process: no exception, no quarantine row, just a dead worker. These are refused first.

- xlsx, the extent: calamine allocates height x width cells for a sheet (`Range::from_sparse`),
  whatever cells are present, so a single cell at XFD1048576 beside A1 asks for 17 billion. The
  sheet XML is scanned for the cell references that can make an extent big (two or more column
  letters, or seven or more row digits); every other reference lies within A..Z x 1..999,999.
  A cell without a reference is placed after the one before it, so a sheet that has one is
  walked cell by cell, as calamine places them.
  The scan lets go of the GIL (zlib inflates on a thread, polars runs the expression).
- xls, the whole parse: calamine follows a compound file's sector chains without checking them
  for cycles or range (fuzzing found files that ask for 4 GiB and more). An xls holds at most
  65,536 rows, so it is parsed once in a forked probe under an address-space limit and a
  timeout; only a file the probe survived is parsed for real.
"""

from __future__ import annotations

import ast
import faulthandler
import os
import re
import resource
import select
import signal
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from ingestion.cells import FileRejected, column_letters, column_number

CELL_LIMIT = 100_000_000  # calamine's own cap for an ods sheet
COLUMNS_OF_ONE_LETTER = 26
ROWS_OF_SIX_DIGITS = 999_999
PROBE_HEADROOM = 2 << 30  # address space the probe may add to what the parent has mapped
PROBE_TIMEOUT_S = 120
XLS_ROWS, XLS_COLUMNS = 65_536, 256  # BIFF8's own limits
SPARSE_FLOOR = 1_000_000  # cells any sheet may span, however small its file
SPARSE_CELLS_PER_BYTE = 100  # a real sheet holds well under one cell per byte

_BLOCK = 1 << 22
ERROR_CELL = b't="e"'
_LONGEST_PIECE = 16 * _BLOCK


def refuse_huge_extent(path: Path, sheets: dict[str, str], max_rows: int) -> set[str]:
    """Raise FileRejected when a sheet's cells span more than calamine can hold; return the
    names of the sheets that hold error cells (`t="e"`), seen on the way. The scan lets go
    of the GIL (zlib, polars' regular expressions), so GX's import goes on beside it."""
    refusal, error_sheets = _scan_sheets(path, sheets, max_rows)
    if refusal:
        raise FileRejected("file_too_large", refusal)
    return error_sheets


def _scan_sheets(path: Path, sheets: dict[str, str], max_rows: int
                 ) -> tuple[str | None, set[str]]:
    limit = max(CELL_LIMIT, (max_rows + 1_000) * COLUMNS_OF_ONE_LETTER)
    error_sheets: set[str] = set()
    with zipfile.ZipFile(path) as zf:
        for name, member in sheets.items():
            errors: list[bool] = []
            try:
                try:
                    bound = _quick_bound(zf, member, errors)
                except pl.exceptions.PolarsError:  # whatever polars makes of it: walk it
                    bound = None
                if bound is None or bound[0] * bound[1] > limit:  # look at every cell
                    bound = _exact_bound(zf, member, errors)
            except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
                error_sheets.add(name)
                continue  # a damaged member: calamine says so in its own words
            if any(errors):
                error_sheets.add(name)
            rows, columns = bound
            if rows * columns > limit:
                return (f"Sheet {name!r} of {path.name} reaches row {rows:,} and column "
                        f"{column_letters(columns)}, {rows * columns:,} cells, over the {limit:,} "
                        "Lumbung reads; delete the stray cells far from the table."), set()
    return None, error_sheets


_ROOT = re.compile(rb"<([^\s<>/:]+:)?worksheet\b")
_PLAIN_PREFIX = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*:")
_REFERENCE_HERE = re.compile(rb"""r=["']([A-Za-z]*)([0-9]+)["']""")
_REFERENCE = re.compile(rb"""\br=["']([A-Za-z]*)([0-9]+)["']""")


def _rows_and_cells(prefix: bytes) -> re.Pattern:
    """Any row or cell, for the sheet's element prefix (`x:` in files some .NET libraries
    write)."""
    c, row = re.escape(prefix + b"c"), re.escape(prefix + b"row")
    return re.compile(b"<" + row + rb"\b([^>]*)>|<" + c + rb"\b([^>]*)>")


def _quick_bound(zf: zipfile.ZipFile, member: str, errors: list[bool]
                 ) -> tuple[int, int] | None:
    """The largest row and column any cell can reach, looking only at the rare references
    outside A..Z x 1..999,999; None when a cell has no reference of its own."""
    rows, columns = ROWS_OF_SIX_DIGITS, COLUMNS_OF_ONE_LETTER
    notable = None
    for text in _xml_pieces(zf, member):
        piece = pl.Series([text], dtype=pl.Binary)
        errors.append(bool(piece.bin.contains(ERROR_CELL).any()))
        if notable is None:
            root = _ROOT.search(text)
            prefix = root.group(1) or b"" if root else b""
            if prefix and not _PLAIN_PREFIX.fullmatch(prefix):
                return None  # a prefix a regular expression would have to escape: walk it
            notable = _notable_cells(prefix)
        as_text = piece.cast(pl.String, strict=False)
        if as_text.null_count():  # not UTF-8: calamine will refuse it; look at every cell
            return None
        found = as_text.str.extract_all(notable).explode(empty_as_null=True).drop_nulls()
        if found.is_empty():
            continue
        refs = found.str.extract_groups(r"""r=["']([A-Za-z]*)([0-9]+)$""").struct.unnest()
        letters, digits = refs.get_column("1"), refs.get_column("2")
        if digits.null_count():  # a cell without a reference first
            return None
        rows = max(rows, _largest(digits))
        columns = max(columns, column_number(_largest(letters.str.to_uppercase(), raw=True)))
    return rows, columns


def _notable_cells(prefix: bytes) -> str:
    """A cell whose reference can make the extent big (two or more letters, seven or more
    digits: the whole reference is taken), or that has no reference first."""
    c = prefix.decode("ascii") + "c"
    return (rf"""<{c}[ \t\r\n]+r=["']([A-Za-z]{{2,}}[0-9]*|[A-Za-z]?[0-9]{{7,}})"""
            rf"""|<{c}[>/]|<{c}[ \t\r\n]+(?:[^r \t\r\n]|r[^=]|r=[^"'])""")


def _largest(values: pl.Series, raw: bool = False):
    """The largest of VALUES compared as numbers or column letters (longer is larger)."""
    frame = pl.DataFrame({"v": values}).with_columns(n=pl.col("v").str.len_bytes())
    top = frame.sort(["n", "v"]).get_column("v")[-1]
    return top.encode() if raw else int(top)


def _exact_bound(zf: zipfile.ZipFile, member: str, errors: list[bool]
                 ) -> tuple[int, int]:
    """Every row and cell, placed as calamine places them: by its reference, else one after
    the previous row or cell."""
    row = column = rows = columns = 0
    row_or_cell = None
    for text in _xml_pieces(zf, member):
        errors.append(ERROR_CELL in text)
        if row_or_cell is None:
            root = _ROOT.search(text)
            row_or_cell = _rows_and_cells(root.group(1) or b"" if root else b"")
        for match in row_or_cell.finditer(text):
            row_attributes, cell_attributes = match.groups()
            if row_attributes is not None:
                ref = _REFERENCE.search(row_attributes)
                row, column = (int(ref.group(2)) if ref else row + 1), 0
                continue
            ref = _REFERENCE.search(cell_attributes)
            if ref and ref.group(1):
                column, at_row = column_number(ref.group(1)), int(ref.group(2))
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
            if cut <= 0 and len(text) < _LONGEST_PIECE:  # one unfinished element: read on
                tail = text
                continue
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


def probe_xls(path: Path) -> None:
    """Parse PATH with calamine in a forked child limited in memory and time; raise
    FileRejected if the child does not come back whole, or if a sheet's extent is mostly
    empty space (a 10 KB file spanning 65,536 x 256 cells costs seconds and a GiB to read)."""
    from python_calamine import CalamineWorkbook  # imported here, so the child imports nothing

    def parse() -> bytes:
        extents = []
        try:
            workbook = CalamineWorkbook.from_path(str(path))
            for name in workbook.sheet_names:
                sheet = workbook.get_sheet_by_name(name)
                extents.append((name, sheet.height, sheet.width))
        except Exception:  # the parent's to report, in calamine's words
            pass
        return b"ok" + repr(extents).encode()

    said = _forked(parse, memory=PROBE_HEADROOM)
    if said is None or not said.startswith(b"ok"):
        how = ("its structure contradicts itself" if said == PANIC
               else f"reading it takes longer than {PROBE_TIMEOUT_S} s" if said == TIMEOUT
               else "reading it needs far more memory than its size explains")
        raise FileRejected(
            "unreadable_file",
            f"{path.name} is a damaged xls workbook: {how}; open it in a spreadsheet "
            "program and save it again as xlsx.",
        )
    size = path.stat().st_size
    for name, rows, columns in ast.literal_eval(said[2:].decode()):
        if rows > XLS_ROWS or columns > XLS_COLUMNS:
            raise FileRejected(
                "unreadable_file",
                f"{path.name} is a damaged xls workbook: its sheet {name!r} claims {rows:,} "
                f"rows and {columns:,} columns, where an xls holds at most {XLS_ROWS:,} and "
                f"{XLS_COLUMNS}; open it in a spreadsheet program and save it again as xlsx.",
            )
        if rows * columns > max(SPARSE_FLOOR, SPARSE_CELLS_PER_BYTE * size):
            raise FileRejected(
                "file_too_large",
                f"Sheet {name!r} of {path.name} spans {rows:,} rows and {columns:,} columns, "
                f"{rows * columns:,} cells from a file of {size:,} bytes: mostly empty space "
                "from stray cells; delete the cells far from the table.",
            )


PANIC, TIMEOUT = b"\x00panic", b"\x00timeout"


def _forked(work: Callable[[], bytes], memory: int | None = None) -> bytes | None:
    """WORK's bytes, computed in a forked child (under MEMORY more bytes of address space,
    and PROBE_TIMEOUT_S); PANIC for a Rust panic, TIMEOUT, or None if the child died or
    raised. The child must not use polars: a fork copies no thread of its pool."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        faulthandler.disable()  # an abort here is the verdict, not a crash to report
        said = b""
        try:  # Rust's 'memory allocation failed' and its backtrace are not the user's to read
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            if memory is not None:
                limit = _mapped_bytes() + memory
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            said = work()
        except BaseException as err:
            said = PANIC if type(err).__name__ == "PanicException" else b""
        with os.fdopen(write_end, "wb") as out:
            out.write(said)
        os._exit(0)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            if not select.select([pipe], [], [], max(deadline - time.monotonic(), 0))[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return TIMEOUT
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    said = b"".join(chunks)
    return said if status == 0 and said else None


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
