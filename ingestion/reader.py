"""One reader for xlsx, xls, ods and csv: every sheet, its header row, and its data rows.

The reader applies no rule of a source beyond finding the header (SPEC 3.5): it returns, per
sheet, each kept column's cells as text beside each cell's kind (the type the spreadsheet gave
it: text, number, date, ...), and each data row's own 1-based spreadsheet row number. Numbers
versus text matters downstream: a 16-digit id stored as a number has lost digits.

Cells are converted column by column (polars builds each column in one call); the only
per-row Python work is the spreadsheet library handing rows over.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import itertools
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from ingestion import memory, workbook_guard
from ingestion.cells import (
    BOOL,
    DATE,
    DATETIME,
    EMPTY,
    ERROR,
    NUMBER,
    TEXT,
    FileRejected,
    ReadResult,
    SheetData,
    column_letters,
    column_number,
)
from ingestion.contracts import Contract
from ingestion.normalise.text import fold

_KIND_OF_TYPE = {
    str: TEXT, float: NUMBER, int: NUMBER, bool: BOOL, dt.date: DATE, dt.datetime: DATETIME,
    dt.time: TEXT, dt.timedelta: TEXT, type(None): EMPTY,
}
EXCEL_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!",
                "#GETTING_DATA", "#SPILL!", "#CALC!", "#N/A!")
SPREADSHEET_FORMATS = {
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods", ".csv": "csv",
}
HEADER_SCAN_ROWS = 16
MIN_HEADER_MATCHES = 3
CHUNK_ROWS = 100_000


# ---------------------------------------------------------------------------------------------
# entry point


def file_format(path: Path) -> str:
    fmt = SPREADSHEET_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileRejected(
            "unreadable_file",
            f"{path.name} is not a spreadsheet Lumbung reads (xlsx, xls, ods or csv).",
        )
    return fmt


def read_file(
    path: Path,
    contract: Contract,
    *,
    max_file_mb: float = 200,
    max_rows: int = 5_000_000,
    optional_required: Iterable[str] = (),
) -> ReadResult:
    """Read every sheet of PATH whose header is recognised for CONTRACT.

    `optional_required` names required columns that may come from elsewhere than a column
    (the PMM snapshot date). Raises FileRejected with a file-level reason code.
    """
    fmt = file_format(path)
    size = path.stat().st_size
    limit = max_file_mb * 1024 * 1024
    if size > limit:
        raise FileRejected(
            "file_too_large",
            f"{path.name} is {size / 1048576:.1f} MB, over the limit of {max_file_mb:g} MB "
            "(LUMBUNG_MAX_FILE_MB).",
        )
    if size == 0:
        raise FileRejected("unreadable_file", f"{path.name} is empty.")
    if fmt in ("xlsx", "ods"):
        _refuse_zip_bomb(path, limit)
    error_sheets = None
    if fmt == "xlsx":
        error_sheets = _refuse_huge_extent(path, max_rows)
    elif fmt == "xls":
        workbook_guard.probe_xls(path)
    if fmt == "csv":
        raw_sheets = [(None, _csv_rows(path, contract))]
        skipped: list[str] = []
    else:
        raw_sheets = _workbook_rows(path, fmt, error_sheets)
        skipped = []

    read: list[SheetData] = []
    incomplete: list[SheetData] = []
    total_rows = 0
    for name, (rows, row_numbers, errors) in raw_sheets:
        sheet = _read_sheet(name, rows, row_numbers, errors, contract, optional_required)
        if sheet is None:
            if name is not None:
                skipped.append(name)
            continue
        if sheet.missing_required:
            incomplete.append(sheet)
            if name is not None:
                skipped.append(name)
            continue
        total_rows += sheet.rows_read
        if total_rows > max_rows:
            raise FileRejected(
                "file_too_large",
                f"{path.name} has more than {max_rows:,} data rows (LUMBUNG_MAX_ROWS).",
            )
        read.append(sheet)
    raw_sheets = rows = None  # calamine's copy of the workbook: every cell is in `read` now
    memory.release()

    if not read:
        if incomplete:
            best = min(incomplete, key=lambda s: len(s.missing_required))
            where = f" in sheet {best.name!r}" if best.name else ""
            named = "; ".join(
                f"{name} ({', '.join(contract.columns[name].headers)})"
                for name in best.missing_required
            )
            plural = "s" if len(best.missing_required) > 1 else ""
            raise FileRejected(
                "missing_required_column",
                f"{path.name} lacks the required column{plural} {named}{where}.",
            )
        raise FileRejected(
            "no_header_found",
            f"No sheet of {path.name} has a header Lumbung recognises as {contract.source} "
            f"(at least {MIN_HEADER_MATCHES} known column names within the first "
            f"{HEADER_SCAN_ROWS} rows).",
        )
    return ReadResult(path=path, file_format=fmt, sheets=read, skipped_sheets=skipped)


# ---------------------------------------------------------------------------------------------
# formats


# a sheet's rows; for csv, the line each row starts on (a list filled as the rows are read, so
# a chunk's numbers are there when the chunk is); its error cells by (row, column)
RowSource = tuple[Iterator[Sequence[object]], list[int] | None, dict[tuple[int, int], str]]


def _refuse_zip_bomb(path: Path, limit: float) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as err:
        if _is_encrypted_ole(path):
            raise _password_protected(path) from None
        raise FileRejected(
            "unreadable_file", f"{path.name} is damaged or not a real {path.suffix} file ({err})."
        ) from None
    if unpacked > 20 * limit:
        raise FileRejected(
            "file_too_large",
            f"{path.name} unpacks to {unpacked / 1048576:.0f} MB, over 20 times the limit of "
            f"{limit / 1048576:g} MB (LUMBUNG_MAX_FILE_MB); it was not unpacked.",
        )


def _refuse_huge_extent(path: Path, max_rows: int) -> set[str] | None:
    """The extent check of workbook_guard; the sheets holding error cells, None if unknown."""
    try:
        with zipfile.ZipFile(path) as zf:
            sheets = _xlsx_sheet_targets(zf)
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error):
        return None  # calamine says what is wrong with the workbook, in its words
    return workbook_guard.refuse_huge_extent(path, sheets, max_rows)


def _workbook_rows(path: Path, fmt: str, error_sheets: set[str] | None
                   ) -> list[tuple[str, RowSource]]:
    with ThreadPoolExecutor(1, thread_name_prefix="error-cells") as pool:
        # calamine parses without the GIL: the error-cell scan unzips the sheets beside it
        error_scan = pool.submit(_xlsx_error_cells, path, error_sheets) if error_sheets else None
        sheets = _calamine_sheets(path, fmt)
        error_cells = error_scan.result() if error_scan else {}
    return [(name, (rows, None, error_cells.get(name, {}))) for name, rows in sheets]


def _calamine_sheets(path: Path, fmt: str) -> list[tuple[str, Iterator[Sequence[object]]]]:
    """Every sheet of the workbook, loaded by calamine, with an iterator over its rows."""
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except PasswordError:
        raise _password_protected(path) from None
    except BaseException as err:  # calamine raises several types for damaged files
        if not _calamine_failure(err):
            raise
        if fmt == "xlsx" and _is_encrypted_ole(path):
            raise _password_protected(path) from None
        raise FileRejected(
            "unreadable_file",
            f"{path.name} cannot be opened as an {fmt} workbook ({_first_line(err)}).",
        ) from None
    out = []
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            rows: Iterator[Sequence[object]] = sheet.iter_rows()
        except BaseException as err:
            if not _calamine_failure(err):
                raise
            raise FileRejected(
                "unreadable_file",
                f"Sheet {name!r} of {path.name} cannot be read ({_first_line(err)}).",
            ) from None
        out.append((name, rows))
    return out


def _calamine_failure(err: BaseException) -> bool:
    """An error of calamine's: an exception, or a Rust panic (pyo3's PanicException derives
    from BaseException, so `except Exception` lets it through)."""
    return isinstance(err, Exception) or type(err).__name__ == "PanicException"


def _password_protected(path: Path) -> FileRejected:
    return FileRejected("unreadable_file",
                        f"{path.name} is password-protected; save it without a password.")


def _is_encrypted_ole(path: Path) -> bool:
    """An encrypted xlsx is an OLE compound file holding `EncryptedPackage`."""
    with path.open("rb") as fh:
        head = fh.read(8)
        if head != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            return False
        return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00" in fh.read(1 << 20)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


_CELL_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _xlsx_error_cells(path: Path, only: set[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Error cells (`t="e"`) per sheet name -> {(row index, column index): '#N/A'}.

    calamine reads an error cell as an empty string, so the error would pass as an empty
    cell; only the sheets the extent scan saw an error cell in (ONLY) are searched.
    """
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            targets = _xlsx_sheet_targets(zf)
            for name, target in targets.items():
                try:
                    if name not in only:
                        continue
                    data = zf.read(target)
                except KeyError:
                    continue
                cells: dict[tuple[int, int], str] = {}
                pos = data.find(workbook_guard.ERROR_CELL)
                while pos != -1:
                    start = data.rfind(b"<c ", 0, pos)
                    end = data.find(b"</c>", pos)
                    element = data[start:end] if start != -1 and end != -1 else b""
                    ref = _CELL_REF.search(element)
                    value = _CELL_VALUE.search(element)
                    if ref:
                        col = column_number(ref.group(1))
                        text = value.group(1).decode("utf-8", "replace") if value else "#N/A"
                        cells[(int(ref.group(2)) - 1, col - 1)] = text
                    pos = data.find(workbook_guard.ERROR_CELL, pos + 5)
                out[name] = cells
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error):
        return {}
    return out


def _xlsx_sheet_targets(zf: zipfile.ZipFile) -> dict[str, str]:
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    rel_target = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)
    }
    rel_target.update({
        m.group(2): m.group(1)
        for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)
    })
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", workbook):
        attrs = m.group(1)
        name = re.search(r'name="([^"]*)"', attrs)
        rid = re.search(r'r:id="([^"]*)"', attrs)
        if not name or not rid or rid.group(1) not in rel_target:
            continue
        target = rel_target[rid.group(1)].lstrip("/")
        if not target.startswith("xl/"):
            target = "xl/" + target
        out[_xml_unescape(name.group(1))] = target
    return out


def _xml_unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


CSV_BLOCK = 4 << 20


def _csv_encoding(path: Path) -> str:
    """UTF-16 (with its BOM), UTF-8 (a BOM skipped) where every byte decodes, else cp1252 (an
    old Excel's csv). Read in blocks: the file is never held whole."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        if b"\x00" in head and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(CSV_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _csv_rows(path: Path, contract: Contract) -> RowSource:
    """The file's rows, streamed (never the whole text, nor every row, in memory at once);
    NUL characters dropped."""
    encoding = _csv_encoding(path)
    errors = "replace" if encoding == "cp1252" else "strict"
    with path.open(encoding=encoding, errors=errors, newline="") as fh:
        head = "".join(itertools.islice(fh, HEADER_SCAN_ROWS)).replace("\x00", "")
    delimiter = _csv_delimiter(head, contract)
    starts: list[int] = []

    def rows() -> Iterator[list[str]]:
        with path.open(encoding=encoding, errors=errors, newline="") as fh:
            reader = csv.reader((line.replace("\x00", "") for line in fh), delimiter=delimiter)
            previous = 0
            try:
                for row in reader:
                    starts.append(previous + 1)
                    previous = reader.line_num
                    yield row
            except csv.Error as err:
                raise FileRejected(
                    "unreadable_file", f"{path.name} is not a readable csv file ({err})."
                ) from None

    return rows(), starts, {}


def _csv_delimiter(text: str, contract: Contract) -> str:
    """`;` or `,`: whichever makes a header row recognisable with more known columns."""
    head = text.splitlines()[:HEADER_SCAN_ROWS]
    lookup = contract.header_lookup
    best, best_score = ",", -1
    for delimiter in (";", ","):
        score = 0
        for row in csv.reader(head, delimiter=delimiter):
            score = max(score, sum(1 for cell in row if contract.fold_header(cell) in lookup))
        if score > best_score:
            best, best_score = delimiter, score
    return best


# ---------------------------------------------------------------------------------------------
# one sheet


def _read_sheet(
    name: str | None,
    rows: Iterator[Sequence[object]],
    row_numbers: list[int] | None,
    errors: dict[tuple[int, int], str],
    contract: Contract,
    optional_required: Iterable[str],
) -> SheetData | None:
    """Find the header among the first rows, then convert the data rows column by column."""
    lookup = contract.header_lookup
    head: list[Sequence[object]] = []
    header_index = None
    for i, row in enumerate(rows):
        head.append(row)
        matches = sum(
            1 for cell in row if isinstance(cell, str) and contract.fold_header(cell) in lookup
        )
        if matches >= MIN_HEADER_MATCHES:
            header_index = i
            break
        if i + 1 >= HEADER_SCAN_ROWS:
            break
    if header_index is None:
        return None

    numbers = row_numbers
    header_cells = ["" if c is None else str(c).strip() for c in head[header_index]]
    title_lines = [
        " ".join(str(c).strip() for c in r if c not in (None, "") and str(c).strip())
        for r in head[:header_index]
    ]
    title_lines = [t for t in title_lines if t]

    columns = _assign_columns(header_cells, contract)
    missing = [
        col for col in contract.required
        if col not in {c for _, c, _ in columns if c} and col not in set(optional_required)
    ]
    width = len(header_cells)
    kept_sheet_columns = {c[0] for c in columns}
    numbering_index = next(
        (i for i, h in enumerate(header_cells) if h and i not in kept_sheet_columns), None
    )
    chunks = []
    data_start = header_index + 1
    with _cyclic_gc_paused():
        for offset, chunk in _chunks(rows, CHUNK_ROWS):
            first = data_start + offset
            chunks.append(
                _chunk_frame(chunk, first, width, columns, errors, numbers, numbering_index)
            )
    keep_names = [f"c{i}" for i in range(len(columns))] + [f"k{i}" for i in range(len(columns))]
    if chunks:
        frame = pl.concat(chunks, how="vertical", rechunk=False)
    else:
        frame = pl.DataFrame(
            {**{n: pl.Series([], dtype=pl.String if n[0] == "c" else pl.UInt8) for n in keep_names},
             "_no": pl.Series([], dtype=pl.String), "_row_number": pl.Series([], dtype=pl.Int64)}
        )
    total_stored = data_start + frame.height
    frame = _drop_blank_and_totals(frame, len(columns), contract)
    # a column with no header and no value anywhere (trailing empty columns) is not data
    empty = [
        i for i, (_, canonical, header) in enumerate(columns)
        if canonical is None and not header and frame[f"c{i}"].null_count() == frame.height
    ]
    kept = [i for i in range(len(columns)) if i not in empty]
    cells = frame.select(
        [pl.col(f"c{i}").alias(f"c{j}") for j, i in enumerate(kept)]
        + [pl.col(f"k{i}").alias(f"k{j}") for j, i in enumerate(kept)]
        + [pl.col("_no"), pl.col("_row_number")]
    )
    return SheetData(
        name=name,
        header_row=(numbers[header_index] if numbers else header_index + 1),
        headers=[columns[i][2] or f"column_{column_letters(columns[i][0] + 1)}" for i in kept],
        canonical=[columns[i][1] for i in kept],
        cells=cells,
        title_lines=title_lines,
        rows_skipped=total_stored - cells.height,
        missing_required=missing,
        numbering_header=header_cells[numbering_index] if numbering_index is not None else None,
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Rows arrive as millions of Python lists, each of which would count towards (and be
    scanned by) the cyclic garbage collector; none of them forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _assign_columns(
    header_cells: list[str], contract: Contract
) -> list[tuple[int, str | None, str]]:
    """Kept columns as (sheet column index, canonical or None, header as written).

    The leftmost column that maps to a canonical column wins; a second one goes to `_extra`
    under its header. A leading `No` column is dropped. A column with an empty header keeps
    an empty header here; it is named by its letter if it holds data, else dropped.
    """
    lookup = contract.header_lookup
    numbering = {fold(h) for h in contract.numbering_headers}
    taken: set[str] = set()
    used_names: set[str] = set()
    out: list[tuple[int, str | None, str]] = []
    first_filled = next((i for i, h in enumerate(header_cells) if h), None)
    for i, header in enumerate(header_cells):
        if i == first_filled and fold(header) in numbering:
            continue
        canonical = lookup.get(contract.fold_header(header)) if header else None
        if canonical and canonical not in taken:
            taken.add(canonical)
            out.append((i, canonical, header))
            continue
        label = header
        while label and label in used_names:
            label = f"{label} ({i + 1})"
        used_names.add(label)
        out.append((i, None, label))
    return out


def _chunks(rows: Iterator[Sequence[object]], size: int) -> Iterator[tuple[int, list]]:
    chunk: list[Sequence[object]] = []
    offset = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield offset, chunk
            offset += size
            chunk = []
    if chunk:
        yield offset, chunk


def _chunk_frame(
    chunk: list[Sequence[object]],
    first_index: int,
    width: int,
    columns: list[tuple[int, str | None, str]],
    errors: dict[tuple[int, int], str],
    numbers: list[int] | None,
    numbering_index: int | None,
) -> pl.DataFrame:
    """Rows -> one text and one kind column per kept sheet column (columnar conversion)."""
    widest = max(width, max((len(r) for r in chunk), default=0))
    if any(len(r) != widest for r in chunk):  # csv rows may be ragged
        chunk = [list(r) + [""] * (widest - len(r)) for r in chunk]
    transposed = list(zip(*chunk, strict=True)) if chunk else [()] * widest
    n = len(chunk)
    data: dict[str, pl.Series] = {}
    for out_i, (sheet_i, _, _) in enumerate(columns):
        cells = transposed[sheet_i] if sheet_i < len(transposed) else ("",) * n
        data[f"c{out_i}"], data[f"k{out_i}"] = _column(cells)
    # the dropped numbering column's text: for totals detection ("JUMLAH" often sits there)
    # and for the corrections workbook, which shows the file's own columns
    if numbering_index is not None and numbering_index < len(transposed):
        data["_no"], data["_kno"] = _column(transposed[numbering_index])
    else:
        data["_no"] = pl.repeat(None, n, dtype=pl.String, eager=True)
        data["_kno"] = pl.repeat(EMPTY, n, dtype=pl.UInt8, eager=True)
    if numbers is not None:
        data["_row_number"] = pl.Series(numbers[first_index:first_index + n], dtype=pl.Int64)
    else:
        data["_row_number"] = pl.int_range(first_index + 1, first_index + n + 1, eager=True)
    frame = pl.DataFrame(data)
    pairs = [(f"c{i}", f"k{i}") for i in range(len(columns))] + [("_no", "_kno")]
    frame = frame.with_columns(_normalise_kinds(pairs)).drop("_kno")
    if errors:
        frame = _overlay_errors(frame, columns, errors)
    return frame


def _column(cells: Sequence[object]) -> tuple[pl.Series, pl.Series]:
    """One column's cells -> (text, kind). A column of one Python type (most are) is built in
    one typed call; a mixed one converts cell by cell inside polars, with a kind per cell."""
    types = set(map(type, cells))
    if len(types) == 1:
        (only,) = types
        kinds = pl.repeat(_KIND_OF_TYPE.get(only), len(cells), dtype=pl.UInt8, eager=True)
        if only is str:
            return pl.Series(cells, dtype=pl.String), kinds
        if only is float:  # the same text as the cell-by-cell conversion gives
            return pl.Series(cells, dtype=pl.Float64).cast(pl.String), kinds
    kinds = pl.Series(list(map(_KIND_OF_TYPE.get, map(type, cells))), dtype=pl.UInt8)
    return pl.Series(cells, dtype=pl.String, strict=False), kinds


def _normalise_kinds(pairs: list[tuple[str, str]]) -> list[pl.Expr]:
    """Column-wise fix-ups of (text, kind) column pairs: empties, whole numbers, errors."""
    exprs = []
    for text_name, kind_name in pairs:
        c, k = pl.col(text_name), pl.col(kind_name)
        kind = (
            pl.when(k.is_null()).then(pl.lit(TEXT, pl.UInt8))   # unknown Python type
            .when(c.is_null() | (c == "")).then(pl.lit(EMPTY, pl.UInt8))
            .when((k == TEXT) & c.str.strip_chars().is_in(EXCEL_ERRORS))
            .then(pl.lit(ERROR, pl.UInt8))
            .otherwise(k)
        )
        text = (
            pl.when(c == "").then(None)
            .when((k == NUMBER) & c.str.ends_with(".0")).then(c.str.slice(0, c.str.len_chars() - 2))
            .when(k == DATETIME).then(c.str.replace(r" 00:00:00(\.0+)?$", ""))
            .otherwise(c)
        )
        exprs += [kind.alias(kind_name), text.alias(text_name)]
    return exprs


def _overlay_errors(
    frame: pl.DataFrame, columns: list[tuple[int, str | None, str]],
    errors: dict[tuple[int, int], str],
) -> pl.DataFrame:
    by_sheet_col = {sheet_i: out_i for out_i, (sheet_i, _, _) in enumerate(columns)}
    rows = frame["_row_number"]
    lo, hi = rows.min(), rows.max()
    updates: dict[int, dict[int, str]] = {}
    for (r, c), text in errors.items():
        if c in by_sheet_col and lo is not None and lo <= r + 1 <= hi:
            updates.setdefault(by_sheet_col[c], {})[r + 1] = text
    for out_i, cells in updates.items():
        err = pl.DataFrame({"_row_number": list(cells), "_err": list(cells.values())},
                           schema={"_row_number": pl.Int64, "_err": pl.String})
        frame = (
            frame.join(err, on="_row_number", how="left", maintain_order="left")
            .with_columns(
                pl.coalesce("_err", f"c{out_i}").alias(f"c{out_i}"),
                pl.when(pl.col("_err").is_not_null()).then(pl.lit(ERROR, pl.UInt8))
                .otherwise(pl.col(f"k{out_i}")).alias(f"k{out_i}"),
            )
            .drop("_err")
        )
    return frame


def _drop_blank_and_totals(frame: pl.DataFrame, ncols: int, contract: Contract) -> pl.DataFrame:
    """Drop blank rows, and the totals row with everything below it (signature lines)."""
    if frame.height == 0:
        return frame
    texts = [pl.col(f"c{i}") for i in range(ncols)]
    blank = pl.all_horizontal([t.is_null() for t in texts]) if texts else pl.lit(True)
    first_text = pl.coalesce([pl.col("_no").str.strip_chars().replace("", None), *texts])
    words = "|".join(re.escape(w) for w in contract.totals_words)
    totals = first_text.str.to_lowercase().str.contains(rf"^\s*(?:{words})\b").fill_null(False)
    marked = frame.with_columns(blank.alias("_blank"), totals.alias("_totals"))
    first_total = marked["_totals"].arg_true()
    if len(first_total):
        marked = marked.head(int(first_total[0]))
    return marked.filter(~pl.col("_blank")).drop("_blank", "_totals")
