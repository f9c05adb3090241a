"""Apply a source contract to a batch as read: typed values and every reason of every row.

Pure: no warehouse, no files, no Great Expectations. Given the reader's sheets, it returns one
frame with the canonical columns (typed), the derived ones (`regency_code`, `event_code`, ...),
`_extra`, the original cells, the lineage the file gives (`_sheet`, `_row_number`),
`_reasons` (every reason code that applies, SPEC 3.6, once each), `_reason_codes` beside
`_reason_columns` (every (code, column) pair that gave them, aligned), and `_given__<column>`
(whether the cell held a value as read). Within-file duplicates and conflicting events are
decided here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

import polars as pl

from ingestion.cells import EMPTY, ERROR, TEXT, FileRejected, ReadResult, SheetData
from ingestion.contracts import Column, Contract
from ingestion.normalise.dates import parse_date
from ingestion.normalise.ids import parse_id
from ingestion.normalise.numbers import parse_integer, parse_number
from ingestion.normalise.regions import match_regions
from ingestion.normalise.text import clean, fold
from ingestion.normalise.vocab import code_of, map_vocab

PMM_LAUNCH = dt.date(2022, 2, 11)


@dataclass
class Batch:
    """A file's rows after the contract: what the loader writes and the validator checks."""

    source: str
    rows: pl.DataFrame
    sheets_read: list[str]
    sheets_skipped: list[str]
    rows_skipped: int
    headers: dict[str, list[str]] = field(default_factory=dict)  # sheet ("" for csv) -> columns
    rows_as_read: int = 0  # data rows the reader handed over: the reconciliation's left side
    originals: dict[str | None, Originals] = field(default_factory=dict)  # per sheet

    @property
    def rows_read(self) -> int:
        return self.rows.height

    def invalid_mask(self) -> pl.Series:
        return self.rows["_reasons"].list.len() > 0

    def cells_json(self, rows: pl.DataFrame) -> pl.Series:
        """ROWS' cells as the file had them, one JSON object per row {header: text}.

        Built for the rows that need it (those quarantined), not for the whole batch: at a
        million rows the objects would outweigh every other column together.
        """
        keyed = rows.select(pl.int_range(pl.len()).alias("_pos"), "_sheet", "_row_number")
        parts = [pl.DataFrame(schema={"_pos": pl.Int64, "j": pl.String})]
        for sheet, original in self.originals.items():
            mine = keyed.filter(pl.col("_sheet").eq_missing(pl.lit(sheet, pl.String)))
            if mine.height:
                joined = mine.join(original.texts, on="_row_number", how="left",
                                   maintain_order="left")
                fields = [(joined[f"o{i}"], header, masked)
                          for i, (header, masked) in enumerate(original.fields)]
                parts.append(pl.DataFrame({"_pos": joined["_pos"],
                                           "j": _json_object(fields, joined.height)}))
        return pl.concat(parts).sort("_pos")["j"].alias("_cells")

    def reason_counts(self) -> dict[str, int]:
        exploded = self.rows["_reasons"].explode(empty_as_null=False).drop_nulls()
        if exploded.len() == 0:
            return {}
        counts = exploded.value_counts(sort=True)
        return {code: int(n) for code, n in counts.iter_rows()}


@dataclass
class Originals:
    """One sheet's cells as read, by spreadsheet row: what a quarantined row shows."""

    fields: list[tuple[str, bool]]   # per column: header as written, masked in quarantine
    texts: pl.DataFrame              # _row_number, o0, o1, ... (the reader's own text)


@dataclass(frozen=True)
class Context:
    """What a batch depends on besides its cells."""

    today: dt.date
    as_of: dt.date | None = None
    typeless: bool = False  # csv: no cell types


# ---------------------------------------------------------------------------------------------


def apply_contract(read: ReadResult, contract: Contract, ctx: Context) -> Batch:
    frames = [_sheet_frame(sheet, contract, ctx) for sheet in read.sheets]
    rows = pl.concat(frames, how="vertical") if frames else _empty_frame(contract)
    rows = _file_rules(rows, contract)
    rows = rows.with_columns(
        pl.col("_reason_list").list.unique(maintain_order=True).alias("_reasons")
    ).rename({"_reason_list": "_reason_codes"})  # aligned with `_reason_columns`
    return Batch(
        source=contract.source,
        rows=rows,
        originals={sheet.name: _originals(sheet, contract) for sheet in read.sheets},
        sheets_read=[s.name for s in read.sheets if s.name is not None],
        sheets_skipped=list(read.skipped_sheets),
        rows_skipped=read.rows_skipped,
        headers={s.name or "": s.file_headers for s in read.sheets},
        rows_as_read=read.rows_read,
    )


def snapshot_from_title(lines: list[str]) -> dt.date | None:
    """The date in a `... per 23 Desember 2022` line above a PMM header, if any."""
    for line in lines:
        m = re.search(r"\bper\s+(?:tanggal\s+)?(.+?)\s*$", line, flags=re.IGNORECASE)
        if not m:
            continue
        value, reason = parse_date(pl.Series([m.group(1)]), pl.Series([TEXT], dtype=pl.UInt8))
        if value[0] is not None and reason[0] is None:
            return value[0]
    return None


# ---------------------------------------------------------------------------------------------
# one sheet


def _sheet_frame(sheet: SheetData, contract: Contract, ctx: Context) -> pl.DataFrame:
    n = sheet.rows_read
    index = {c: i for i, c in enumerate(sheet.canonical) if c}
    values: dict[str, pl.Series] = {}
    checks: list[tuple[str, pl.Series]] = []  # (column, reason or null) per row

    given: dict[str, pl.Series] = {}  # a value was written (an error cell counts), per column

    def cells(name: str) -> tuple[pl.Series, pl.Series]:
        if name not in index:
            given[name] = pl.repeat(False, n, dtype=pl.Boolean, eager=True)
            return (pl.repeat(None, n, dtype=pl.String, eager=True).alias(name),
                    pl.repeat(EMPTY, n, dtype=pl.UInt8, eager=True))
        i = index[name]
        text = clean(sheet.text(i)).alias(name)
        kind = sheet.kind(i)
        given[name] = text.is_not_null()
        errors = kind == ERROR
        checks.append((name, _when(errors, "excel_error")))
        kind = pl.select(pl.when(text.is_null()).then(pl.lit(EMPTY, pl.UInt8)).otherwise(kind)
                         .alias("k"))["k"]
        text = pl.select(pl.when(errors).then(None).otherwise(text).alias(name))[name]
        return text, kind

    repaired: list[pl.Series] = []
    for column in contract.columns.values():
        text, kind = cells(column.name)
        value, reason = _normalise(column, text, kind, ctx, repaired)
        if column.default is not None:
            value = pl.select(pl.when(text.is_null()).then(pl.lit(column.default))
                              .otherwise(value).alias(column.name))[column.name]
        values[column.name] = value.alias(column.name)
        checks.append((column.name, reason))
        if column.code_column:
            values[column.code_column] = code_of(value).alias(column.code_column)

    snapshot = contract.snapshot or {}
    if snapshot and snapshot["column"] not in index:
        date = snapshot_from_title(sheet.title_lines) if snapshot.get("from_title_rows") else None
        date = date or (ctx.as_of if snapshot.get("from_as_of") else None)
        if date is None:
            where = f"sheet {sheet.name!r}" if sheet.name else "the file"
            raise FileRejected(
                "no_snapshot_date",
                f"No snapshot date for {where}: no date column (Tanggal Data), no 'per <date>' "
                "line above the header, and no --as-of.",
            )
        values[snapshot["column"]] = pl.repeat(date, n, dtype=pl.Date, eager=True).alias(
            snapshot["column"])
        given[snapshot["column"]] = pl.repeat(True, n, dtype=pl.Boolean, eager=True)

    for column in contract.columns.values():
        if column.type == "regency":
            prov = values.get(column.province_column) if column.province_column else None
            regions = match_regions(values[column.name], prov)
            values["regency_code"] = regions["regency_code"]
            values["regency_match"] = regions["regency_match"]
            checks.append((column.name, regions["regency_reason"]))
            if column.province_column:
                values["province_code"] = regions["province_code"]
                checks.append((column.province_column, regions["province_reason"]))

    for column in contract.columns.values():
        for rule in (*column.rules, *(("range",) if column.range else ())):
            checks.append((column.name, _rule(rule, column, values, ctx)))
        if column.required:
            has_reason = _any_reason([r for c, r in checks if c == column.name], n)
            checks.append((column.name, _when(values[column.name].is_null() & ~has_reason,
                                              "missing_value")))
        if column.derive_when_empty:
            values[column.name] = _derive_code(column, values)

    reasons = _collect(checks, n)
    extra_cols = [
        (i, h) for i, (h, c) in enumerate(zip(sheet.headers, sheet.canonical, strict=True)) if not c
    ]
    frame = pl.DataFrame(values).select(
        [pl.col(name) for name, _ in contract.raw_columns() if name in values]
    )
    frame = frame.with_columns(
        pl.repeat(sheet.name, n, dtype=pl.String, eager=True).alias("_sheet"),
        sheet.cells["_row_number"].alias("_row_number"),
        _json_object([(clean(sheet.text(i)), h, False) for i, h in extra_cols], n)
        .alias("_extra"),
        reasons["codes"].alias("_reason_list"),
        reasons["columns"].alias("_reason_columns"),
        (pl.sum_horizontal(repaired) if repaired else pl.lit(0, pl.Int64))
        .cast(pl.Int64).alias("_repaired_ids"),
        *(series.alias(f"_given__{name}") for name, series in given.items()),
    )
    return _complete(frame, contract)


def _normalise(
    column: Column, text: pl.Series, kind: pl.Series, ctx: Context, repaired: list[pl.Series]
) -> tuple[pl.Series, pl.Series]:
    none = pl.repeat(None, len(text), dtype=pl.String, eager=True)
    if column.type in ("text", "regency", "province"):
        return text, none
    if column.type == "vocab":
        return map_vocab(text, column.value_lookup())
    if column.type == "integer":
        return parse_integer(text, kind, ordinal="ordinal" in column.accepts)
    if column.type == "number":
        return parse_number(text, kind)
    if column.type == "date":
        return parse_date(text, kind)
    if column.type == "id":
        assert column.identifier is not None
        value, reason, fixed = parse_id(text, kind, column.identifier, typeless=ctx.typeless)
        repaired.append(fixed.cast(pl.Int64))
        return value, reason
    raise AssertionError(column.type)


def _bound(value: object, ctx: Context) -> object:
    if value == "current_year":
        return ctx.today.year
    return value


def _rule(rule, column: Column, values: dict[str, pl.Series], ctx: Context) -> pl.Series:
    v = values[column.name]
    if rule == "range":
        lo, hi = (_bound(b, ctx) for b in column.range)
        below = v < lo if lo is not None else pl.repeat(False, len(v), eager=True)
        above = v > hi if hi is not None else pl.repeat(False, len(v), eager=True)
        return _when(below | above, "out_of_range")
    if rule == "not_future":
        return _when(v > ctx.today, "date_out_of_range")
    name, arg = next(iter(rule.items()))
    if name == "min":
        return _when(v < dt.date.fromisoformat(str(arg)), "date_out_of_range")
    if name == "not_before":
        return _when(v < values[arg], "date_out_of_range")
    if name == "not_before_july_of":
        july = pl.DataFrame({"y": values[arg]}).select(pl.date(pl.col("y"), 7, 1).alias("y"))["y"]
        return _when(v < july, "date_out_of_range")
    if name == "not_less_than":
        return _when(v < values[arg], "out_of_range")
    raise ValueError(f"contract rule {rule!r} of {column.name} is not known")


def _derive_code(column: Column, values: dict[str, pl.Series]) -> pl.Series:
    """`ev_` + sha256(folded title | ISO date | folded organizer)[:12] where the code is empty."""
    spec = column.derive_when_empty or {}
    parts = [values[p] for p in spec["hash_of"]]
    current = values[column.name]
    frame = pl.DataFrame({f"p{i}": p.cast(pl.String) for i, p in enumerate(parts)})
    distinct = frame.unique()
    digits = int(spec.get("hex_digits", 12))
    mapping = []
    for row in distinct.iter_rows():
        if any(p is None for p in row):
            mapping.append((*row, None))
            continue
        folded = [fold(p) if i != 1 else p for i, p in enumerate(row)]
        digest = hashlib.sha256("|".join(folded).encode("utf-8")).hexdigest()[:digits]
        mapping.append((*row, spec.get("prefix", "") + digest))
    table = pl.DataFrame(mapping, schema=[*frame.columns, "code"], orient="row")
    derived = frame.join(table, on=frame.columns, how="left", nulls_equal=True,
                         maintain_order="left")["code"]
    return pl.select(pl.coalesce(current, derived).alias(column.name))[column.name]


# ---------------------------------------------------------------------------------------------
# whole file


def _file_rules(rows: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    if rows.height == 0:
        return rows
    rows = rows.with_row_index("_i")
    extra: list[tuple[str, pl.Expr]] = []
    if contract.consistent_within:
        extra.append(_conflicting_event(rows, contract))
    extra += _duplicates(rows, contract)
    for column, reason in extra:
        rows = rows.with_columns(
            pl.when(reason.is_not_null())
            .then(pl.concat_list([pl.col("_reason_list"), pl.concat_list(reason)]))
            .otherwise(pl.col("_reason_list")).alias("_reason_list"),
            pl.when(reason.is_not_null())
            .then(pl.concat_list([pl.col("_reason_columns"), pl.concat_list(pl.lit(column))]))
            .otherwise(pl.col("_reason_columns")).alias("_reason_columns"),
        )
    return rows.drop("_i")


def _conflicting_event(rows: pl.DataFrame, contract: Contract) -> tuple[str, pl.Expr]:
    """Rows of one key whose valid values of the event columns disagree (SPEC 3.2): a value
    that carries a reason of its own (unreadable, out of range, unknown) is not compared."""
    spec = contract.consistent_within or {}
    key = spec["key"]
    compared = []
    for name in spec["columns"]:
        value = pl.col("regency_code" if name == "regency" else name)
        valid = ~pl.col("_reason_columns").list.contains(pl.lit(name))
        compared.append(pl.when(valid).then(value).drop_nulls().n_unique().over(key) > 1)
    disagree = pl.any_horizontal(compared)
    return key, pl.when(pl.col(key).is_not_null() & disagree).then(pl.lit(spec["reason"]))


def _key_parts(rows: pl.DataFrame, contract: Contract) -> tuple[list[pl.Expr], pl.Expr]:
    """Expressions forming the business key, and whether the key can be formed per row."""
    reason_cols = pl.col("_reason_columns")
    parts: list[pl.Expr] = []
    formed = pl.lit(True)

    derived_from = {c.code_column: c.name for c in contract.columns.values() if c.code_column}

    def usable(name: str) -> pl.Expr:
        column = contract.columns.get(derived_from.get(name, name))
        invalid = reason_cols.list.contains(pl.lit(column.name if column else name))
        if column is not None and column.required:
            return pl.col(name).is_not_null() & ~invalid
        return ~invalid

    for part in contract.business_key:
        if isinstance(part, dict):
            (preferred, fallback), = part.items()
            has = pl.col(preferred).is_not_null()
            parts.append(pl.when(has).then(pl.col(preferred).cast(pl.String)).otherwise(
                pl.concat_str([pl.col(f).cast(pl.String).fill_null("") for f in fallback],
                              separator="\x1f")))
            formed = formed & pl.when(has).then(usable(preferred)).otherwise(
                pl.all_horizontal([usable(f) for f in fallback]) & usable(preferred))
        else:
            parts.append(pl.col(part).cast(pl.String).fill_null(""))
            formed = formed & usable(part)
    return parts, formed


def business_key(rows: pl.DataFrame, contract: Contract) -> pl.Series:
    """Each row's business key as one string, null where it cannot be formed (SPEC 4)."""
    parts, formed = _key_parts(rows, contract)
    key = pl.concat_str(parts, separator="\x1e")
    return rows.select(pl.when(formed).then(key).alias("_business_key"))["_business_key"]


def _duplicates(rows: pl.DataFrame, contract: Contract) -> list[tuple[str, pl.Expr]]:
    """Rows whose business key occurs more than once: a later identical copy is a
    `duplicate_row`, copies that differ are each a `conflicting_duplicate`. The comparison
    runs over the repeated keys only (a few rows of a file), not the whole batch."""
    parts, formed = _key_parts(rows, contract)
    keyed = rows.select(
        pl.col("_i"), formed.alias("formed"), pl.concat_str(parts, separator="\x1e").alias("key"),
    ).filter(pl.col("formed") & pl.col("key").is_duplicated())
    if keyed.height == 0:
        return []
    compared = [c for c, _ in contract.raw_columns() if c in rows.columns] + ["_extra"]
    repeated = rows.join(keyed.select("_i", "key"), on="_i", how="semi").select(
        "_i", pl.struct(compared).hash().alias("same"))
    keyed = keyed.join(repeated, on="_i", maintain_order="left").with_columns(
        pl.col("same").n_unique().over("key").alias("versions"),
        pl.col("_i").rank("ordinal").over("key").alias("nth"),
    )
    flagged = keyed.select(
        "_i",
        pl.when(pl.col("versions") > 1).then(pl.lit("conflicting_duplicate"))
        .when(pl.col("nth") > 1).then(pl.lit("duplicate_row"))
        .alias("dup"),
    ).filter(pl.col("dup").is_not_null())
    if flagged.height == 0:
        return []
    lookup = dict(flagged.iter_rows())
    series = rows["_i"].replace_strict(lookup, default=None, return_dtype=pl.String)
    return [("_business_key", pl.lit(series))]


# ---------------------------------------------------------------------------------------------
# helpers


def _when(mask: pl.Series, code: str) -> pl.Series:
    return pl.select(pl.when(mask).then(pl.lit(code)).otherwise(None).alias("r"))["r"]


def _any_reason(reasons: list[pl.Series], n: int) -> pl.Series:
    if not reasons:
        return pl.repeat(False, n, eager=True)
    return pl.select(pl.any_horizontal([r.is_not_null() for r in reasons]).alias("a"))["a"]


def _collect(checks: list[tuple[str, pl.Series]], n: int) -> pl.DataFrame:
    """Per row: the list of reason codes and the list of columns that gave them.

    Lists are built only for the rows with a reason (a few percent of a file); every other
    row gets empty lists from one join, so the cost follows the invalid rows, not the file.
    """
    empty = pl.lit([], dtype=pl.List(pl.String))
    if not checks:
        return pl.DataFrame({"_i": pl.int_range(n, eager=True)}).select(
            empty.alias("codes"), empty.alias("columns"))
    frame = pl.DataFrame({f"r{i}": r.cast(pl.String) for i, (_, r) in enumerate(checks)})
    names = [f"r{i}" for i in range(len(checks))]
    flagged = frame.with_row_index("_i").filter(
        pl.any_horizontal([pl.col(c).is_not_null() for c in names]))
    lists = flagged.select(
        "_i",
        pl.concat_list([pl.col(c) for c in names]).list.drop_nulls().alias("codes"),
        pl.concat_list([
            pl.when(pl.col(f"r{i}").is_not_null()).then(pl.lit(col))
            for i, (col, _) in enumerate(checks)
        ]).list.drop_nulls().alias("columns"),
    )
    every = pl.DataFrame({"_i": pl.int_range(n, eager=True, dtype=pl.UInt32)})
    return every.join(lists, on="_i", how="left", maintain_order="left").select(
        pl.col("codes").fill_null(empty), pl.col("columns").fill_null(empty))


def _originals(sheet: SheetData, contract: Contract) -> Originals:
    """The sheet's own columns (its numbering column first), sharing the reader's buffers."""
    masked = {i for i, c in enumerate(sheet.canonical)
              if c and contract.columns[c].mask_in_quarantine}
    columns = [(sheet.text(i), h, i in masked) for i, h in enumerate(sheet.headers)]
    if sheet.numbering_header:
        columns.insert(0, (sheet.cells["_no"], sheet.numbering_header, False))
    texts = pl.DataFrame([sheet.cells["_row_number"]]
                         + [text.alias(f"o{j}") for j, (text, _, _) in enumerate(columns)])
    return Originals(fields=[(h, m) for _, h, m in columns], texts=texts)


def _json_object(fields: list[tuple[pl.Series, str, bool]], n: int) -> pl.Series:
    """A JSON object per row {header: text}, encoded by polars; null when there are no fields.

    Each field is (text, key, masked): a masked value keeps only its last four characters
    (NIK in quarantine, SPEC 3.1). A key written twice gets its position appended; NUL is
    dropped (PostgreSQL's jsonb refuses it), other control characters are escaped.
    """
    if not fields:
        return pl.repeat(None, n, dtype=pl.String, eager=True)
    columns: dict[str, pl.Series] = {}
    for j, (text, key, masked) in enumerate(fields):
        while key in columns:
            key = f"{key} ({j + 1})"
        text = text.str.replace_all("\x00", "", literal=True)
        if masked:
            hidden = (pl.col("t").str.len_chars().cast(pl.Int64) - 4).clip(0)
            stars = pl.lit("*").repeat_by(hidden)
            text = pl.DataFrame({"t": text}).select(
                pl.when(pl.col("t").is_null()).then(None)
                .otherwise(stars.list.join("") + pl.col("t").str.slice(-4)).alias("t"))["t"]
        columns[key] = text.alias(key)
    return pl.DataFrame(columns).select(pl.struct(pl.all()).struct.json_encode().alias("j"))["j"]


_POLARS_TYPES = {"text": pl.String, "integer": pl.Int64, "double precision": pl.Float64,
                 "date": pl.Date}


def _complete(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Every raw column present with its type, in contract order, then the batch columns."""
    pseudonyms = {c.pseudonym for c in contract.columns.values() if c.pseudonym}
    cols = []
    for name, pg_type in contract.raw_columns():
        if name in pseudonyms:  # the loader adds the keys: the secret stays out of rules
            continue
        if name in frame.columns:
            cols.append(pl.col(name).cast(_POLARS_TYPES[pg_type]))
        else:
            cols.append(pl.lit(None, _POLARS_TYPES[pg_type]).alias(name))
    batch_cols = ["_sheet", "_row_number", "_extra", "_reason_list",
                  "_reason_columns", "_repaired_ids"]
    given = [pl.col(f"_given__{c}") for c in contract.columns]
    return frame.select(cols + [pl.col(c) for c in batch_cols] + given)


def _empty_frame(contract: Contract) -> pl.DataFrame:
    pseudonyms = {c.pseudonym for c in contract.columns.values() if c.pseudonym}
    schema = {n: _POLARS_TYPES[t] for n, t in contract.raw_columns() if n not in pseudonyms}
    schema.update({"_sheet": pl.String, "_row_number": pl.Int64, "_extra": pl.String,
                   "_reason_list": pl.List(pl.String),
                   "_reason_columns": pl.List(pl.String), "_repaired_ids": pl.Int64})
    schema.update({f"_given__{c}": pl.Boolean for c in contract.columns})
    return pl.DataFrame(schema=schema)

