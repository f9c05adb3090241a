"""Airflow for the DAG tests: its own AIRFLOW_HOME and a sqlite metadata database, set before
Airflow is first imported (it reads its settings at import)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_HOME = ROOT / ".pytest_airflow"  # pytest wipes .pytest_tmp after collection
_HOME.mkdir(parents=True, exist_ok=True)
os.environ.update({
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__COSMOS__CACHE_DIR": str(_HOME / "cosmos"),
})


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils.db import resetdb

    resetdb()
    yield


@pytest.fixture
def asset_events():
    """Read the asset events back: [(uri, extra, source_dag_id)]."""
    def read():
        from airflow.models.asset import AssetEvent, AssetModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            return [tuple(r) for r in session.execute(
                select(AssetModel.uri, AssetEvent.extra, AssetEvent.source_dag_id)
                .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                .order_by(AssetEvent.id))]
    return read


@pytest.fixture(scope="session")
def dbt_manifest(lumbung_home):
    """The manifest build_marts renders from, written the way `lumbung airflow up` does."""
    from ingestion.transform import write_manifest

    return write_manifest()


@pytest.fixture
def dag_bag(dbt_manifest):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag
