"""The run summary written after every mart build, by `lumbung transform`/`run`/`demo` and by
`build_marts` alike (SPEC 7, 8): a plain-text account read back from the warehouse.

Every figure comes from `audit.loads`, `audit.validation_results` and the marts, never from the
run's memory, so that a summary can be written again later and says the same.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ingestion import warehouse
from ingestion.settings import Settings, settings


def reports_dir(cfg: Settings | None = None) -> Path:
    return (cfg or settings()).home / "reports"


def write_summary(run_name: str, dbt_status: str, cfg: Settings | None = None) -> Path:
    """Write `reports/<run_name>.txt` and return its path."""
    from ingestion.marts_check import ANALYTIC_MARTS, report_path

    cfg = cfg or settings()
    written = dt.datetime.now().astimezone()
    lines = [f"Lumbung run {run_name}", f"written {written:%Y-%m-%d %H:%M %Z}",
             f"dbt build: {dbt_status}", ""]
    with warehouse.connect(cfg) as conn:
        loads = conn.execute("""
            select source, status, count(*), coalesce(sum(rows_read), 0),
                   coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
            from audit.loads group by source, status order by source, status""").fetchall()
        lines.append("Files by source and outcome (read = loaded + quarantined):")
        for source, status, files, read, loaded, held in loads:
            lines.append(f"  {source:<15} {status:<10} {files:>4} files  {read:>9} read = "
                         f"{loaded:>9} loaded + {held:>7} quarantined")
        if not loads:
            lines.append("  (no file loaded yet)")
        suites = conn.execute("""
            select distinct on (suite_name) suite_name, success from audit.validation_results
            where kind = 'marts' order by suite_name, validated_at desc""").fetchall()
        failed = [name for name, ok in suites if not ok]
        lines += ["", f"Mart validations: {len(suites) - len(failed)} of {len(suites)} suites "
                      "passed" + (f"; failed: {', '.join(failed)}" if failed else ""),
                  f"Data Docs: {report_path(cfg)}", "", "Mart rows:"]
        for mart in ANALYTIC_MARTS:
            count = conn.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            lines.append(f"  marts.{mart:<24} {count:>8}")
    folder = reports_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe_name(run_name)}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _safe_name(run_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", run_name).strip("_") or "run"
