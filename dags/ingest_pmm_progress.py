"""Airflow DAG ingest_pmm_progress.

New files of inbox/pmm_progress/ loaded once, one task per file; an Asset event when rows landed.
"""

from ingestion.orchestration import ingest_dag

ingest_pmm_progress = ingest_dag("pmm_progress")
