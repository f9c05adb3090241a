"""ARCHITECTURE.md's rules that code can check: pure rooms stay pure."""

from __future__ import annotations

import re
import subprocess
import sys

PURE = ["ingestion.rules", "ingestion.suites", "ingestion.normalise.dates",
        "ingestion.normalise.numbers", "ingestion.normalise.ids", "ingestion.normalise.vocab",
        "ingestion.normalise.regions", "ingestion.normalise.text"]
FORBIDDEN = ["ingestion.reader", "ingestion.warehouse", "ingestion.loader", "psycopg",
             "great_expectations", "airflow", "dbt", "python_calamine"]


def test_normalisers_rules_and_suites_import_nothing_that_does_io():
    code = (f"import sys, importlib\nfor m in {PURE!r}: importlib.import_module(m)\n"
            f"print([m for m in {FORBIDDEN!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_only_the_modules_made_for_airflow_import_it():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ingestion"
    statement = re.compile(r"^\s*(import airflow\b|from airflow[ .])", re.MULTILINE)
    importers = {p.name for p in root.rglob("*.py") if statement.search(p.read_text())}
    # the DAGs' building blocks; running DAGs in-process; the scheduler with preloaded modules
    assert importers == {"orchestration.py", "airflow_local.py", "airflow_scheduler.py"}
    users = {p.name for p in root.rglob("*.py") if "ingestion.orchestration" in p.read_text()}
    assert users <= {"orchestration.py"}       # only dags/ imports it
    # Airflow reads its settings at import: the CLI must not import it before configuring it
    code = ("import sys, ingestion.cli, ingestion.airflow_local, ingestion.airflow_scheduler\n"
            "print('airflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_every_analytic_mart_is_validated_and_traceable():
    from ingestion.marts_check import ANALYTIC_MARTS
    from ingestion.trace import TRACES

    assert set(TRACES) == set(ANALYTIC_MARTS)
