"""Shared fixtures: one real embedded PostgreSQL per test session, emptied between tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(scope="session")
def lumbung_home(tmp_path_factory) -> Path:
    """A LUMBUNG_HOME for the whole session, with its embedded warehouse started once."""
    from ingestion import warehouse
    from ingestion.settings import settings

    home = tmp_path_factory.mktemp("lumbung_home")
    old = {k: os.environ.get(k) for k in ("LUMBUNG_HOME", "LUMBUNG_WAREHOUSE_URL",
                                            "LUMBUNG_INBOX", "LUMBUNG_PSEUDONYM_KEY")}
    os.environ["LUMBUNG_HOME"] = str(home)
    for key in ("LUMBUNG_WAREHOUSE_URL", "LUMBUNG_INBOX", "LUMBUNG_PSEUDONYM_KEY"):
        os.environ.pop(key, None)
    warehouse.up(settings())
    yield home
    warehouse.down(settings())
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def db(lumbung_home):
    """A clean warehouse for one test: raw, quarantine and audit.loads emptied."""
    from ingestion import warehouse
    from ingestion.contracts import SOURCES

    with warehouse.connect() as conn:
        tables = [f"raw.{s}" for s in SOURCES] + [f"quarantine.{s}" for s in SOURCES]
        conn.execute(f"truncate {', '.join(tables)}, audit.validation_results, audit.loads, "
                     "audit.dbt_results, audit.runs")
        conn.commit()
        yield conn
        conn.rollback()
        assert_reconciled(conn)


def assert_reconciled(conn) -> None:
    """Every load of the test adds up: read = loaded + quarantined, the warehouse holds exactly
    those rows, and every quarantined row says why (SPEC 4)."""
    from ingestion.contracts import SOURCES

    loads = conn.execute(
        "select load_id, source, status, rows_read, rows_loaded, rows_quarantined "
        "from audit.loads").fetchall()
    for load_id, source, status, read, loaded, held in loads:
        assert read == loaded + held, load_id
        raw = conn.execute(f"select count(*) from raw.{source} where _load_id = %s",
                           (load_id,)).fetchone()[0]
        quarantined = conn.execute(
            f"select count(*), count(*) filter (where cardinality(reasons) = 0) "
            f"from quarantine.{source} where _load_id = %s", (load_id,)).fetchone()
        assert (raw, quarantined[0], quarantined[1]) == (loaded, held, 0), (load_id, status)
        if status != "loaded":
            assert raw == 0, load_id
    for source in SOURCES:
        orphans = conn.execute(
            f"select count(*) from raw.{source} r where not exists "
            f"(select from audit.loads l where l.load_id = r._load_id)").fetchone()[0]
        assert orphans == 0, source


@pytest.fixture
def inbox(lumbung_home, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "inbox"
    monkeypatch.setenv("LUMBUNG_INBOX", str(folder))
    return folder
