"""Numbers: Indonesian separators in text cells, the cell's own value in numeric cells.

`1.293` is one thousand two hundred ninety-three; `12,5` is twelve and a half; a `.` followed
by exactly three digits (in groups) is a thousands separator, otherwise a decimal point.
"""

from __future__ import annotations

import polars as pl

from ingestion.cells import NUMBER, TEXT

_THOUSANDS = r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"     # 1.293   1.293.000   1.293,5
_DECIMAL_COMMA = r"^[+-]?\d+(,\d+)?$"                # 1293    12,5
_DECIMAL_POINT = r"^[+-]?\d*\.\d+$"                  # 87.5    1.2934
_ROMAN = {
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
    "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18,
    "xix": 19, "xx": 20,
}


def _text_to_number(text: pl.Expr) -> pl.Expr:
    t = text.str.replace_all(r"[\s\u00a0]", "")
    return (
        pl.when(t.str.contains(_THOUSANDS))
        .then(t.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(t.str.contains(_DECIMAL_COMMA)).then(t.str.replace(",", "."))
        .when(t.str.contains(_DECIMAL_POINT)).then(t)
        .otherwise(None)
        .cast(pl.Float64, strict=False)
    )


def parse_number(text: pl.Series, kind: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Float values and `invalid_number` reasons (null text is simply null, no reason)."""
    frame = pl.DataFrame({"t": text, "k": kind})
    out = frame.select(
        pl.when(pl.col("k") == NUMBER).then(pl.col("t").cast(pl.Float64, strict=False))
        .when(pl.col("k") == TEXT).then(_text_to_number(pl.col("t")))
        .otherwise(None).alias("v")
    )["v"]
    reason = pl.select(
        pl.when(text.is_not_null() & out.is_null()).then(pl.lit("invalid_number"))
        .otherwise(None).alias("r")
    )["r"]
    return out, reason


def parse_integer(
    text: pl.Series, kind: pl.Series, *, ordinal: bool = False
) -> tuple[pl.Series, pl.Series]:
    """Whole numbers; with `ordinal`, also `Angkatan 11` and Roman numerals such as `XI`."""
    if ordinal:
        stripped = text.str.to_lowercase().str.replace(r"^\s*(angkatan|gelombang|ke)[\s\-]*", "")
        stripped = stripped.str.strip_chars()
        roman = stripped.replace_strict(_ROMAN, default=None, return_dtype=pl.String)
        text = pl.select(pl.coalesce(roman.cast(pl.String), stripped).alias(text.name))[text.name]
        kind = pl.select(
            pl.when(roman.is_not_null()).then(pl.lit(TEXT, pl.UInt8)).otherwise(kind).alias("k")
        )["k"]
    values, reason = parse_number(text, kind)
    whole = pl.select(
        pl.when(values == values.floor()).then(values).otherwise(None).cast(pl.Int64).alias("v")
    )["v"]
    reason = pl.select(
        pl.when(values.is_not_null() & whole.is_null()).then(pl.lit("invalid_number"))
        .otherwise(reason).alias("r")
    )["r"]
    return whole, reason
