"""Vocabularies: a value's spellings folded (case, accents, spacing, punctuation) to its
canonical code. The mapping runs over the column's distinct values, not its cells."""

from __future__ import annotations

import polars as pl

from ingestion.normalise.text import fold


def map_vocab(text: pl.Series, lookup: dict[str, str]) -> tuple[pl.Series, pl.Series]:
    """Canonical values and `invalid_value` reasons; null text stays null."""
    distinct = text.drop_nulls().unique()
    mapping = {value: lookup.get(fold(value)) for value in distinct.to_list()}
    values = text.replace_strict(mapping, default=None, return_dtype=pl.String)
    reason = pl.select(
        pl.when(text.is_not_null() & values.is_null()).then(pl.lit("invalid_value"))
        .otherwise(None).alias("r")
    )["r"]
    return values.alias(text.name), reason


def code_of(text: pl.Series) -> pl.Series:
    """A topic code: lower-case ascii words joined by underscores (`Merdeka Belajar` ->
    `merdeka_belajar`)."""
    return (
        text.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_")
        .replace("", None)
    )
