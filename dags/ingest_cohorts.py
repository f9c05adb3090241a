"""Airflow DAG ingest_cohorts.

New files of inbox/cohorts/ loaded once, one task per file; an Asset event when rows landed.
"""

from ingestion.orchestration import ingest_dag

ingest_cohorts = ingest_dag("cohorts")
