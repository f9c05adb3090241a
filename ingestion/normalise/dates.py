"""Dates: ISO, day-first `d/m/yyyy` and `d-m-yyyy`, Excel serials and date cells, and
Indonesian words with an optional weekday (`Senin, 7 Maret 2022`, `7 Mar 2022`).

A weekday that contradicts its date is never guessed either way: `weekday_mismatch`.
"""

from __future__ import annotations

import polars as pl

from ingestion.cells import DATE, DATETIME, NUMBER, TEXT

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agus": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "nopember": 11, "desember": 12, "des": 12,
}
WEEKDAYS = {  # ISO weekday numbers, Monday = 1
    "senin": 1, "selasa": 2, "rabu": 3, "kamis": 4, "jumat": 5, "sabtu": 6, "minggu": 7, "ahad": 7,
}
_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_DAY_FIRST = r"^(\d{1,2})[/\-](\d{1,2})[/\-](\d{4})$"
_WORDS = r"^(?:([a-z]+)\s*,?\s+)?(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})$"
_SERIAL_TEXT = r"^\d{5}$"
_EXCEL_EPOCH = pl.date(1899, 12, 30)


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    month = m.cast(pl.String).str.zfill(2)
    day = d.cast(pl.String).str.zfill(2)
    text = pl.format("{}-{}-{}", y.cast(pl.String), month, day)
    return text.str.to_date("%Y-%m-%d", strict=False)


def parse_date(text: pl.Series, kind: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Date values and reasons (`invalid_date`, `weekday_mismatch`); null text stays null."""
    frame = pl.DataFrame({"t": text, "k": kind})
    lower = pl.col("t").str.to_lowercase().str.replace_all("'", "").str.strip_chars()
    frame = frame.with_columns(
        iso=pl.col("t").str.extract_groups(_ISO),
        dmy=pl.col("t").str.strip_chars().str.extract_groups(_DAY_FIRST),
        words=lower.str.extract_groups(_WORDS),
    )
    serial = (
        pl.when(pl.col("k") == NUMBER).then(pl.col("t").cast(pl.Float64, strict=False))
        .when((pl.col("k") == TEXT) & pl.col("t").str.contains(_SERIAL_TEXT))
        .then(pl.col("t").cast(pl.Float64, strict=False))
    )
    iso = pl.col("iso").struct
    dmy = pl.col("dmy").struct
    words = pl.col("words").struct
    month_no = words.field("3").replace_strict(MONTHS, default=None, return_dtype=pl.Int32)
    weekday_no = words.field("1").replace_strict(WEEKDAYS, default=None, return_dtype=pl.Int8)
    from_iso = _ymd(iso.field("1"), iso.field("2"), iso.field("3"))
    from_dmy = _ymd(dmy.field("3"), dmy.field("2"), dmy.field("1"))
    from_words = _ymd(words.field("4"), month_no, words.field("2"))
    from_serial = (
        pl.when((serial >= 1) & (serial < 2958466))
        .then(_EXCEL_EPOCH + pl.duration(days=serial.floor().cast(pl.Int64)))
    )
    value = (
        pl.when(pl.col("k").is_in([DATE, DATETIME])).then(from_iso)
        .when(pl.col("k") == NUMBER).then(from_serial)
        .when(pl.col("k") == TEXT).then(
            pl.coalesce(from_iso, from_dmy, from_words, from_serial)
        )
    )
    frame = frame.with_columns(
        v=value,
        weekday_given=words.field("1"),
        weekday_no=weekday_no,
    )
    weekday_bad = (
        pl.col("weekday_given").is_not_null()
        & (pl.col("weekday_no").is_null() | (pl.col("weekday_no") != pl.col("v").dt.weekday()))
        & pl.col("v").is_not_null()
    )
    out = frame.select(
        pl.when(weekday_bad).then(None).otherwise(pl.col("v")).alias("v"),
        pl.when(weekday_bad).then(pl.lit("weekday_mismatch"))
        .when(pl.col("t").is_not_null() & pl.col("v").is_null()).then(pl.lit("invalid_date"))
        .otherwise(None).alias("r"),
    )
    return out["v"], out["r"]
