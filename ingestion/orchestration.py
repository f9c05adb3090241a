"""What the Airflow DAGs are made of (SPEC 8): the Assets, the ingest DAG of a source, and
`build_marts`, which Cosmos renders from the dbt manifest into one task per model.

The only module of the package that imports Airflow, and nothing in the package imports it:
`dags/` does. Every task calls the same functions as the CLI (`ingestion.inbox`,
`ingestion.runner`); heavy imports stay inside the task bodies.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, AssetAny, dag, task

from ingestion.contracts import SOURCES

ASSETS = {source: Asset(f"lumbung://raw/{source}") for source in SOURCES}
DEFAULT_ARGS = {"retries": 2, "retry_delay": dt.timedelta(seconds=30)}
INBOX_POLL = dt.timedelta(seconds=30)  # the inbox is looked at twice a minute


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
        def load_file(path: str, ti=None) -> dict:
            from pathlib import Path

            from ingestion.runner import ingest_paths

            # a retry after the commit finds the bytes loaded: `duplicate`, not an error
            (result,) = ingest_paths(source, [Path(path)])
            return {**result.as_json(), "attempt": ti.try_number if ti else 1}

        @task(outlets=[asset])
        def publish(results: list[dict], outlet_events=None) -> list[int]:
            from airflow.sdk.exceptions import AirflowSkipException

            loaded = published_load_ids(results)
            if not loaded:
                raise AirflowSkipException("nothing new was loaded: no Asset event")
            outlet_events[asset].extra = {"load_ids": loaded, "source": source}
            return loaded

        publish(load_file.expand(path=list_new_files()))

    return ingest()


def published_load_ids(results: list[dict]) -> list[int]:
    """The loads an ingest run announces: the ones it loaded, and the one an earlier attempt of
    the same task committed before it failed (the retry finds its own bytes: `duplicate`), so
    that a retried load still rebuilds the marts. A file someone dropped twice announces
    nothing."""
    ids = []
    for result in results:
        if result["status"] == "loaded":
            ids.append(result["load_id"])
        elif result["status"] == "duplicate" and result.get("attempt", 1) > 1:
            ids.append(result["duplicate_of"])
    return ids


def run_name(dag_run_id: str) -> str:
    """The audit.runs name of a build_marts DAG run."""
    return f"build_marts/{dag_run_id}"


def record_dbt_task(project_dir: str, context=None, **_) -> None:
    """After each Cosmos task (its dbt command done, failed or not): the results it wrote to
    its run_results.json, recorded under the DAG run's audit.runs row."""
    from ingestion.runs import record_dbt_results, results_from_target, start_run

    run_id = start_run("dag", name=run_name(context["run_id"]))
    record_dbt_results(run_id, results_from_target(project_dir))


def use_warehouse_credentials(context=None) -> None:
    """Before each dbt task, in the worker: LUMBUNG_DB_* for the committed profile, from the
    worker's own LUMBUNG_WAREHOUSE_URL or embedded warehouse. Credentials thus never sit in the
    DAG's serialized fields, the metadata database or the rendered templates."""
    import os

    from ingestion.settings import settings
    from ingestion.transform import dbt_environment

    os.environ.update(dbt_environment(settings()))


def build_marts_dag():
    """build_marts: on any raw Asset event, dbt through Cosmos (a task per model, its tests
    with it), then the mart validations and the auditor report, as `lumbung transform` does."""
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
        TestBehavior,
    )

    from ingestion.transform import DBT_PROJECT, manifest_path

    manifest = manifest_path()
    if not manifest.exists():
        raise FileNotFoundError(
            f"build_marts needs the dbt manifest at {manifest}: `lumbung airflow up` (or "
            "`lumbung airflow manifest`) writes it without touching the warehouse.")

    @dag(
        dag_id="build_marts",
        schedule=AssetAny(*ASSETS.values()),
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["lumbung", "dbt", "marts"],
        doc_md="Rebuilds staging, intermediate and marts with dbt (one Cosmos task per model, "
               "its tests with it) when any source's raw Asset changes, then validates the "
               "marts with Great Expectations and writes the auditor report.",
    )
    def build_marts():
        @task
        def begin(run_id=None) -> int:
            from ingestion.runs import start_run

            return start_run("dag", name=run_name(run_id))

        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(dbt_project_path=DBT_PROJECT, manifest_path=manifest,
                                         install_dbt_deps=False),
            profile_config=ProfileConfig(profile_name="lumbung", target_name="default",
                                         profiles_yml_filepath=DBT_PROJECT / "profiles.yml"),
            execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                             invocation_mode=InvocationMode.DBT_RUNNER),
            # a test between two models (relationships) runs once both are built, in its own
            # task, instead of with whichever model happens to build first
            render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST,
                                       test_behavior=TestBehavior.BUILD, emit_datasets=False,
                                       should_detach_multiple_parents_tests=True),
            operator_args={"pre_execute": use_warehouse_credentials,
                           "callback": record_dbt_task},
        )

        @task
        def validate_marts(lumbung_run: int) -> dict:
            from ingestion.marts_check import validate_marts as run

            outcome = run(run_id=lumbung_run)
            if not outcome.success:
                failed = [s["suite_name"] for s in outcome.suites if not s["success"]]
                raise ValueError(f"mart validations failed: {', '.join(failed)}; see "
                                 f"{outcome.report}")
            return {"success": True, "report": outcome.report}

        @task(trigger_rule="all_done")
        def report(ti=None, run_id=None) -> str:
            from ingestion import runs
            from ingestion.report import write_report

            lumbung_run = runs.start_run("dag", name=run_name(run_id))  # the one begin made
            validated = ti.xcom_pull(task_ids="validate_marts")  # None: dbt or checks failed
            runs.finish_run(lumbung_run, "success" if validated else "failed")
            page = write_report(lumbung_run)
            if not validated:  # the report is written either way; the DAG run still fails
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(f"dbt or the mart validations failed; see {page}")
            return str(page)

        started = begin()
        started >> dbt
        checked = validate_marts(started)
        dbt >> checked >> report()

    return build_marts()
