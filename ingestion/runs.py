"""Runs (SPEC 7, 8): one `audit.runs` row per `lumbung run`, `transform` or `demo` and per
build_marts DAG run, and dbt's result for every node it built or tested.

A run reports the loads no earlier run reported, claimed when it starts (so every load is in
exactly one run's report, and in the marts that run built). The CLI records dbt's results from
`dbtRunner`; each Cosmos task records its own from its `run_results.json`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ingestion import warehouse
from ingestion.settings import Settings, settings


def start_run(kind: str, name: str | None = None, cfg: Settings | None = None) -> int:
    """The run called NAME, created with the loads no run has reported yet; an existing run of
    that name (a retried task) is returned as it is."""
    cfg = cfg or settings()
    name = name or f"{kind}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S.%fZ}"
    with warehouse.connect(cfg) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('lumbung.runs'))")
        existing = conn.execute("select run_id from audit.runs where name = %s",
                                (name,)).fetchone()
        if existing:
            return existing[0]
        run_id = conn.execute("""
            insert into audit.runs (kind, name, started_by, load_ids)
            values (%s, %s, %s, array(
                select l.load_id from audit.loads l
                where not exists (select from audit.runs r
                                  where r.load_ids @> array[l.load_id])
                order by l.load_id))
            returning run_id""", (kind, name, cfg.user)).fetchone()[0]
        conn.commit()
    return run_id


def record_dbt_results(run_id: int, results: list[dict], cfg: Settings | None = None) -> None:
    """Upsert dbt's node results: dicts with unique_id, status, message, elapsed_s."""
    if not results:
        return
    rows = []
    for result in results:
        kind, _, rest = result["unique_id"].partition(".")
        name = rest.split(".", 1)[1] if "." in rest else rest
        if kind in ("test", "unit_test"):
            name = name.rsplit(".", 1)[0] if kind == "test" else name
        rows.append((run_id, result["unique_id"], name, kind, result["status"],
                     (result.get("message") or "")[:2000] or None, result.get("elapsed_s")))
    with warehouse.connect(cfg or settings()) as conn, conn.cursor() as cur:
        cur.executemany("""
            insert into audit.dbt_results (run_id, unique_id, name, resource_type, status,
                                           message, elapsed_s)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id, unique_id) do update set status = excluded.status,
                message = excluded.message, elapsed_s = excluded.elapsed_s,
                recorded_at = clock_timestamp()""", rows)
        conn.commit()


def results_from_runner(outcome) -> list[dict]:
    """dbtRunner's result object as plain dicts."""
    out = []
    for node_result in getattr(outcome.result, "results", []) or []:
        out.append({"unique_id": node_result.node.unique_id,
                    "status": str(node_result.status),
                    "message": node_result.message,
                    "elapsed_s": node_result.execution_time})
    return out


def results_from_target(project_dir: str | Path) -> list[dict]:
    """The results a dbt command wrote to its project's target/run_results.json."""
    path = Path(project_dir) / "target" / "run_results.json"
    if not path.exists():
        return []
    return [{"unique_id": r["unique_id"], "status": r["status"], "message": r.get("message"),
             "elapsed_s": r.get("execution_time")}
            for r in json.loads(path.read_text())["results"]]


def finish_run(run_id: int, outcome: str, cfg: Settings | None = None) -> None:
    """Close the run: its outcome, and the row count of every analytic mart now."""
    from ingestion.transform import mart_row_counts

    cfg = cfg or settings()
    counts = mart_row_counts(cfg)
    with warehouse.connect(cfg) as conn:
        conn.execute("update audit.runs set finished_at = clock_timestamp(), outcome = %s, "
                     "mart_rows = %s where run_id = %s",
                     (outcome, json.dumps(counts), run_id))
        conn.commit()
