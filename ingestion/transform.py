"""`lumbung transform`: the dbt project built through dbt's Python entry point (`dbtRunner`),
then the mart validations (SPEC 5, 7).

dbt connects with the warehouse URL split into LUMBUNG_DB_* environment variables (read by the
committed `dbt_project/profiles.yml`), works as `lumbung_transformer`, and keeps its target and
logs under LUMBUNG_HOME, never in the repository. The pseudonym key never reaches dbt.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ingestion import warehouse
from ingestion.errors import LumbungError, UsageError, WarehouseUnavailable
from ingestion.settings import Settings, settings

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class TransformResult:
    status: str                                  # success | failed
    models: dict[str, str] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=lambda: {
        "pass": 0, "fail": 0, "warn": 0, "error": 0, "skipped": 0})
    validation: dict | None = None
    run_id: int | None = None
    report: str | None = None
    elapsed_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"status": self.status, "models": self.models, "tests": self.tests,
                "validation": self.validation, "run_id": self.run_id, "report": self.report,
                "elapsed_s": round(self.elapsed_s, 2)}


def dbt_environment(cfg: Settings) -> dict[str, str]:
    """LUMBUNG_DB_* for the profile, from the warehouse URL (the embedded one or configured)."""
    parts = urlsplit(warehouse.url(cfg))
    return {
        "LUMBUNG_DB_HOST": parts.hostname or "127.0.0.1",
        "LUMBUNG_DB_PORT": str(parts.port or 5432),
        "LUMBUNG_DB_USER": unquote(parts.username or ""),
        "LUMBUNG_DB_PASSWORD": unquote(parts.password or ""),
        "LUMBUNG_DB_NAME": parts.path.lstrip("/") or "lumbung",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def dbt_paths(cfg: Settings, target: Path | None = None) -> list[str]:
    folder = cfg.home / "dbt"
    return ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(target or folder / "target"), "--log-path", str(folder / "logs")]


def run_dbt(command: list[str], cfg: Settings | None = None, target: Path | None = None, *,
            connect: bool = True):
    """Invoke dbt in-process; returns dbt's result object. `connect=False` for commands that
    never reach the warehouse (parse): the profile's defaults then suffice."""
    from dbt.cli.main import dbtRunner

    cfg = cfg or settings()
    if connect:
        os.environ.update(dbt_environment(cfg))
    args = [*command, *dbt_paths(cfg, target), "--log-level", "none", "--log-level-file", "info"]
    return dbtRunner().invoke(args)


def manifest_path(cfg: Settings | None = None) -> Path:
    """The dbt manifest `build_marts` renders its tasks from (LUMBUNG_DBT_MANIFEST overrides)."""
    configured = os.environ.get("LUMBUNG_DBT_MANIFEST")
    if configured:
        return Path(configured).expanduser().resolve()
    return (cfg or settings()).home / "dbt" / "manifest" / "manifest.json"


def write_manifest(cfg: Settings | None = None) -> Path:
    """`dbt parse` (no database needed) into the manifest's folder, so that parsing the DAG
    folder never runs dbt. Done by `lumbung airflow up`, `lumbung demo` and the image build."""
    cfg = cfg or settings()
    path = manifest_path(cfg)
    outcome = run_dbt(["parse"], cfg, target=path.parent, connect=False)
    if not outcome.success or not path.exists():
        raise _dbt_error(outcome.exception or RuntimeError("dbt parse wrote no manifest"))
    return path


def transform(cfg: Settings | None = None, *, full_refresh: bool = False,
              validate: bool = True, kind: str = "transform") -> TransformResult:
    """A run of KIND (`transform`, `run`, `demo`): dbt build, the mart validations, then the
    run's outcome and its auditor report, all recorded in the warehouse."""
    from ingestion.marts_check import MartsValidator

    cfg = cfg or settings()
    started = time.perf_counter()
    warehouse.connect(cfg).close()  # start on demand; unreachable -> exit 3 before dbt runs
    validator = MartsValidator() if validate else None  # imports GX meanwhile, on its own
    try:
        return _build(cfg, kind, full_refresh, validator, started)
    finally:
        if validator is not None:
            validator.close()


def _build(cfg: Settings, kind: str, full_refresh: bool, validator, started: float
           ) -> TransformResult:
    from ingestion import runs
    from ingestion.report import write_report

    run_id = runs.start_run(kind, cfg=cfg)
    command = ["build"] + (["--full-refresh"] if full_refresh else [])
    outcome = run_dbt(command, cfg)
    result = TransformResult(status="success" if outcome.success else "failed", run_id=run_id)
    if outcome.exception is not None and outcome.result is None:
        runs.finish_run(run_id, "failed", cfg)
        write_report(run_id, cfg)
        raise _dbt_error(outcome.exception)
    runs.record_dbt_results(run_id, runs.results_from_runner(outcome), cfg)
    for node_result in getattr(outcome.result, "results", []) or []:
        node = node_result.node
        status = str(node_result.status)
        if node.resource_type in ("model", "snapshot", "seed"):
            result.models[node.name] = status
        elif node.resource_type in ("test", "unit_test"):
            key = {"success": "pass"}.get(status, status)
            if key in result.tests:
                result.tests[key] += 1
            else:
                result.tests["error"] += 1
        if status in ("error", "fail"):
            message = _ANSI.sub("", node_result.message or "").strip().splitlines()
            result.failures.append(f"{node.name}: {message[0] if message else status}")
    if validator is not None and outcome.success:
        validation = validator.validate(cfg, run_id, everything=full_refresh)
        result.validation = validation.as_json()
        if not validation.success:
            result.status = "failed"
    runs.finish_run(run_id, result.status, cfg)
    result.report = str(write_report(run_id, cfg))
    result.elapsed_s = time.perf_counter() - started
    return result


def _dbt_error(exc: BaseException) -> LumbungError:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if "connection" in first.lower() or "could not connect" in first.lower():
        return WarehouseUnavailable(f"dbt could not reach the warehouse: {first}")
    return UsageError(f"dbt could not run the project: {first[:300]}")


def mart_row_counts(cfg: Settings | None = None) -> dict[str, int | None]:
    """Rows of every analytic mart; None for a mart not built yet (a build that failed)."""
    from ingestion.marts_check import ANALYTIC_MARTS

    counts: dict[str, int | None] = {}
    with warehouse.connect(cfg or settings()) as conn:
        for mart in ANALYTIC_MARTS:
            built = conn.execute("select to_regclass(%s)", (f"marts.{mart}",)).fetchone()[0]
            counts[mart] = (conn.execute(f"select count(*) from marts.{mart}").fetchone()[0]
                            if built else None)
    return counts
