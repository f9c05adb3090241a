"""Great Expectations on every load (SPEC 5): the suite from the contract, run on the batch.

The GX Data Context's configuration is committed under `expectations/`; every store it writes
(suites, results, Data Docs; the checkpoint and validation-definition stores are configured but
unused) points at `${LUMBUNG_GX_HOME}`, which is `LUMBUNG_HOME/gx`, so no run writes into the
repository. GX is slow to import (about 5 s): it is imported once per process, on a background
thread as soon as an ingest starts, so the import overlaps with reading the file; one context
per process.

`validate_batch` returns plain data: GX's verdict per expectation, the cross-check (row-level
expectations must find unexpected exactly the rows the normalisers flagged, column by column),
and the path of the load's Data Docs page.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingestion import memory
from ingestion.contracts import Contract
from ingestion.errors import LumbungError
from ingestion.rules import Batch, business_key
from ingestion.suites import ROW_ID, ExpectationSpec, flagged_rows, suite_spec, validation_frame

GX_PROJECT = Path(__file__).resolve().parent.parent / "expectations"
DATASOURCE = "lumbung"
INDEX_COLUMNS = ["_sheet", "_row_number"]  # what names a row of a load beside its position
_SAMPLE_ROWS = 20

_import_lock = threading.Lock()
_warming = threading.Event()  # warm_up has started the background import
_contexts: dict[str, Any] = {}


class CrossCheckFailed(LumbungError):
    """GX and the normalisers disagree about which rows are invalid: a bug, never the file's."""

    exit_code = 1


@dataclass
class ExpectationOutcome:
    type: str
    kwargs: dict[str, Any]
    column: str | None
    success: bool
    decides: str | None = None
    unexpected_count: int | None = None
    observed_value: Any = None
    unexpected_ids: list[int] = field(default_factory=list)    # every unexpected row's position
    unexpected_rows: list[dict] = field(default_factory=list)  # the first rows: sheet, row


@dataclass
class ValidationOutcome:
    suite_name: str
    success: bool
    statistics: dict[str, Any]
    expectations: list[ExpectationOutcome]
    cross_check: dict[str, Any]
    report: str | None
    elapsed_s: float

    def rejects(self, decides: str) -> float | None:
        """The observed value of the failed expectation that decides DECIDES, else None."""
        for e in self.expectations:
            if e.decides == decides and not e.success:
                return float(e.observed_value)
        return None

    def as_json(self) -> dict:
        return {"success": self.success, "report": self.report}


# ---------------------------------------------------------------------------------------------
# the context, once per process


def warm_up() -> None:
    """Start importing GX in the background (once); the first use waits for it."""
    with _import_lock:
        if "gx" in _contexts or _warming.is_set():
            return
        _warming.set()
    threading.Thread(target=import_gx, daemon=True, name="gx-import").start()


def import_gx():
    """Great Expectations, imported once per process (~5 s) and kept."""
    with _import_lock:
        if "gx" not in _contexts:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # offline: never phone home
            os.environ.setdefault("DO_NOT_TRACK", "1")
            import great_expectations as gx
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every pandas batch under 1 GB by hashing all its cells (1.5 s
            # and ~200 MB at a million rows), only to put the digest in the result's batch
            # markers; a load is named by its load id and the file's sha256 instead
            pandas_execution_engine.HASH_THRESHOLD = 0
            _contexts["gx"] = gx
    return _contexts["gx"]


def _store(path: str) -> dict:
    return {"class_name": "TupleFilesystemStoreBackend",
            "base_directory": "${LUMBUNG_GX_HOME}/" + path}


STORES = {
    "expectations_store": {"class_name": "ExpectationsStore", "store_backend": _store("suites/")},
    "validation_results_store": {"class_name": "ValidationResultsStore",
                                 "store_backend": _store("validations/")},
    "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": _store("checkpoints/")},
    "validation_definition_store": {"class_name": "ValidationDefinitionStore",
                                    "store_backend": _store("validation_definitions/")},
}
DOCS_SITE = {
    "class_name": "SiteBuilder", "show_how_to_buttons": False,
    "store_backend": _store("data_docs/"),
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
}


def gx_home(home: Path) -> Path:
    """Where GX writes under LUMBUNG_HOME: stores, results, Data Docs."""
    return home / "gx"


def data_docs_index(home: Path) -> Path:
    return gx_home(home) / "data_docs" / "index.html"


def context(home: Path):
    """The file context rooted at `expectations/`, its outputs under HOME/gx (cached)."""
    key = str(home)
    if key in _contexts:
        return _contexts[key]
    gx = import_gx()
    runtime = {"LUMBUNG_GX_HOME": str(gx_home(home))}
    with store_lock(home):
        ctx = gx.get_context(mode="file", project_root_dir=str(GX_PROJECT),
                             runtime_environment=runtime)
        if _configure(ctx):  # only when the committed configuration is not already right
            ctx = gx.get_context(mode="file", project_root_dir=str(GX_PROJECT),
                                 runtime_environment=runtime)
    _contexts[key] = ctx
    return ctx


def _configure(ctx) -> bool:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    cfg = ctx.config
    progress = cfg.progress_bars
    quiet = (progress.get("globally") if isinstance(progress, dict)
             else getattr(progress, "globally", None)) is False
    stores_right = all(cfg.stores.get(name) == spec for name, spec in STORES.items())
    if stores_right and cfg.data_docs_sites == {"local_site": DOCS_SITE} and quiet:
        return False
    for name, spec in STORES.items():
        cfg.stores[name] = spec
    cfg.progress_bars = ProgressBarsConfig(globally=False)
    ctx.update_data_docs_site("local_site", DOCS_SITE)  # saves the whole configuration
    return True


def _batch_definition(ctx, asset_name: str):
    try:
        source = ctx.data_sources.get(DATASOURCE)
    except KeyError:
        source = ctx.data_sources.add_pandas(name=DATASOURCE)
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(name=asset_name)
    try:
        return asset.get_batch_definition("whole_batch")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole_batch")


# ---------------------------------------------------------------------------------------------
# running a suite


@dataclass
class SuiteRun:
    """One suite run on one frame, as plain data."""

    success: bool
    statistics: dict[str, Any]
    expectations: list[ExpectationOutcome]
    page: str | None          # the run's Data Docs page
    elapsed_s: float          # GX's validation itself
    rendered: list = field(default_factory=list)  # what build_docs still has to render


def run_suite(home: Path, asset_name: str, specs: list[ExpectationSpec], suite_name: str,
              frame: pl.DataFrame, run_name: str, index_columns: list[str],
              mostly: float | None = None, render: bool = True) -> SuiteRun:
    """Run SPECS on FRAME with GX; store the result and render its Data Docs page (RENDER
    False: leave the page to one `build_docs` call for several runs; each build rewrites the
    site's index from every stored result).

    GX names each unexpected row by the frame's own position (its default index), which it
    collects in one vectorised step; INDEX_COLUMNS of the first rows are looked up here. The
    stored result (and its page) keeps the first rows of each list, as GX's SUMMARY format
    does, while the cross-check gets every row: storing a million-row batch's complete lists
    cost more than validating it.
    """
    import time

    gx = import_gx()
    ctx = context(home)
    expectations = [_expectation(gx, i, spec, mostly) for i, spec in enumerate(specs)]
    with store_lock(home):
        suite = ctx.suites.add_or_update(gx.ExpectationSuite(name=suite_name,
                                                             expectations=expectations))
        definition = _batch_definition(ctx, asset_name)
    # GX's own path of ValidationDefinition.run, without its storing the complete result
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(
        batch_definition=definition,
        batch_parameters={"dataframe": _pandas(frame.select(_referenced(specs, frame)))},
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False})
    started = time.perf_counter()
    try:
        result = validator.validate_expectation_suite(suite)
    finally:  # the engine would keep the batch (a pandas copy of the frame) until the next one
        definition.data_asset.datasource.get_execution_engine().batch_manager.reset_batch_cache()
        memory.release()
    elapsed = time.perf_counter() - started
    run = SuiteRun(success=bool(result.success), statistics=plain(dict(result.statistics)),
                   expectations=outcomes(result, specs, frame, index_columns),
                   page=None, elapsed_s=elapsed)
    with store_lock(home):
        run.page, run.rendered = _store(ctx, result, result.batch_id, suite_name, run_name)
    if render:
        build_docs(home, [run])
    return run


def build_docs(home: Path, runs: list[SuiteRun]) -> None:
    """Render the Data Docs pages of RUNS, and the site's index, in one build."""
    identifiers = [each for run in runs for each in run.rendered]
    if identifiers:
        with store_lock(home):
            context(home).build_data_docs(resource_identifiers=identifiers)
    for run in runs:
        run.rendered = []


@contextmanager
def store_lock(home: Path):
    """GX's stores and Data Docs are files under HOME/gx, rewritten whole on each write: loads
    in several processes take turns on them (one process read another's half-written suite)."""
    folder = gx_home(home)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _referenced(specs: list[ExpectationSpec], frame: pl.DataFrame) -> list[str]:
    """The frame's columns some expectation names (column, column_A/B, column_list, a row
    condition); a name that only happens to be a value as well costs a column, no more."""
    named = {spec.condition for spec in specs}
    for spec in specs:
        for value in spec.kwargs.values():
            values = value if isinstance(value, list | tuple) else [value]
            named.update(v for v in values if isinstance(v, str))
    # with none, one column still carries the row count
    return [c for c in frame.columns if c in named] or frame.columns[:1]


def _pandas(frame: pl.DataFrame):
    """FRAME for GX's pandas engine, rows named by their position (GX's default index):
    dates as datetime64[ns], which GX compares vectorised (any other resolution sends
    ExpectColumnValuesToBeBetween through a Python function per row)."""
    moments = [c for c, t in frame.schema.items() if t in (pl.Date, pl.Datetime)]
    texts = [c for c, t in frame.schema.items() if t == pl.String]
    distinct = frame.select(pl.col(texts).n_unique()).row(0) if texts else ()
    repeated = [c for c, n in zip(texts, distinct, strict=True) if n * 10 <= frame.height]
    return frame.with_columns(pl.col(moments).cast(pl.Datetime("ns")),
                              pl.col(repeated).cast(pl.Categorical)).to_pandas()


def _store(ctx, result, batch_id: str, suite_name: str, run_name: str) -> tuple[str | None,
                                                                             list]:
    """Store RESULT (lists cut to their first rows): its Data Docs page's path, and the
    identifiers `build_docs` renders it from."""
    import datetime as _dt

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(run_name=run_name, run_time=_dt.datetime.now(_dt.UTC))
    result.meta["run_id"] = run_id
    result.meta["validation_time"] = run_id.run_time
    for each in result.results:
        detail = each.result or {}
        for name in ("unexpected_list", "unexpected_index_list"):
            if isinstance(detail.get(name), list):
                detail[name] = detail[name][:_SAMPLE_ROWS]
    suite_id = ExpectationSuiteIdentifier(name=suite_name)
    identifier = ValidationResultIdentifier(expectation_suite_identifier=suite_id,
                                            run_id=run_id, batch_identifier=batch_id)
    ctx.validation_results_store.set(identifier, result)
    urls = ctx.get_docs_sites_urls(resource_identifier=identifier, only_if_exists=False)
    return (urls[0]["site_url"].removeprefix("file://") if urls and urls[0]["site_url"] else None,
            [identifier, suite_id])


def _expectation(gx, index: int, spec: ExpectationSpec, mostly: float | None):
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(spec.kwargs)
    if spec.condition:
        kwargs["row_condition"] = Column(spec.condition) == True  # noqa: E712 (a GX condition)
    if spec.level == "row" and mostly is not None:
        kwargs["mostly"] = mostly
    # GX does not keep the suite's order in its results: each result names its spec
    kwargs["meta"] = {"spec": index, "column": spec.column, "notes": spec.notes}
    return getattr(gx.expectations, spec.type)(**kwargs)


def outcomes(suite_result, specs: list[ExpectationSpec], frame: pl.DataFrame,
             index_columns: list[str] = INDEX_COLUMNS) -> list[ExpectationOutcome]:
    """GX's results as plain data, in spec order: every unexpected row's position, and the
    first rows named by INDEX_COLUMNS of FRAME."""
    by_spec = {int(r.expectation_config.meta["spec"]): r for r in suite_result.results}
    if sorted(by_spec) != list(range(len(specs))):
        raise LumbungError(f"Great Expectations returned {len(by_spec)} results for "
                           f"{len(specs)} expectations.")
    named = [c for c in index_columns if c in frame.columns]
    out = []
    for i, spec in enumerate(specs):
        result = by_spec[i]
        detail = result.result or {}
        ids = [int(x) for x in detail.get("unexpected_index_list") or []]
        first = frame[ids[:_SAMPLE_ROWS]].select(named).to_dicts() if ids else []
        out.append(ExpectationOutcome(
            type=spec.type, kwargs=plain(spec.kwargs), column=spec.column,
            success=bool(result.success), decides=spec.decides,
            unexpected_count=detail.get("unexpected_count"),
            observed_value=plain(detail.get("observed_value")),
            unexpected_ids=ids,
            unexpected_rows=[{ROW_ID: row_id, **plain(r)}
                             for row_id, r in zip(ids, first, strict=False)],
        ))
    return out


def plain(value: Any) -> Any:
    """Numpy and date values -> JSON-safe Python."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN: pandas' empty cell, JSON's null
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# a load


def validate_batch(batch: Batch, contract: Contract, *, home: Path, load_id: int,
                   today: dt.date, max_invalid_share: float,
                   rows_read: int) -> ValidationOutcome:
    """Validate a batch as read; raise CrossCheckFailed if GX and the normalisers disagree."""
    spec = suite_spec(contract, today=today, rows_read=rows_read,
                      max_invalid_share=max_invalid_share)
    frame = validation_frame(batch.rows, contract, business_key(batch.rows, contract))
    run = run_suite(home, contract.source, spec.expectations, spec.name, frame,
                    run_name=f"load-{load_id}", index_columns=INDEX_COLUMNS,
                    mostly=1.0 - max_invalid_share)
    check = cross_check(run.expectations, flagged_rows(batch.rows), frame["_row_number"])
    outcome = ValidationOutcome(
        suite_name=spec.name, success=run.success, statistics=run.statistics,
        expectations=run.expectations, cross_check=check, report=run.page,
        elapsed_s=run.elapsed_s)
    if not check["success"]:
        first = check["mismatches"][0]
        raise CrossCheckFailed(
            f"Validation cross-check failed for {contract.source}: for column "
            f"{first['column']}, Great Expectations and the normalisers disagree about "
            f"{first['only_gx'] + first['only_normalisers']} rows (e.g. spreadsheet rows "
            f"{first['example_rows']}); nothing was loaded. This is a bug in Lumbung."
        )
    return outcome


def cross_check(results: list[ExpectationOutcome], flagged: dict[str, set[int]],
                row_numbers: pl.Series) -> dict:
    """Per column: rows GX found unexpected == rows the normalisers gave a reason."""
    by_gx: dict[str, set[int]] = {}
    for result in results:
        if result.column is not None:
            by_gx.setdefault(result.column, set()).update(result.unexpected_ids)
    mismatches = []
    for column in sorted(set(by_gx) | set(flagged)):
        gx_rows, ours = by_gx.get(column, set()), flagged.get(column, set())
        if gx_rows != ours:
            differing = sorted(gx_rows ^ ours)
            mismatches.append({
                "column": column, "only_gx": len(gx_rows - ours),
                "only_normalisers": len(ours - gx_rows),
                "example_rows": row_numbers.gather(differing[:5]).to_list(),
                "row_ids": differing[:_SAMPLE_ROWS],
            })
    checked = sum(len(v) for v in by_gx.values())
    return {"success": not mismatches, "columns": len(by_gx), "flagged_cells": checked,
            "mismatches": mismatches}


STORED_ROW_KEYS = {"_sheet": "sheet", "_row_number": "row_number", "_row": "row"}


def stored_expectations(expectations: list[ExpectationOutcome]) -> list[dict]:
    """What audit.validation_results keeps per expectation: the verdict and the first
    unexpected rows, named by sheet and spreadsheet row (loads) or frame row (marts)."""
    return [{
        "type": e.type, "kwargs": e.kwargs, "column": e.column, "success": e.success,
        "decides": e.decides, "unexpected_count": e.unexpected_count,
        "observed_value": e.observed_value,
        "unexpected_rows": [{name: r.get(key) for key, name in STORED_ROW_KEYS.items()
                             if key in r} for r in e.unexpected_rows[:_SAMPLE_ROWS]],
    } for e in expectations]
