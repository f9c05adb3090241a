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
        conn.execute(f"truncate {', '.join(tables)}, audit.loads")
        conn.commit()
        yield conn


@pytest.fixture
def inbox(lumbung_home, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "inbox"
    monkeypatch.setenv("LUMBUNG_INBOX", str(folder))
    return folder
