"""Great Expectations on every load (SPEC 5): the suite from the contract, run on the batch.

The GX Data Context's configuration is committed under `expectations/`; every store it writes
(suites, validation definitions, checkpoints, results, Data Docs) points at
`${LUMBUNG_GX_HOME}`, which is `LUMBUNG_HOME/gx`, so no run writes into the repository. GX is
slow to import (about 5 s): it is imported once per process, on a background thread as soon as
an ingest starts, so the import overlaps with reading the file; one context per process.

`validate_batch` returns plain data: GX's verdict per expectation, the cross-check (row-level
expectations must find unexpected exactly the rows the normalisers flagged, column by column),
and the path of the load's Data Docs page.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.contracts import Contract
from ingestion.errors import LumbungError
from ingestion.rules import Batch, business_key
from ingestion.suites import ROW_ID, ExpectationSpec, flagged_rows, suite_spec, validation_frame

GX_PROJECT = Path(__file__).resolve().parent.parent / "expectations"
DATASOURCE = "lumbung"
INDEX_COLUMNS = [ROW_ID, "_sheet", "_row_number"]
_SAMPLE_ROWS = 20

_import_lock = threading.Lock()
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
    """Start importing GX in the background (idempotent); the first use waits for it."""
    if "gx" not in _contexts:
        threading.Thread(target=import_gx, daemon=True, name="gx-import").start()


def import_gx():
    """Great Expectations, imported once per process (~5 s) and kept."""
    with _import_lock:
        if "gx" not in _contexts:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # offline: never phone home
            os.environ.setdefault("DO_NOT_TRACK", "1")
            import great_expectations as gx

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


def run_suite(home: Path, asset_name: str, specs: list[ExpectationSpec], suite_name: str,
              frame: pl.DataFrame, run_name: str, index_columns: list[str],
              mostly: float | None = None) -> tuple[Any, str | None, float]:
    """Run SPECS on FRAME as one checkpoint; return (suite result, Data Docs page, seconds)."""
    import time

    gx = import_gx()
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    ctx = context(home)
    expectations = [_expectation(gx, i, spec, mostly) for i, spec in enumerate(specs)]
    suite = ctx.suites.add_or_update(gx.ExpectationSuite(name=suite_name,
                                                         expectations=expectations))
    definition = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(
        name=suite_name, data=_batch_definition(ctx, asset_name), suite=suite))
    checkpoint = ctx.checkpoints.add_or_update(gx.Checkpoint(
        name=suite_name, validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name="data_docs")],
        result_format={"result_format": "COMPLETE",
                       "unexpected_index_column_names": index_columns,
                       "return_unexpected_index_query": False}))
    started = time.perf_counter()
    result = checkpoint.run(batch_parameters={"dataframe": frame.to_pandas()},
                            run_id=RunIdentifier(run_name=run_name))
    elapsed = time.perf_counter() - started
    (identifier, suite_result), = result.run_results.items()
    urls = ctx.get_docs_sites_urls(resource_identifier=identifier)
    page = urls[0]["site_url"].removeprefix("file://") if urls else None
    return suite_result, page, elapsed


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


def outcomes(suite_result, specs: list[ExpectationSpec],
             index_columns: list[str] = INDEX_COLUMNS) -> list[ExpectationOutcome]:
    """GX's results as plain data, in spec order; unexpected rows by INDEX_COLUMNS."""
    by_spec = {int(r.expectation_config.meta["spec"]): r for r in suite_result.results}
    if sorted(by_spec) != list(range(len(specs))):
        raise LumbungError(f"Great Expectations returned {len(by_spec)} results for "
                           f"{len(specs)} expectations.")
    out = []
    for i, spec in enumerate(specs):
        result = by_spec[i]
        detail = result.result or {}
        rows = detail.get("unexpected_index_list") or []
        out.append(ExpectationOutcome(
            type=spec.type, kwargs=plain(spec.kwargs), column=spec.column,
            success=bool(result.success), decides=spec.decides,
            unexpected_count=detail.get("unexpected_count"),
            observed_value=plain(detail.get("observed_value")),
            unexpected_rows=[{k: plain(v) for k, v in r.items() if k in index_columns}
                             for r in rows],
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
    suite_result, page, elapsed = run_suite(
        home, contract.source, spec.expectations, spec.name, frame,
        run_name=f"load-{load_id}", index_columns=INDEX_COLUMNS,
        mostly=1.0 - max_invalid_share)
    results = outcomes(suite_result, spec.expectations)
    check = cross_check(results, flagged_rows(batch.rows))
    outcome = ValidationOutcome(
        suite_name=spec.name, success=bool(suite_result.success),
        statistics=plain(dict(suite_result.statistics)), expectations=results,
        cross_check=check, report=page, elapsed_s=elapsed)
    if not check["success"]:
        first = check["mismatches"][0]
        raise CrossCheckFailed(
            f"Validation cross-check failed for {contract.source}: for column "
            f"{first['column']}, Great Expectations and the normalisers disagree about "
            f"{first['only_gx'] + first['only_normalisers']} rows (e.g. spreadsheet rows "
            f"{first['example_rows']}); nothing was loaded. This is a bug in Lumbung."
        )
    return outcome


def cross_check(results: list[ExpectationOutcome], flagged: dict[str, set[int]]) -> dict:
    """Per column: rows GX found unexpected == rows the normalisers gave a reason."""
    by_gx: dict[str, set[int]] = {}
    where: dict[int, tuple] = {}
    for result in results:
        if result.column is None:
            continue
        ids = by_gx.setdefault(result.column, set())
        for row in result.unexpected_rows:
            ids.add(row[ROW_ID])
            where[row[ROW_ID]] = (row.get("_sheet"), row.get("_row_number"))
    mismatches = []
    for column in sorted(set(by_gx) | set(flagged)):
        gx_rows, ours = by_gx.get(column, set()), flagged.get(column, set())
        if gx_rows != ours:
            differing = sorted(gx_rows ^ ours)
            mismatches.append({
                "column": column, "only_gx": len(gx_rows - ours),
                "only_normalisers": len(ours - gx_rows),
                "example_rows": [where.get(i, (None, i))[1] for i in differing[:5]],
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
