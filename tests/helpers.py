"""Small helpers the tests share: run the CLI in-process, read a file's cells independently."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from python_calamine import CalamineWorkbook


def run_cli(*args: str) -> tuple[int, str, str]:
    from ingestion.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cell(path: Path, sheet: str | None, row_number: int, header: str) -> object:
    """The value under HEADER at a 1-based spreadsheet row, read without Lumbung's reader."""
    if path.suffix == ".csv":
        import csv

        text = path.read_bytes()
        for enc in ("utf-8-sig", "cp1252"):
            try:
                decoded = text.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        delimiter = ";" if decoded.count(";") > decoded.count(",") else ","
        rows = list(csv.reader(io.StringIO(decoded), delimiter=delimiter))
    else:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(
            skip_empty_area=False)
    header_row = next(r for r in rows if header in [str(c) for c in r])
    col = [str(c) for c in header_row].index(header)
    return rows[row_number - 1][col]
