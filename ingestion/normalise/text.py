"""Text: folding for matching, trimming and whitespace collapsing for storage."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_EMPTY_MARKS = ("-", "\u2013", "\u2014", "\u2012")


def fold(value: str) -> str:
    """Fold a spelling for matching: case, accents, spacing, punctuation and underscores.

    `Coaching Clinic`, `coaching_clinic` and `COACHING-CLINIC` all fold to `coachingclinic`.
    A spelling made only of symbols (`✓`) folds to itself, trimmed, so it can still match.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    folded = _NON_ALNUM.sub("", ascii_only)
    return folded if folded else value.strip()


# control characters that are not whitespace (copied from terminals and old systems), and DEL
_CONTROL = r"[\x00-\x08\x0e-\x1f\x7f]"


def clean(text: pl.Series) -> pl.Series:
    """Trim, collapse inner whitespace, drop control characters, and turn a lone dash (or an
    empty cell) into null."""
    messy = text.str.contains(r"[^\S ]| {2}|" + _CONTROL)  # only these rows need replacing
    if messy.any():
        rows = messy.arg_true()
        fixed = text.gather(rows).str.replace_all(_CONTROL, "").str.replace_all(r"\s+", " ")
        text = text.clone().scatter(rows, fixed)
    cleaned = text.str.strip_chars()
    empty = cleaned.is_in(("",) + _EMPTY_MARKS)
    return pl.select(pl.when(empty).then(None).otherwise(cleaned).alias(text.name)).to_series()
