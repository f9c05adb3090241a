"""Expectation suites as plain data, generated from a source contract (SPEC 5).

Nothing here imports Great Expectations: a suite is a list of `ExpectationSpec` built from the
same contract the normalisers read, so a vocabulary, range or id format changed in the YAML
changes both. `ingestion.validate` turns the specs into GX expectations and runs them.

Two kinds of expectation:
- row level, each attributed to one contract column: over the batch as read (valid and invalid
  rows alike, normalised values beside whether the cell held anything), GX must find unexpected
  exactly the rows the normalisers gave a reason for that column. That is the cross-check.
- batch level: rows in = rows out (reconciliation), the share of invalid rows (which decides
  `too_many_invalid_rows`), and unique business keys among the rows that go to raw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ingestion.contracts import Column, Contract
from ingestion.normalise.regions import matcher

# reasons decided over several rows, not about one cell's value: checked at batch level
NOT_CELL_REASONS = ("duplicate_row", "conflicting_duplicate", "conflicting_event",
                    "file_rejected")
ROW_ID = "_row_id"
NOT_INVALID = ("duplicate_row",)  # the one reason that does not count towards the share


@dataclass(frozen=True)
class ExpectationSpec:
    type: str                          # the GX expectation class name
    kwargs: dict[str, Any]
    column: str | None = None          # the contract column a row-level spec checks
    decides: str | None = None         # the reason code its failure gives the file
    condition: str | None = None       # a boolean frame column: only rows where it is true
    notes: str = ""

    @property
    def level(self) -> str:
        return "row" if self.column else "batch"


@dataclass
class SuiteSpec:
    name: str
    expectations: list[ExpectationSpec] = field(default_factory=list)


def _value_column(column: Column) -> str:
    return {"regency": "regency_code", "province": "province_code"}.get(column.type, column.name)


def _row_specs(contract: Contract, column: Column, today: dt.date) -> list[ExpectationSpec]:
    name, value = column.name, _value_column(column)
    specs: list[ExpectationSpec] = []

    def add(kind: str, condition: str | None = None, **kwargs: Any) -> None:
        specs.append(ExpectationSpec(kind, {"column": value, **kwargs}, column=name,
                                     condition=condition))

    if column.required:
        add("ExpectColumnValuesToNotBeNull")
    else:  # a value that was written must have been understood
        add("ExpectColumnValuesToNotBeNull", condition=f"_given__{name}")
    if column.type == "vocab":
        add("ExpectColumnValuesToBeInSet", value_set=sorted(column.values))
    if column.type == "id" and column.identifier:
        add("ExpectColumnValuesToMatchRegex", regex=column.identifier.pattern)
    if column.type == "regency":
        add("ExpectColumnValuesToBeInSet", value_set=sorted(matcher().by_code))
    if column.type == "province":
        add("ExpectColumnValuesToBeInSet", value_set=sorted(matcher().province_names))
    if column.range:
        lo, hi = (today.year if b == "current_year" else b for b in column.range)
        add("ExpectColumnValuesToBeBetween", min_value=lo, max_value=hi)
    for rule in column.rules:
        if rule == "not_future":
            add("ExpectColumnValuesToBeBetween", max_value=_datetime(today))
            continue
        (kind, arg), = rule.items()
        if kind == "min":
            add("ExpectColumnValuesToBeBetween", min_value=_datetime(dt.date.fromisoformat(arg)))
        elif kind in ("not_before", "not_less_than", "not_before_july_of"):
            other = f"_july_first__{arg}" if kind == "not_before_july_of" else arg
            specs.append(ExpectationSpec(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": value, "column_B": other, "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"},
                column=name))
        else:
            raise ValueError(f"no expectation for rule {rule!r} of {contract.source}.{name}")
    return specs


def suite_spec(contract: Contract, *, today: dt.date, rows_read: int,
               max_invalid_share: float) -> SuiteSpec:
    suite = SuiteSpec(name=f"{contract.source}_load")
    for column in contract.columns.values():
        suite.expectations += _row_specs(contract, column, today)
    suite.expectations += [
        ExpectationSpec("ExpectTableRowCountToEqual", {"value": rows_read},
                        notes="every data row read is in the batch: loaded or quarantined"),
        ExpectationSpec("ExpectColumnMeanToBeBetween",
                        {"column": "_invalid", "min_value": 0.0,
                         "max_value": max_invalid_share},
                        decides="too_many_invalid_rows",
                        notes="share of rows with a reason other than duplicate_row"),
        ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": "_business_key_id"},
                        condition="_loadable",
                        notes="rows going to raw have distinct business keys (one id per "
                              "distinct key)"),
    ]
    return suite


def _datetime(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def validation_frame(batch_rows: pl.DataFrame, contract: Contract,
                     business_key: pl.Series) -> pl.DataFrame:
    """The frame GX validates: normalised values, what was written, and the row verdicts."""
    columns = [c for c, _ in contract.raw_columns() if c in batch_rows.columns]
    helpers = []
    for column in contract.columns.values():
        for rule in column.rules:
            if isinstance(rule, dict) and "not_before_july_of" in rule:
                year = rule["not_before_july_of"]
                helpers.append(pl.date(pl.col(year), 7, 1).alias(f"_july_first__{year}"))
    return batch_rows.select(
        "_sheet", "_row_number",
        *columns,
        *(f"_given__{c.name}" for c in contract.columns.values() if not c.required),
        _invalid().cast(pl.Float64).alias("_invalid"),
        (pl.col("_reasons").list.len() == 0).alias("_loadable"),
        *helpers,
    ).with_columns(
        # one integer per distinct key: equal ids exactly when keys are equal; pandas finds
        # repeated strings at a million rows in 0.9 s and 340 MB, repeated integers in 0.3 s
        business_key.rank("dense").alias("_business_key_id"))


def _invalid() -> pl.Expr:
    """Whether a row counts towards the share of invalid rows (any reason but NOT_INVALID)."""
    return pl.col("_reasons").list.set_difference(pl.lit(list(NOT_INVALID))).list.len() > 0


def invalid_share(batch_rows: pl.DataFrame) -> float:
    """The share GX's ExpectColumnMeanToBeBetween on `_invalid` observes, computed alike."""
    if batch_rows.height == 0:
        return 0.0
    return float(batch_rows.select(_invalid().cast(pl.Float64).mean()).item())


def flagged_rows(batch_rows: pl.DataFrame) -> dict[str, set[int]]:
    """Per contract column, the rows the normalisers gave a reason about that column's value."""
    pairs = batch_rows.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW_ID), "_reason_codes", "_reason_columns"
    ).explode(["_reason_codes", "_reason_columns"], empty_as_null=True).drop_nulls()
    pairs = pairs.filter(~pl.col("_reason_codes").is_in(NOT_CELL_REASONS))
    grouped = pairs.group_by("_reason_columns").agg(pl.col(ROW_ID).unique())
    return {column: set(ids) for column, ids in grouped.iter_rows()}
