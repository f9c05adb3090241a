"""Corrections workbooks (SPEC 7): a load's quarantined rows, sent back to the school.

Each sheet of the original file becomes a sheet with the file's own header row and columns in
their order, then `Baris` (the spreadsheet row number) and `Alasan` (every reason in plain
Indonesian, naming the column). Rows held back only because their file was rejected
(`file_rejected`) are not listed: there is nothing to correct in them. Every cell is written as
text, so a value starting with `=`, `+`, `-` or `@` can never become a formula. Built from the
warehouse alone, so it can be rebuilt for any load at any time.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion.contracts import load_contract
from ingestion.errors import UsageError
from ingestion.reasons import text_id

_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
MASKED_NOTE = ("disamarkan demi kerahasiaan (hanya 4 digit terakhir); isi ulang dengan nomor "
               "lengkap atau kosongkan sebelum mengirim ulang.")


def default_path(home: Path, load_id: int, file_name: str) -> Path:
    return home / "corrections" / f"{load_id}__{file_name}.corrections.xlsx"


def latest_load_with_corrections(conn: psycopg.Connection) -> int:
    rows = conn.execute(
        "select load_id, source from audit.loads where rows_quarantined > 0 "
        "order by load_id desc"
    ).fetchall()
    for load_id, source in rows:
        if _rows(conn, source, load_id, limit=1):
            return load_id
    raise UsageError("No load has quarantined rows to correct.")


def write_corrections(conn: psycopg.Connection, load_id: int, target: Path) -> Path | None:
    """Write the workbook of LOAD_ID to TARGET; None when the load has nothing to correct."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    row = conn.execute(
        "select source, headers from audit.loads where load_id = %s", (load_id,)
    ).fetchone()
    if row is None:
        raise UsageError(f"There is no load {load_id}.")
    source, headers = row
    rows = _rows(conn, source, load_id)
    if not rows:
        return None
    contract = load_contract(source)
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE9D9")
    for sheet_name in dict.fromkeys(r[0] or "" for r in rows):
        columns = list(headers.get(sheet_name) or [])
        if not columns:  # a load from before headers were kept: the keys of the cells
            columns = list(dict.fromkeys(k for r in rows if (r[0] or "") == sheet_name
                                         for k in r[2]))
        column_header = _canonical_headers(contract, columns)
        masked = [column_header[c.name] for c in contract.columns.values()
                  if c.mask_in_quarantine and c.name in column_header]
        ws = wb.create_sheet(_sheet_title(sheet_name or "Data", wb.sheetnames))
        _append_text(ws, [*columns, "Baris", "Alasan"])
        for c in ws[1]:
            c.font = bold
        for sheet, row_number, cells, details in rows:
            if (sheet or "") != sheet_name:
                continue
            why = _alasan(details, column_header)
            hidden = [h for h in masked if cells.get(h)]
            if hidden:
                why += " | " + " | ".join(f"{h}: {MASKED_NOTE}" for h in hidden)
            _append_text(ws, [*(cells.get(h) for h in columns), str(row_number), why])
            for c in ws[ws.max_row][-1:]:
                c.fill = fill
        ws.freeze_panes = "A2"
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _rows(conn, source: str, load_id: int, limit: int | None = None) -> list[tuple]:
    query = sql.SQL(
        "select _sheet, _row_number, cells, reason_details from {} "
        "where _load_id = %s and reasons <> array['file_rejected'] "
        "order by _sheet nulls first, _row_number {}"
    ).format(sql.Identifier("quarantine", source),
             sql.SQL(f"limit {int(limit)}") if limit else sql.SQL(""))
    return conn.execute(query, (load_id,)).fetchall()


def _canonical_headers(contract, columns: list[str]) -> dict[str, str]:
    """canonical column -> the header this file wrote for it (the leftmost, as the reader)."""
    out: dict[str, str] = {}
    for header in columns:
        canonical = contract.header_lookup.get(contract.fold_header(header))
        if canonical:
            out.setdefault(canonical, header)
    return out


def _alasan(details: list[dict], header_of: dict[str, str]) -> str:
    parts = []
    for detail in details:
        code, column = detail["code"], detail.get("column")
        header = header_of.get(column or "")
        parts.append(f"{header}: {text_id(code)}" if header else text_id(code))
    return " | ".join(dict.fromkeys(parts))


def _append_text(ws, values: list) -> None:
    """Append a row whose every cell is a text cell, never a formula."""
    ws.append(["" if v is None else str(v) for v in values])
    for c in ws[ws.max_row]:
        if c.value == "":
            c.value = None
        elif c.value is not None:
            c.data_type = "s"  # `=SUM(A1)` stays the text it was
            if str(c.value)[:1] in "=+-@":
                c.quotePrefix = True


def _sheet_title(name: str, taken: list[str]) -> str:
    title = _SHEET_TITLE_BAD.sub("_", name)[:31] or "Data"
    base, n = title, 2
    while title in taken:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    return title
