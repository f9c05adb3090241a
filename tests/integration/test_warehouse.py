"""The embedded warehouse's lifecycle: idempotent up, init and down, nothing lost."""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from ingestion import samples, warehouse
from ingestion.settings import settings
from tests.helpers import run_cli


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """A second LUMBUNG_HOME with its own server, stopped at the end."""
    home = tmp_path / "home"
    monkeypatch.setenv("LUMBUNG_HOME", str(home))
    monkeypatch.delenv("LUMBUNG_WAREHOUSE_URL", raising=False)
    yield home
    warehouse.down(settings())


def test_up_init_down_up_are_idempotent_and_keep_data(own_home, tmp_path):
    assert run_cli("warehouse", "up")[0] == 0
    code, out, _ = run_cli("warehouse", "up")
    assert code == 0 and out.startswith("postgresql://")
    port = json.loads((own_home / "warehouse.json").read_text())["port"]
    assert f"127.0.0.1:{port}/" in out
    assert run_cli("warehouse", "init")[0] == 0
    code, out, _ = run_cli("warehouse", "init")
    assert code == 0 and "nothing new" in out

    path = samples.write_table(tmp_path / "a.csv", {"d": samples.cohort_rows(n=4)})
    assert run_cli("ingest", "cohorts", path)[0] == 0
    assert run_cli("warehouse", "down")[1].strip() == "The warehouse was stopped."
    assert run_cli("warehouse", "down")[1].strip() == "The warehouse was not running."
    assert run_cli("warehouse", "up")[0] == 0
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from raw.cohorts").fetchone()[0] == 4
        migrations = conn.execute("select count(*) from audit.schema_migrations").fetchone()[0]
        assert migrations == len(warehouse.migrations())
    # the port is kept across restarts: two checkouts never trade ports
    assert json.loads((own_home / "warehouse.json").read_text())["port"] == port


def test_commands_start_the_server_on_demand(own_home, tmp_path):
    path = samples.write_table(tmp_path / "a.csv", {"d": samples.alumni_rows(n=2)})
    assert run_cli("ingest", "alumni_surveys", path)[0] == 0  # no `up` first
    assert warehouse.server(settings()).running()


def test_server_listens_on_loopback_only_with_passwords(own_home):
    warehouse.up()
    with warehouse.connect() as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
        assert conn.execute("show TimeZone").fetchone()[0] == "Asia/Jakarta"
    port = json.loads((own_home / "warehouse.json").read_text())["port"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://lumbung:wrong@127.0.0.1:{port}/lumbung",
                        connect_timeout=5)
    assert (own_home / "owner.password").stat().st_mode & 0o777 == 0o600


def test_schemas_and_roles_exist_with_their_grants(own_home, monkeypatch):
    monkeypatch.setenv("LUMBUNG_BI_READER_PASSWORD", "s3cret-bi")
    warehouse.up()
    with warehouse.connect() as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        assert {"raw", "quarantine", "audit", "staging", "intermediate", "snapshots", "marts",
                "pii"} <= schemas
        roles = {r[0] for r in conn.execute("select rolname from pg_roles")}
        assert {"lumbung_loader", "lumbung_transformer", "bi_reader", "auditor",
                "ops_reader"} <= roles
        can = conn.execute(
            "select has_schema_privilege('bi_reader', 'marts', 'usage'),"
            " has_schema_privilege('bi_reader', 'raw', 'usage'),"
            " has_schema_privilege('ops_reader', 'pii', 'usage'),"
            " has_schema_privilege('auditor', 'pii', 'usage'),"
            " has_table_privilege('lumbung_loader', 'raw.cohorts', 'insert'),"
            " has_table_privilege('auditor', 'quarantine.cohorts', 'select')").fetchone()
        assert can == (True, False, True, False, True, True)
    port = json.loads((own_home / "warehouse.json").read_text())["port"]
    with psycopg.connect(f"postgresql://bi_reader:s3cret-bi@127.0.0.1:{port}/lumbung") as bi:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("select * from raw.cohorts")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs the server's own user")
def test_as_root_the_server_runs_as_its_own_user(own_home):
    import pwd

    warehouse.up()
    owner = pwd.getpwuid((own_home / "pgdata").stat().st_uid).pw_name
    assert owner == warehouse.SERVER_USER
