"""What the Airflow DAGs are made of (SPEC 8): the Assets, and the ingest DAG of a source.

The only module of the package that imports Airflow, and nothing in the package imports it:
`dags/` does. Every task calls the same functions as the CLI (`ingestion.inbox`,
`ingestion.runner`); heavy imports stay inside the task bodies.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, dag, task

from ingestion.contracts import SOURCES

ASSETS = {source: Asset(f"lumbung://raw/{source}") for source in SOURCES}
DEFAULT_ARGS = {"retries": 2, "retry_delay": dt.timedelta(seconds=30)}
INBOX_POLL = dt.timedelta(minutes=1)


def ingest_dag(source: str):
    """ingest_<source>: every new file of inbox/<source>/ loaded once, one mapped task per file;
    an Asset event (with the load ids) only when rows landed."""
    asset = ASSETS[source]

    @dag(
        dag_id=f"ingest_{source}",
        schedule=INBOX_POLL,
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["lumbung", "ingest", source],
        doc_md=f"Loads new spreadsheets from `inbox/{source}/` into `raw.{source}` and "
               f"`quarantine.{source}`, then emits `{asset.uri}` when rows landed.",
    )
    def ingest():
        @task
        def list_new_files() -> list[str]:
            from ingestion.inbox import new_files
            from ingestion.settings import settings

            return [str(path) for path in new_files(settings().inbox, source)]

        @task(max_active_tis_per_dagrun=4)
        def load_file(path: str) -> dict:
            from pathlib import Path

            from ingestion.runner import ingest_paths

            # a retry after the commit finds the bytes loaded: `duplicate`, not an error
            (result,) = ingest_paths(source, [Path(path)])
            return result.as_json()

        @task(outlets=[asset])
        def publish(results: list[dict], outlet_events=None) -> list[int]:
            from airflow.sdk.exceptions import AirflowSkipException

            loaded = [r["load_id"] for r in results if r["status"] == "loaded"]
            if not loaded:
                raise AirflowSkipException("nothing new was loaded: no Asset event")
            outlet_events[asset].extra = {"load_ids": loaded, "source": source}
            return loaded

        publish(load_file.expand(path=list_new_files()))

    return ingest()
