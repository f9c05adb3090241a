"""Airflow DAG ingest_trainings.

New files of inbox/trainings/ loaded once, one task per file; an Asset event when rows landed.
"""

from ingestion.orchestration import ingest_dag

ingest_trainings = ingest_dag("trainings")
