"""The DAGs: they parse quickly; `dag.test()` of each ingest DAG loads its inbox through the same
functions as the CLI, once, with an Asset event only when rows landed; build_marts renders a
task per dbt model from the manifest and builds the marts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingestion import samples
from ingestion.contracts import SOURCES


def test_dag_folder_imports_without_errors_and_quickly(dbt_manifest):
    import airflow  # noqa: F401  (parse time is measured after Airflow itself is imported)
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import ROOT

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    elapsed = time.perf_counter() - started
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {f"ingest_{s}" for s in SOURCES} | {"build_marts"}
    for dag_id in bag.dag_ids:
        dag = bag.dags[dag_id]
        assert "lumbung" in dag.tags and dag.default_args["retries"] >= 1
    assert elapsed < 2.0, elapsed


def test_an_ingest_dag_loads_new_files_once(db, inbox, airflow_db, asset_events, dag_bag):
    dag = dag_bag.dags["ingest_cohorts"]
    samples.write_table(inbox / "cohorts" / "a.csv", {"d": samples.cohort_rows(n=4)})
    samples.write_table(inbox / "cohorts" / "b.xlsx", {"D": samples.cohort_rows(seed=8, n=3)})
    run = dag.test()
    assert run.state == "success"
    loads = db.execute("select load_id, file_name, status from audit.loads "
                       "order by file_name").fetchall()   # mapped tasks run in any order
    assert [(f, s) for _, f, s in loads] == [("a.csv", "loaded"), ("b.xlsx", "loaded")]
    assert db.execute("select count(*) from raw.cohorts").fetchone()[0] == 7
    assert (inbox / "cohorts" / "loaded" / "a.csv").exists()
    ((uri, extra, dag_id),) = asset_events()
    assert (uri, dag_id, extra["source"]) == ("lumbung://raw/cohorts", "ingest_cohorts", "cohorts")
    assert sorted(extra["load_ids"]) == sorted(load_id for load_id, _, _ in loads)
    # a second run finds nothing new: nothing loaded, no Asset event
    again = dag.test()
    assert again.state == "success"
    assert db.execute("select count(*) from audit.loads").fetchone()[0] == 2
    assert len(asset_events()) == 1


def test_a_retried_load_that_had_committed_is_still_announced():
    from ingestion.orchestration import published_load_ids

    results = [
        {"status": "loaded", "load_id": 7, "duplicate_of": None, "attempt": 1},
        {"status": "duplicate", "load_id": 9, "duplicate_of": 8, "attempt": 2},  # a retry
        {"status": "duplicate", "load_id": 10, "duplicate_of": 3, "attempt": 1},  # dropped twice
        {"status": "rejected", "load_id": 11, "duplicate_of": None, "attempt": 1},
    ]
    assert published_load_ids(results) == [7, 8]
    assert published_load_ids(results[2:]) == []


@pytest.mark.parametrize("source", SOURCES)
def test_each_ingest_dag_loads_only_its_own_files(source, db, inbox, airflow_db, dag_bag):
    samples.write_demo_inbox(inbox)
    mine = sorted(p.name for p in (inbox / source).iterdir() if p.is_file())
    others = sum(1 for s in SOURCES if s != source for p in (inbox / s).iterdir() if p.is_file())
    assert dag_bag.dags[f"ingest_{source}"].test().state == "success"
    loaded = db.execute("select source, file_name, status from audit.loads "
                        "order by file_name").fetchall()
    assert loaded == [(source, name, "loaded") for name in mine]
    assert sorted(p.name for p in (inbox / source / "loaded").iterdir()) == mine
    assert sum(1 for s in SOURCES if s != source
               for p in (inbox / s).iterdir() if p.is_file()) == others
    assert dag_bag.dags[f"ingest_{source}"].test().state == "success"
    assert db.execute("select count(*) from audit.loads").fetchone()[0] == len(mine)


def test_build_marts_renders_a_task_per_model_and_no_secret(dag_bag, lumbung_home):
    from airflow.serialization.serialized_objects import DagSerialization

    from ingestion.orchestration import ASSETS

    dag = dag_bag.dags["build_marts"]
    manifest = json.loads(dbt_manifest_path().read_text())
    models = {n["name"] for n in manifest["nodes"].values()
              if n["resource_type"] in ("model", "snapshot")}
    built = {t.task_id.split(".", 1)[1].rsplit("_", 2)[0] for t in dag.tasks
             if t.task_id.startswith("dbt.") and t.task_id.endswith("_build")}
    assert built == models
    assert {"validate_marts", "report"} <= set(dag.task_ids)
    assert {a.uri for a in dag.timetable.asset_condition.objects} == \
        {a.uri for a in ASSETS.values()}
    assert type(dag.timetable.asset_condition).__name__ == "AssetAny"
    serialized = json.dumps(DagSerialization.to_dict(dag), default=str)
    password = (lumbung_home / "owner.password").read_text().strip()
    assert password not in serialized and "LUMBUNG_DB_PASSWORD" not in serialized


def test_build_marts_builds_the_marts(db, inbox, airflow_db, dag_bag):
    from ingestion.runner import ingest_inbox
    from ingestion.transform import mart_row_counts

    samples.write_demo_inbox(inbox)
    assert all(r.status == "loaded" for r in ingest_inbox())
    run = dag_bag.dags["build_marts"].test()
    assert run.state == "success"
    counts = mart_row_counts()
    assert all(count > 0 for count in counts.values()), counts
    suites = db.execute("select count(*), bool_and(success) from audit.validation_results "
                        "where kind = 'marts'").fetchone()
    assert suites[0] >= len(counts) and suites[1] is True
    (report,) = [ti for ti in run.get_task_instances() if ti.task_id == "report"]
    assert report.state == "success"
    # the DAG run's audit.runs row: its loads, every Cosmos task's dbt results, the report
    run_id, outcome, load_ids, mart_rows, page = db.execute(
        "select run_id, outcome, load_ids, mart_rows, report_path from audit.runs "
        "where name = %s", (f"build_marts/{run.run_id}",)).fetchone()
    assert outcome == "success" and mart_rows == counts
    assert sorted(load_ids) == [r[0] for r in db.execute(
        "select load_id from audit.loads order by load_id")]
    built = dict(db.execute("select resource_type, count(*) from audit.dbt_results "
                            "where run_id = %s and status = 'success' "
                            "group by resource_type", (run_id,)).fetchall())
    manifest = json.loads(dbt_manifest_path().read_text())
    assert built["model"] == sum(n["resource_type"] == "model"
                                 for n in manifest["nodes"].values())
    assert db.execute("select count(*) from audit.dbt_results where run_id = %s and status "
                      "not in ('success', 'pass')", (run_id,)).fetchone()[0] == 0
    assert db.execute("select count(*) from audit.validation_results where run_id = %s",
                      (run_id,)).fetchone()[0] == suites[0]
    html = Path(page).read_text()
    assert f"Lumbung run {run_id} &middot; dag &middot;" in html
    assert str(counts["teacher_journey"]) in html


def dbt_manifest_path():
    from ingestion.transform import manifest_path

    return manifest_path()
