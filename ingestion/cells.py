"""What the reader hands over, without the reading: cell kinds and the file-level rejection.

Pure: the normalisers and rules import this module, never the reader itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

# Cell kinds, stored per cell beside its text (UInt8): the type the spreadsheet gave the cell.
EMPTY, TEXT, NUMBER, DATE, DATETIME, BOOL, ERROR = range(7)



def column_letters(number: int) -> str:
    """A spreadsheet column's letters from its 1-based number: 1 -> A, 27 -> AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes | str) -> int:
    """A column's 1-based number from its letters, either case: AA -> 27."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for ch in text.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


class FileRejected(Exception):
    """The file as a whole cannot be read as this source: a file-level reason code (SPEC 3.6)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SheetData:
    """One sheet whose header was recognised, with its data rows."""

    name: str | None                       # None for csv
    header_row: int                        # 1-based spreadsheet row of the header
    headers: list[str]                     # kept columns' header cells, as written, in order
    canonical: list[str | None]            # per kept column: its canonical column or None (extra)
    cells: pl.DataFrame                    # c0.. text, k0.. kind, _row_number
    title_lines: list[str]                 # text of the rows above the header
    rows_skipped: int                      # title, header, blank and totals rows (and below)
    missing_required: list[str] = field(default_factory=list)
    numbering_header: str | None = None    # a leading `No` column's header (cells in `_no`)

    @property
    def file_headers(self) -> list[str]:
        """The sheet's own columns in their order: the numbering column, then the kept ones."""
        return ([self.numbering_header] if self.numbering_header else []) + self.headers

    @property
    def rows_read(self) -> int:
        return self.cells.height

    def text(self, i: int) -> pl.Series:
        return self.cells[f"c{i}"]

    def kind(self, i: int) -> pl.Series:
        return self.cells[f"k{i}"]


@dataclass
class ReadResult:
    path: Path
    file_format: str
    sheets: list[SheetData]
    skipped_sheets: list[str]

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sheets)

    @property
    def rows_skipped(self) -> int:
        return sum(s.rows_skipped for s in self.sheets)
