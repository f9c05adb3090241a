"""Airflow on a laptop (SPEC 8): its metadata database in the embedded PostgreSQL (a second
database, `airflow`, owned by its own role), LocalExecutor, and `lumbung airflow up|down`
starting and stopping the API server, scheduler, DAG processor and triggerer.

Everything Airflow needs is environment, computed here from LUMBUNG_HOME: Airflow reads its
settings when first imported, so `configure()` runs before any `import airflow`. Secrets (the
metadata role's password, the JWT secret the API server and the workers share) are generated
once, 0600, under LUMBUNG_HOME/airflow. With an external warehouse, Airflow's metadata database
is whatever AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names: Lumbung creates databases only in the
server it runs itself.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from ingestion import warehouse
from ingestion.errors import LumbungError, UsageError
from ingestion.settings import Settings, settings

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "dags"
METADATA_DB = "airflow"
METADATA_ROLE = "airflow_metadata"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
DEFAULT_PORT = 8080


def home(cfg: Settings) -> Path:
    return cfg.home / "airflow"


def _secret(path: Path) -> str:
    """A random secret kept in PATH (created 0600 the first time)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def port() -> int:
    raw = os.environ.get("LUMBUNG_AIRFLOW_PORT") or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise UsageError(f"LUMBUNG_AIRFLOW_PORT must be a port number, not {raw!r}.")
    return int(raw)


def metadata_url(cfg: Settings) -> str:
    """Airflow's SQLAlchemy URL: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN when set, else the
    `airflow` database of the embedded server (created, with its role, on first use)."""
    configured = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if configured:
        return configured
    if not cfg.embedded:
        raise UsageError("LUMBUNG_WAREHOUSE_URL points at an external warehouse: set "
                         "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to Airflow's metadata database.")
    server = warehouse.server(cfg)
    warehouse.up(cfg)
    password = _secret(home(cfg) / "metadata.password")
    _ensure_metadata_database(server, password)
    # psycopg 3 serves Airflow's sync and async engines alike (no asyncpg needed)
    return (f"postgresql+psycopg://{METADATA_ROLE}:{quote(password, safe='')}"
            f"@127.0.0.1:{server.port}/{METADATA_DB}")


def _ensure_metadata_database(server: warehouse.EmbeddedServer, password: str) -> None:
    import psycopg
    from psycopg import sql

    admin = server.url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        role = sql.Identifier(METADATA_ROLE)
        if conn.execute("select 1 from pg_roles where rolname = %s",
                        (METADATA_ROLE,)).fetchone() is None:
            conn.execute(sql.SQL("create role {} login password {}").format(
                role, sql.Literal(password)))
        if conn.execute("select 1 from pg_database where datname = %s",
                        (METADATA_DB,)).fetchone() is None:
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(METADATA_DB), role))


def environment(cfg: Settings | None = None) -> dict[str, str]:
    """The environment every Airflow process (and `dag.test()`) runs with."""
    cfg = cfg or settings()
    folder = home(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    api = f"http://127.0.0.1:{port()}"
    metadata = metadata_url(cfg)
    # psycopg 3 serves async too; for any other driver Airflow derives its async URL itself
    asynchronous = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC") or (
        metadata if metadata.startswith("postgresql+psycopg://") else None)
    env = {
        "AIRFLOW_HOME": str(folder),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # an inbox is watched at once
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(folder / "jwt.secret"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(folder / "cosmos"),
        "LUMBUNG_HOME": str(cfg.home),
        "LUMBUNG_INBOX": str(cfg.inbox),
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if asynchronous:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = asynchronous
    return env


def configure(cfg: Settings | None = None) -> dict[str, str]:
    """Put Airflow's environment into this process (before Airflow is imported), migrate the
    metadata database and write the dbt manifest `build_marts` renders from."""
    from ingestion.transform import write_manifest

    cfg = cfg or settings()
    env = environment(cfg)
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise LumbungError("Airflow was imported before Lumbung configured it.")
    os.environ.update(env)
    write_manifest(cfg)
    _airflow(["db", "migrate"], env, timeout=600)
    return env


def _airflow(args: list[str], env: dict[str, str], timeout: float) -> None:
    result = subprocess.run([_airflow_bin(), *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise LumbungError(f"`airflow {' '.join(args)}` failed: {' '.join(tail)}")


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


# ---------------------------------------------------------------------------------------------
# lumbung airflow up | down


def _pid_file(cfg: Settings, component: str) -> Path:
    return home(cfg) / "run" / f"{component}.pid"


def alive(pid: int) -> bool:
    """True while PID runs; a zombie (exited, not yet reaped by a parent that is not us) is
    not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def running(cfg: Settings | None = None) -> dict[str, int]:
    cfg = cfg or settings()
    out = {}
    for component in COMPONENTS:
        path = _pid_file(cfg, component)
        if path.exists():
            pid = int(path.read_text().strip() or 0)
            if pid and alive(pid):
                out[component] = pid
    return out


def up(cfg: Settings | None = None, wait_s: float = 120) -> str:
    """Start whatever of the four components is not running; return the UI address."""
    cfg = cfg or settings()
    env = configure(cfg)
    already = running(cfg)
    logs = home(cfg) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (home(cfg) / "run").mkdir(parents=True, exist_ok=True)
    address = f"http://127.0.0.1:{port()}"
    if "api-server" not in already and warehouse.accepts_connections(port()):
        raise UsageError(f"Port {port()} is taken by another program: set "
                         "LUMBUNG_AIRFLOW_PORT to a free port.")
    for component in COMPONENTS:
        if component in already:
            continue
        args = [_airflow_bin(), component]
        if component == "scheduler":  # the same command, with dbt and GX imported once
            args = [sys.executable, "-m", "ingestion.airflow_scheduler"]
        if component == "api-server":
            args += ["--host", "127.0.0.1", "--port", str(port())]
        with open(logs / f"{component}.log", "ab") as log:
            process = subprocess.Popen(args, env={**os.environ, **env}, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, cwd=home(cfg))
        _pid_file(cfg, component).write_text(str(process.pid))
    deadline = time.monotonic() + wait_s
    while not _healthy(address):
        if time.monotonic() > deadline:
            raise LumbungError(f"The Airflow API server did not answer at {address} within "
                               f"{wait_s:.0f} s; see {logs / 'api-server.log'}.")
        dead = [c for c in COMPONENTS if c not in running(cfg)]
        if dead:
            raise LumbungError(f"Airflow's {dead[0]} stopped at start; see "
                               f"{logs / (dead[0] + '.log')}.")
        time.sleep(1)
    return address


def down(cfg: Settings | None = None, wait_s: float = 30) -> list[str]:
    """Stop the components `up` started, with every process of their groups (LocalExecutor's
    workers and running tasks too); the names stopped."""
    cfg = cfg or settings()
    started = running(cfg)
    for pid in started.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while any(group_alive(pid) for pid in started.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in started.values():
        if group_alive(pid):  # a task that would not stop: killed, as a crashed worker would be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(group_alive(pid) for pid in started.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for component in COMPONENTS:
        _pid_file(cfg, component).unlink(missing_ok=True)
    return list(started)


def group_alive(pgid: int) -> bool:
    """True while any process of process group PGID runs (zombies aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def passwords_file(cfg: Settings | None = None) -> Path:
    return home(cfg or settings()) / "simple_auth_manager_passwords.json.generated"


def _healthy(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"{address}/api/v2/monitor/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# DAG runs in this process (`lumbung demo`)


def test_dags(dag_ids: list[str], cfg: Settings | None = None,
              log: Path | None = None) -> dict[str, str]:
    """Run each DAG once with `dag.test()`, in order, in this process, against the metadata
    database of `configure()`; Airflow's own log lines go to LOG. Returns {dag_id: state}."""
    cfg = cfg or settings()
    configure(cfg)
    log = log or home(cfg) / "logs" / "dag-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    states = {}
    with open(log, "a", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER))
        if bag.import_errors:
            path, error = next(iter(bag.import_errors.items()))
            raise LumbungError(f"The DAG file {Path(path).name} does not import: "
                               f"{error.strip().splitlines()[-1]}")
        for dag_id in dag_ids:
            states[dag_id] = str(bag.dags[dag_id].test().state)
    return states
