"""Airflow DAG build_marts.

dbt through Cosmos (a task per model) on any raw Asset event, then mart validations and the
auditor report.
"""

from ingestion.orchestration import build_marts_dag

build_marts = build_marts_dag()
