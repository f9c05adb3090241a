"""The auditor report of a run (SPEC 1, 5, 7): one self-contained HTML page under
LUMBUNG_HOME/reports/, rendered with Jinja2 (autoescaped) from the warehouse alone.

Every figure is read from audit.runs, audit.loads, quarantine.<source>,
audit.validation_results and audit.dbt_results, so the report of an old run, written again
later, says the same. The page has no script and fetches nothing (a Content-Security-Policy
forbids both); a spreadsheet cell holding `<script>` shows as text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion import warehouse
from ingestion.contracts import SOURCES
from ingestion.errors import UsageError
from ingestion.reasons import text_en, text_id
from ingestion.settings import Settings, settings
from ingestion.validate import data_docs_index

TEMPLATES = Path(__file__).parent / "templates"
EXAMPLES_PER_REASON = 5
CELL_CHARS = 120


def reports_dir(cfg: Settings | None = None) -> Path:
    return (cfg or settings()).home / "reports"


def report_path(run_id: int, cfg: Settings | None = None) -> Path:
    return reports_dir(cfg) / f"run-{run_id}.html"


def write_report(run_id: int, cfg: Settings | None = None) -> Path:
    """Render the report of RUN_ID from the warehouse, record where it is, return its path."""
    cfg = cfg or settings()
    with warehouse.connect(cfg) as conn:
        data = report_data(conn, run_id, cfg)
        path = report_path(run_id, cfg)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(data), encoding="utf-8")
        conn.execute("update audit.runs set report_path = %s where run_id = %s",
                     (str(path), run_id))
        conn.commit()
    return path


def run_of_load(load_id: int, cfg: Settings | None = None) -> int:
    """The run whose report covers LOAD_ID."""
    with warehouse.connect(cfg or settings()) as conn:
        if conn.execute("select 1 from audit.loads where load_id = %s",
                        (load_id,)).fetchone() is None:
            raise UsageError(f"There is no load {load_id}.")
        row = conn.execute("select run_id from audit.runs where load_ids @> array[%s::bigint] "
                           "order by run_id limit 1", (load_id,)).fetchone()
    if row is None:
        raise UsageError(f"Load {load_id} is not in a run yet: `lumbung transform` (or the "
                         "next build_marts run) reports it.")
    return row[0]


def latest_run(cfg: Settings | None = None) -> int:
    with warehouse.connect(cfg or settings()) as conn:
        row = conn.execute("select max(run_id) from audit.runs").fetchone()
    if row[0] is None:
        raise UsageError("No run has been recorded yet: `lumbung run`, `lumbung transform` or "
                         "a build_marts DAG run records one.")
    return row[0]


# ---------------------------------------------------------------------------------------------
# what the page shows, read from the warehouse


def report_data(conn, run_id: int, cfg: Settings) -> dict:
    run = conn.execute(
        "select run_id, kind, name, started_at, finished_at, outcome, load_ids, mart_rows, "
        "started_by from audit.runs where run_id = %s", (run_id,)).fetchone()
    if run is None:
        raise UsageError(f"There is no run {run_id}.")
    keys = ("run_id", "kind", "name", "started_at", "finished_at", "outcome", "load_ids",
            "mart_rows", "started_by")
    run = dict(zip(keys, run, strict=True))
    load_ids = list(run["load_ids"])
    files = [dict(zip(("load_id", "source", "file_name", "sha256", "status", "rows_read",
                       "rows_loaded", "rows_quarantined", "rows_skipped", "duplicate_of",
                       "error", "reasons", "started_at"), row, strict=True))
             for row in conn.execute(
                 "select load_id, source, file_name, sha256, status, rows_read, rows_loaded, "
                 "rows_quarantined, rows_skipped, duplicate_of, error, reasons, started_at "
                 "from audit.loads where load_id = any(%s) order by load_id", (load_ids,))]
    loaded = [f for f in files if f["status"] == "loaded"]
    totals = {k: sum(f[k] for f in loaded)
              for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped")}
    return {
        "run": run,
        "generated_at": dt.datetime.now(run["started_at"].tzinfo),  # the warehouse's zone
        "files": files,
        "loaded": loaded,
        "rejected": [f for f in files if f["status"] == "rejected"],
        "duplicates": [f for f in files if f["status"] == "duplicate"],
        "totals": totals,
        "reasons": _reasons(conn, loaded, [f for f in files if f["status"] == "rejected"]),
        "validations": _validations(conn, run_id, load_ids),
        "dbt": _dbt(conn, run_id),
        "marts": [{"mart": mart, "rows": rows, "trace": f"lumbung trace {mart}"}
                  for mart, rows in (run["mart_rows"] or {}).items()],
        "chart": _chart(loaded),
        "examples_per_reason": EXAMPLES_PER_REASON,
        "data_docs": data_docs_index(cfg.home).as_uri(),
    }


def _reasons(conn, loaded: list[dict], rejected: list[dict]) -> list[dict]:
    """Every reason of the run: how many rows (or files) it held back, and example rows."""
    by_code: dict[str, dict] = {}
    names = {f["load_id"]: f["file_name"] for f in loaded}
    for source in SOURCES:
        ids = [f["load_id"] for f in loaded if f["source"] == source]
        if not ids:
            continue
        counts = conn.execute(
            f"select code, count(*) from quarantine.{source}, unnest(reasons) as code "
            "where _load_id = any(%s) group by code", (ids,)).fetchall()
        for code, count in counts:
            entry = by_code.setdefault(code, _reason(code))
            entry["rows"] += count
            room = EXAMPLES_PER_REASON - len(entry["examples"])
            if room <= 0:
                continue
            for load_id, sheet, row_number, cells, details in conn.execute(
                    f"select _load_id, _sheet, _row_number, cells, reason_details "
                    f"from quarantine.{source} where _load_id = any(%s) and %s = any(reasons) "
                    f"order by _load_id, _row_number limit %s", (ids, code, room)):
                columns = [d.get("column") for d in details if d.get("code") == code]
                entry["examples"].append({
                    "file": names[load_id], "load_id": load_id, "sheet": sheet,
                    "row": row_number, "columns": ", ".join(c for c in columns if c),
                    "cells": [(k, _short(v)) for k, v in cells.items()]})
    for f in rejected:
        for code in f["reasons"] or {"rejected": 1}:
            entry = by_code.setdefault(code, _reason(code))
            entry["files"] += 1
            entry["rejections"].append({"file": f["file_name"], "load_id": f["load_id"],
                                        "error": f["error"]})
    return sorted(by_code.values(), key=lambda e: (-e["rows"], -e["files"], e["code"]))


def _reason(code: str) -> dict:
    return {"code": code, "en": text_en(code), "id": text_id(code), "rows": 0, "files": 0,
            "examples": [], "rejections": []}


def _short(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"


def _validations(conn, run_id: int, load_ids: list[int]) -> list[dict]:
    rows = conn.execute("""
        select v.kind, v.suite_name, v.load_id, l.file_name, v.success, v.statistics,
               v.data_docs_path
        from audit.validation_results v left join audit.loads l using (load_id)
        where v.load_id = any(%s) or v.run_id = %s
        order by v.kind, v.load_id, v.suite_name""", (load_ids, run_id)).fetchall()
    out = []
    for kind, suite, load_id, file_name, success, stats, page in rows:
        out.append({"kind": kind, "suite": suite, "load_id": load_id, "file": file_name,
                    "success": success,
                    "evaluated": (stats or {}).get("evaluated_expectations"),
                    "failed": (stats or {}).get("unsuccessful_expectations"),
                    "link": Path(page).as_uri() if page and Path(page).is_absolute() else None})
    return out


def _dbt(conn, run_id: int) -> dict:
    rows = conn.execute("""
        select resource_type, status, count(*) from audit.dbt_results where run_id = %s
        group by resource_type, status order by resource_type, status""", (run_id,)).fetchall()
    failures = conn.execute("""
        select resource_type, name, status, message from audit.dbt_results
        where run_id = %s and status in ('error', 'fail', 'warn')
        order by resource_type, name""", (run_id,)).fetchall()
    built: dict[str, int] = {}
    tested: dict[str, int] = {}
    for kind, status, count in rows:
        into = built if kind in ("model", "snapshot", "seed") else tested
        into[status] = into.get(status, 0) + count
    return {"built": built, "tested": tested, "nodes": sum(c for _, _, c in rows),
            "failures": [dict(zip(("kind", "name", "status", "message"), f, strict=True))
                         for f in failures]}


def _chart(loaded: list[dict]) -> dict:
    """Horizontal bars of loaded versus quarantined rows per file, as SVG geometry."""
    width, label, bar, gap, figures = 760, 260, 18, 8, 130
    most = max((f["rows_read"] for f in loaded), default=0) or 1
    scale = (width - label - figures) / most
    bars = []
    for i, f in enumerate(loaded):
        y = i * (bar + gap)
        ok = f["rows_loaded"] * scale
        held = f["rows_quarantined"] * scale
        bars.append({"y": y, "label": f["file_name"], "text_y": y + bar - 5,
                     "loaded_w": round(ok, 1), "held_x": round(label + ok, 1),
                     "held_w": round(held, 1), "end_x": round(label + ok + held + 6, 1),
                     "loaded": f["rows_loaded"], "held": f["rows_quarantined"]})
    return {"width": width, "label": label, "bar": bar,
            "height": max(len(loaded) * (bar + gap), bar + gap), "bars": bars}


# ---------------------------------------------------------------------------------------------


def render(data: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True))
    return env.get_template("report.html.j2").render(**data)
