"""Identifiers (nuptk, nik, npsn, nisn): length, characters, and what a number did to them.

A 16-digit id that arrived as a number (a numeric cell, or text like `1.23457E+15`) lost
digits: `id_stored_as_number`, never guessed. An npsn or nisn that arrived as an integer with
fewer digits than its length lost its leading zeros: padded and flagged as repaired. In csv
(no cell types) a digits-only npsn or nisn that is too short is taken as such an export.
"""

from __future__ import annotations

import polars as pl

from ingestion.cells import NUMBER, TEXT
from ingestion.contracts import IdentifierFormat

_SCIENTIFIC = r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$"


def parse_id(
    text: pl.Series, kind: pl.Series, fmt: IdentifierFormat, *, typeless: bool
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Values, reasons (`invalid_id`, `id_stored_as_number`) and a repaired flag per row."""
    frame = pl.DataFrame({"t": text, "k": kind})
    t, k = pl.col("t"), pl.col("k")
    whole_number = t.str.contains(r"^\d+$")  # numeric cells were rendered without `.0`
    digits = t.str.len_chars()
    is_number = k == NUMBER
    scientific = (k == TEXT) & t.str.contains(_SCIENTIFIC)
    short_digits = whole_number & (digits < fmt.length)
    pad = fmt.pad_integers & short_digits & (is_number | (pl.lit(typeless) & (k == TEXT)))
    lost = fmt.lost_digits_as_number & (
        scientific
        | (is_number & ((whole_number & (digits >= fmt.length - 1)) | t.str.contains("[eE]")))
    )
    padded = t.str.zfill(fmt.length)
    value = (
        pl.when(t.is_null()).then(None)
        .when(lost).then(None)
        .when(pad).then(padded)
        .when(t.str.contains(fmt.pattern) & (is_number.not_() | whole_number)).then(t)
        .otherwise(None)
    )
    out = frame.select(
        value.alias("v"),
        pl.when(t.is_null()).then(None)
        .when(lost).then(pl.lit("id_stored_as_number"))
        .when(value.is_null()).then(pl.lit("invalid_id"))
        .otherwise(None).alias("r"),
        (pad & value.is_not_null()).fill_null(False).alias("repaired"),
    )
    return out["v"], out["r"], out["repaired"]
