"""The ingest DAGs: they parse, and `dag.test()` loads an inbox through the same functions as
the CLI, once; an Asset event only when rows landed."""

from __future__ import annotations

import time

from ingestion import samples
from ingestion.contracts import SOURCES


def test_dag_folder_imports_without_errors_and_quickly():
    import airflow  # noqa: F401  (parse time is measured after Airflow itself is imported)
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import ROOT

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    elapsed = time.perf_counter() - started
    assert bag.import_errors == {}
    assert {f"ingest_{s}" for s in SOURCES} <= set(bag.dag_ids)
    for dag_id in bag.dag_ids:
        dag = bag.dags[dag_id]
        assert "lumbung" in dag.tags and dag.default_args["retries"] >= 1
    assert elapsed < 2.0, elapsed


def test_an_ingest_dag_loads_new_files_once(db, inbox, airflow_db, asset_events):
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["ingest_cohorts"]
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
