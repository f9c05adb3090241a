"""`lumbung airflow up` for real: the four components on the embedded server's `airflow`
database, the DAGs unpaused, a file dropped into the inbox loaded by the scheduler and the
marts rebuilt by the Asset-triggered build_marts; `lumbung airflow down` leaves no process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from ingestion import samples, warehouse


def _lumbung(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ingestion.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def airflow_env(lumbung_home, tmp_path):
    # Airflow's settings come from `lumbung airflow up`, not from the DAG tests' sqlite setup
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(LUMBUNG_HOME=str(lumbung_home), LUMBUNG_INBOX=str(tmp_path / "inbox"),
               LUMBUNG_AIRFLOW_PORT=str(warehouse.free_port()))
    yield env
    _lumbung(env, "airflow", "down")


def test_airflow_up_runs_the_inbox_to_the_marts_and_down_stops_it(db, airflow_env, tmp_path,
                                                                  lumbung_home):
    started = _lumbung(airflow_env, "airflow", "up")
    assert started.returncode == 0, started.stderr
    address = f"http://127.0.0.1:{airflow_env['LUMBUNG_AIRFLOW_PORT']}"
    assert address in started.stdout
    with urllib.request.urlopen(f"{address}/api/v2/monitor/health", timeout=10) as reply:
        health = json.load(reply)
    assert health["metadatabase"]["status"] == "healthy"

    from ingestion.airflow_local import group_alive, running

    pids = running()
    assert set(pids) == {"api-server", "scheduler", "dag-processor", "triggerer"}

    inbox = tmp_path / "inbox" / "cohorts"
    inbox.mkdir(parents=True)
    staged = tmp_path / "angkatan_9.csv"
    samples.write_table(staged, {"d": samples.cohort_rows(n=12)})
    staged.rename(inbox / staged.name)
    deadline = time.monotonic() + 240
    shown = 0
    while time.monotonic() < deadline and not shown:
        time.sleep(2)
        db.rollback()
        if db.execute("select to_regclass('marts.fct_cohort_participation')").fetchone()[0]:
            shown = db.execute(
                "select count(*) from marts.fct_cohort_participation f join audit.loads l "
                "on l.load_id = f._load_id where l.file_name = 'angkatan_9.csv'").fetchone()[0]
    assert shown, "the scheduler did not carry the file into the marts in 240 s"
    loaded = db.execute("select rows_loaded from audit.loads where file_name = "
                        "'angkatan_9.csv' and status = 'loaded'").fetchone()[0]
    assert shown == loaded > 0
    assert (inbox / "loaded" / "angkatan_9.csv").exists()
    # the task logs of those runs never hold the pseudonym key the load used
    key = (lumbung_home / "pseudonym.key").read_text().strip().encode()
    from ingestion.airflow_local import home
    from ingestion.settings import settings

    task_logs = [p for p in home(settings()).rglob("*") if p.is_file() and p.suffix == ".log"]
    assert any("dag_id=ingest_cohorts" in str(p) for p in task_logs)
    assert [p for p in task_logs if key in p.read_bytes()] == []

    stopped = _lumbung(airflow_env, "airflow", "down")
    assert stopped.returncode == 0 and "scheduler" in stopped.stdout
    assert running() == {}
    assert not any(group_alive(pid) for pid in pids.values())
