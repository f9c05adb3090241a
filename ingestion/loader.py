"""The loader: the only writer of raw.<source>, quarantine.<source> and audit.loads.

One file is one transaction (SPEC 4): under an advisory lock per (source, file hash) it checks
whether the same bytes were already loaded (a partial unique index on audit.loads enforces it
too), takes a load id from the warehouse sequence, COPYs the valid
rows into raw (with pseudonym keys computed here, so the secret never reaches the database's
SQL or dbt) and the others into quarantine with every reason, and writes the audit row last.
A crash anywhere before commit leaves nothing behind; a rerun loads the file once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from ingestion import faults, suites, validate, warehouse
from ingestion.cells import FileRejected
from ingestion.contracts import Contract, load_contract
from ingestion.errors import UsageError, WarehouseUnavailable
from ingestion.pseudonym import pseudonym_key, pseudonymise
from ingestion.reader import read_file
from ingestion.rules import Batch, Context, apply_contract
from ingestion.settings import Settings, settings

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")


@dataclass
class LoadResult:
    """What became of one file: the JSON line of `lumbung ingest --json` (SPEC 7)."""

    file: str
    source: str
    sha256: str
    load_id: int | None
    status: str                    # loaded | rejected | duplicate
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)
    validation: dict | None = None
    error: str | None = None
    sheets: dict[str, list[str]] = field(default_factory=lambda: {"read": [], "skipped": []})
    duplicate_of: int | None = None
    elapsed_s: float = 0.0
    headers: dict[str, list[str]] = field(default_factory=dict)  # kept in audit.loads only

    def as_json(self) -> dict:
        out = asdict(self)
        out["elapsed_s"] = round(self.elapsed_s, 3)
        del out["headers"]
        return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(
    path: Path,
    source: str,
    *,
    as_of: dt.date | None = None,
    replaces: int | None = None,
    cfg: Settings | None = None,
    today: dt.date | None = None,
) -> LoadResult:
    """Read, normalise and load one file; the same function the CLI and the DAGs call."""
    cfg = cfg or settings()
    contract = load_contract(source)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    validate.warm_up()  # GX imports on a thread while the file is read
    if not path.is_file():
        raise UsageError(f"{path} does not exist or is not a file.")
    digest = sha256_of(path)
    result = LoadResult(file=str(path), source=source, sha256=digest, load_id=None,
                        status="loaded")
    key = pseudonym_key(cfg) if _needs_key(contract) else b""

    with warehouse.connect(cfg) as conn:
        if replaces is not None:
            _check_replaceable(conn, replaces, source)
        earlier = _loaded_before(conn, source, digest)
        batch: Batch | None = None
        rejection: FileRejected | None = None
        outcome: validate.ValidationOutcome | None = None
        today = today or _today()
        if earlier is None:
            try:
                batch = _read_batch(path, contract, cfg, as_of, today)
            except FileRejected as err:
                rejection = err
        try:
            with conn.transaction():
                _least_privilege(conn)
                # the same bytes: one load at a time, the other finds them loaded; different
                # files of a source load side by side
                conn.execute("select pg_advisory_xact_lock(hashtext(%s))",
                             (load_lock_name(source, digest),))
                if replaces is not None:  # two files replacing one load: one after the other
                    conn.execute("select pg_advisory_xact_lock(hashtext(%s))",
                                 (f"lumbung.replace.{replaces}",))
                    _check_replaceable(conn, replaces, source)
                earlier = _loaded_before(conn, source, digest)
                load_id = conn.execute("select nextval('audit.load_id_seq')").fetchone()[0]
                result.load_id = load_id
                if earlier is not None:
                    result.status, result.duplicate_of = "duplicate", earlier
                elif rejection is not None:
                    result.status = "rejected"
                    result.reasons = {rejection.code: 1}
                    result.error = rejection.message
                else:
                    assert batch is not None
                    outcome = _validate_while_writing(conn, batch, contract, result, path,
                                                      digest, key, cfg, today)
                result.elapsed_s = time.perf_counter() - clock
                _write_audit(conn, result, contract, path, started, replaces, as_of, cfg)
                if outcome is not None:
                    _write_validation(conn, load_id, outcome)
                faults.pause_point("before_commit")
        except psycopg.OperationalError as err:
            raise WarehouseUnavailable(
                f"The warehouse was lost while loading {path.name}: "
                f"{str(err).strip().splitlines()[0] if str(err).strip() else 'connection closed'}"
            ) from None
    return result


def _least_privilege(conn: psycopg.Connection) -> None:
    """Write as `lumbung_loader` when we may: the grants of SPEC 6 are then what loads use."""
    member = conn.execute(
        "select exists (select from pg_roles where rolname = 'lumbung_loader') "
        "and pg_has_role(current_user, 'lumbung_loader', 'MEMBER')"
    ).fetchone()[0]
    if member:
        conn.execute("set local role lumbung_loader")


def _needs_key(contract: Contract) -> bool:
    return any(c.pseudonym for c in contract.columns.values())


def _today() -> dt.date:
    return dt.datetime.now(WIB).date()


def _read_batch(path: Path, contract: Contract, cfg: Settings, as_of: dt.date | None,
                today: dt.date) -> Batch:
    snapshot = contract.snapshot or {}
    read = read_file(
        path, contract, max_file_mb=cfg.max_file_mb, max_rows=cfg.max_rows,
        optional_required=[snapshot["column"]] if snapshot else (),
    )
    faults.pause_point("reading")
    ctx = Context(today=today, as_of=as_of, typeless=read.file_format == "csv")
    return apply_contract(read, contract, ctx)


def _loaded_before(conn: psycopg.Connection, source: str, digest: str) -> int | None:
    row = conn.execute(
        "select load_id from audit.loads where source = %s and sha256 = %s and status = 'loaded'",
        (source, digest),
    ).fetchone()
    return row[0] if row else None


def load_lock_name(source: str, digest: str) -> str:
    """The advisory lock (hashtext of this name) a load of these bytes holds until it commits."""
    return f"lumbung.load.{source}.{digest}"


def _check_replaceable(conn: psycopg.Connection, load_id: int, source: str) -> None:
    row = conn.execute(
        "select source, status, voided_at, replaced_by from audit.loads where load_id = %s",
        (load_id,),
    ).fetchone()
    if row is None:
        raise UsageError(f"There is no load {load_id} to replace.")
    if row[0] != source:
        raise UsageError(f"Load {load_id} is a {row[0]} load, not {source}.")
    if row[1] != "loaded":
        raise UsageError(f"Load {load_id} was {row[1]}, so it has no rows to replace.")
    if row[2] is not None or row[3] is not None:
        raise UsageError(f"Load {load_id} was already voided or replaced.")


# ---------------------------------------------------------------------------------------------
# writing


def _validate_while_writing(conn, batch: Batch, contract: Contract, result: LoadResult,
                            path: Path, digest: str, key: bytes, cfg: Settings,
                            today: dt.date) -> validate.ValidationOutcome:
    """GX validates the batch (Python, one core) while its rows stream into the warehouse
    (PostgreSQL parses them on the other). What is written follows the normalisers' share of
    invalid rows; GX must come to the same verdict, or the load's transaction rolls back. The
    connection is the writer's alone until it is done; validation never touches it."""
    share = suites.invalid_share(batch.rows)
    rejected = share if share > cfg.max_invalid_share else None
    with ThreadPoolExecutor(1, thread_name_prefix="copy") as pool:
        writing = pool.submit(_write_batch, conn, batch, contract, result, path, digest, key,
                              cfg, invalid_share=rejected)
        # should validation raise, leaving the `with` waits for the writer first
        outcome = validate.validate_batch(
            batch, contract, home=cfg.home, load_id=result.load_id, today=today,
            max_invalid_share=cfg.max_invalid_share, rows_read=batch.rows_as_read)
        writing.result()
    result.validation = outcome.as_json()
    if (outcome.rejects("too_many_invalid_rows") is None) != (rejected is None):
        raise validate.CrossCheckFailed(
            f"Validation cross-check failed for {contract.source}: Great Expectations and "
            f"the normalisers disagree whether {share:.1%} invalid rows is over the "
            f"{cfg.max_invalid_share:.0%} allowed; nothing was loaded. This is a bug in Lumbung.")
    return outcome


def _write_batch(conn, batch: Batch, contract: Contract, result: LoadResult, path: Path,
                 digest: str, key: bytes, cfg: Settings, *,
                 invalid_share: float | None) -> None:
    """Valid rows to raw, the others to quarantine; or, when validation found too large a share
    of invalid rows (INVALID_SHARE), every row to quarantine (the valid ones as
    `file_rejected`)."""
    rows = batch.rows
    invalid = batch.invalid_mask()
    result.rows_read = batch.rows_read
    result.rows_skipped = batch.rows_skipped
    result.sheets = {"read": batch.sheets_read, "skipped": batch.sheets_skipped}
    result.headers = batch.headers
    if invalid_share is not None:
        result.status = "rejected"
        result.error = (
            f"{invalid_share:.0%} of the data rows of {path.name} are invalid, more than the "
            f"{cfg.max_invalid_share:.0%} allowed (LUMBUNG_MAX_INVALID_SHARE); every row is "
            "held in quarantine with its reasons."
        )
        valid = pl.col("_reasons").list.len() == 0
        held = rows.with_columns(
            pl.when(valid).then(pl.lit(["file_rejected"])).otherwise(pl.col("_reasons"))
            .alias("_reasons"),
            pl.when(valid).then(pl.lit(["file_rejected"])).otherwise(pl.col("_reason_codes"))
            .alias("_reason_codes"),
            pl.when(valid).then(pl.lit([None], dtype=pl.List(pl.String)))
            .otherwise(pl.col("_reason_columns")).alias("_reason_columns"),
        )
        result.rows_quarantined = _copy_quarantine(conn, contract, batch, held, result, path,
                                                   digest)
        result.reasons = {"too_many_invalid_rows": 1, **batch.reason_counts(), "file_rejected":
                          int((~invalid).sum())}
        if result.reasons["file_rejected"] == 0:
            del result.reasons["file_rejected"]
        return
    result.rows_loaded = _copy_raw(conn, contract, rows, ~invalid, result, path, digest, key)
    result.rows_quarantined = _copy_quarantine(conn, contract, batch, rows.filter(invalid),
                                               result, path, digest)
    result.reasons = batch.reason_counts()
    fuzzy = pl.col("regency_match") == "fuzzy" if "regency_match" in rows.columns else pl.lit(False)
    repaired, fuzzy_count = rows.select(
        pl.col("_repaired_ids").filter(~invalid).sum(), fuzzy.filter(~invalid).sum()).row(0)
    repairs = {"repaired_id": int(repaired or 0), "fuzzy_regency": int(fuzzy_count or 0)}
    result.repairs = {k: v for k, v in repairs.items() if v}


def _lineage(result: LoadResult, path: Path, digest: str) -> list[pl.Expr]:
    return [pl.lit(result.load_id, pl.Int64).alias("_load_id"),
            pl.lit(path.name).alias("_source_file"), pl.lit(digest).alias("_file_sha256")]


def _copy_raw(conn, contract: Contract, rows: pl.DataFrame, valid: pl.Series,
              result: LoadResult, path: Path, digest: str, key: bytes) -> int:
    """The VALID rows of ROWS to raw, with their pseudonym keys and lineage."""
    loaded = int(valid.sum())
    if loaded == 0:
        return 0
    keys = {}
    for column in contract.columns.values():
        if column.pseudonym:
            keys[column.pseudonym] = pseudonymise(rows[column.name], key)
    columns = [name for name, _ in contract.raw_columns()] + [
        "_extra", "_load_id", "_source_file", "_sheet", "_row_number", "_file_sha256"]
    _copy(conn, sql.Identifier("raw", contract.source), rows.with_columns(**keys), columns,
          keep=valid, lineage=_lineage(result, path, digest))
    return loaded


def _copy_quarantine(conn, contract: Contract, batch: Batch, bad: pl.DataFrame,
                     result: LoadResult, path: Path, digest: str) -> int:
    if bad.height == 0:
        return 0
    frame = bad.with_columns(_reason_details(bad), batch.cells_json(bad),
                             _pg_array(pl.col("_reasons")).alias("reasons"))
    columns = ["_cells", "reasons", "reason_details", "_load_id", "_source_file", "_sheet",
               "_row_number", "_file_sha256"]
    _copy(conn, sql.Identifier("quarantine", contract.source), frame, columns,
          lineage=_lineage(result, path, digest), names={"_cells": "cells"})
    return bad.height


def _reason_details(frame: pl.DataFrame) -> pl.Series:
    """[{"code": .., "column": ..}, ...] per row: which column gave which reason (JSON)."""
    pairs = frame.select(
        pl.int_range(pl.len()).alias("_r"),
        pl.col("_reason_codes").alias("code"), pl.col("_reason_columns").alias("column"),
    ).explode(["code", "column"], empty_as_null=True)
    encoded = pairs.group_by("_r", maintain_order=True).agg(
        pl.struct("code", "column").struct.json_encode().str.join(",").alias("j"))
    return ("[" + encoded.sort("_r")["j"] + "]").alias("reason_details")


def _pg_array(expr: pl.Expr) -> pl.Expr:
    """A PostgreSQL array literal of simple codes: {a,b} (nulls as NULL)."""
    return pl.lit("{") + expr.list.eval(pl.element().fill_null("NULL")).list.join(",") + pl.lit(
        "}")


COPY_ROWS = 100_000


def _copy(conn, table: sql.Composable, frame: pl.DataFrame, columns: list[str], *,
          keep: pl.Series | None = None, lineage: Sequence[pl.Expr] = (),
          names: dict[str, str] | None = None) -> None:
    """COPY COLUMNS of FRAME's rows (those where KEEP is true) in CSV form: polars writes it,
    PostgreSQL parses it; no row loop here. It goes in slices of COPY_ROWS rows, each filtered
    and given its lineage on its own, so no second copy of a million-row batch is made.
    NAMES renames a frame column to its table column."""
    targets = [(names or {}).get(c, c) for c in columns]
    statement = sql.SQL("copy {} ({}) from stdin with (format csv, null '\\N')").format(
        table, sql.SQL(", ").join(sql.Identifier(c) for c in targets))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, frame.height, COPY_ROWS):
            part = frame.slice(start, COPY_ROWS)
            if keep is not None:
                part = part.filter(keep.slice(start, COPY_ROWS))
            buffer = io.BytesIO()
            part.with_columns(*lineage).select(columns).write_csv(
                buffer, include_header=False, null_value="\\N", date_format="%Y-%m-%d",
                quote_style="necessary")
            copy.write(buffer.getbuffer())
            faults.pause_point("copy")


def _write_validation(conn, load_id: int, outcome: validate.ValidationOutcome) -> None:
    conn.execute(
        """
        insert into audit.validation_results (kind, load_id, suite_name, success, statistics,
            expectations, cross_check, data_docs_path, elapsed_s)
        values ('load', %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (load_id, outcome.suite_name, outcome.success,
         json.dumps(outcome.statistics, allow_nan=False),
         json.dumps(validate.stored_expectations(outcome.expectations), default=str,
                    allow_nan=False),
         json.dumps(outcome.cross_check, allow_nan=False), outcome.report, outcome.elapsed_s),
    )


def _write_audit(conn, result: LoadResult, contract: Contract, path: Path,
                 started: dt.datetime, replaces: int | None, as_of: dt.date | None,
                 cfg: Settings) -> None:
    conn.execute(
        """
        insert into audit.loads (
            load_id, source, file_name, file_path, sha256, status, rows_read, rows_loaded,
            rows_quarantined, rows_skipped, reasons, repairs, sheets_read, sheets_skipped,
            contract_version, duplicate_of, replaces, loaded_by, as_of, started_at,
            finished_at, error, headers)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                %s, clock_timestamp(), %s, %s)
        """,
        (
            result.load_id, contract.source, path.name, str(path.resolve()), result.sha256,
            result.status, result.rows_read, result.rows_loaded, result.rows_quarantined,
            result.rows_skipped, json.dumps(result.reasons), json.dumps(result.repairs),
            json.dumps(result.sheets["read"]), json.dumps(result.sheets["skipped"]),
            contract.version, result.duplicate_of,
            replaces if result.status == "loaded" else None, cfg.user, as_of, started,
            result.error, json.dumps(result.headers, ensure_ascii=False),
        ),
    )
    if replaces is not None and result.status == "loaded":
        conn.execute("update audit.loads set replaced_by = %s where load_id = %s",
                     (result.load_id, replaces))


def void_load(load_id: int, why: str, cfg: Settings | None = None) -> tuple[str, str, int]:
    """Withdraw a load (SPEC 4): its rows stop counting downstream; nothing is deleted and no
    file moves. Returns (source, file name, rows withdrawn)."""
    cfg = cfg or settings()
    if not why.strip():
        raise UsageError("Say why the load is voided: --why TEXT.")
    with warehouse.connect(cfg) as conn:
        row = conn.execute(
            "select source, file_name, status, voided_at, replaced_by, rows_loaded "
            "from audit.loads where load_id = %s for update", (load_id,)).fetchone()
        if row is None:
            raise UsageError(f"There is no load {load_id}.")
        source, file_name, status, voided_at, replaced_by, rows = row
        if status != "loaded":
            raise UsageError(f"Load {load_id} was {status}: it has no rows to void.")
        if voided_at is not None:
            raise UsageError(f"Load {load_id} was already voided on {voided_at:%Y-%m-%d %H:%M}.")
        if replaced_by is not None:
            raise UsageError(f"Load {load_id} was already replaced by load {replaced_by}.")
        conn.execute(
            "update audit.loads set voided_at = now(), voided_by = %s, void_reason = %s "
            "where load_id = %s", (cfg.user, why.strip(), load_id))
    return source, file_name, rows
