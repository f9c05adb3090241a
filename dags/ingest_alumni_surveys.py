"""Airflow DAG ingest_alumni_surveys.

New files of inbox/alumni_surveys/ loaded once, one task per file; an Asset event when rows landed.
"""

from ingestion.orchestration import ingest_dag

ingest_alumni_surveys = ingest_dag("alumni_surveys")
