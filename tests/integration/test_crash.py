"""A loader killed with `kill -9` at any point leaves no partial load, and the rerun loads the
file exactly once (SPEC 10); a transform killed mid-build leaves the marts queryable.

Each run is a real `lumbung ingest` process; LUMBUNG_PAUSE_AT (ingestion/faults.py) holds it
at a named moment and the test sends SIGKILL from outside. LUMBUNG_CRASH_ROWS sets the file's
size: a few thousand rows here, hundreds of thousands under `make stress`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion import samples
from ingestion.faults import POINTS
from ingestion.loader import sha256_of
from tests.integration.test_concurrency import _wait_until

ROWS = int(os.environ.get("LUMBUNG_CRASH_ROWS", "3000"))


def _ingest(path: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "ingest", "pmm_progress", str(path), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})})


def _killed_at(point: str, path: Path, marker: Path) -> None:
    """Start an ingest of PATH, wait until it stops at POINT, kill -9 it."""
    process = _ingest(path, {"LUMBUNG_PAUSE_AT": point, "LUMBUNG_PAUSE_FILE": str(marker)})
    try:
        _wait_until(lambda: marker.exists() or process.poll() is not None, timeout=300)
        assert process.poll() is None, process.communicate()[1]
        assert marker.read_text().split()[0] == point
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _held(db, digest: str) -> tuple[int, int, list[str]]:
    """Rows of these bytes in raw and quarantine, and the statuses audit.loads gives them."""
    db.rollback()
    statuses = [s for (s,) in db.execute(
        "select status from audit.loads where sha256 = %s order by load_id", (digest,))]
    loaded = db.execute("select count(*) from raw.pmm_progress r join audit.loads l "
                        "on l.load_id = r._load_id where l.sha256 = %s", (digest,)).fetchone()[0]
    held = db.execute("select count(*) from quarantine.pmm_progress q join audit.loads l "
                      "on l.load_id = q._load_id where l.sha256 = %s", (digest,)).fetchone()[0]
    return loaded, held, statuses


def _no_session_left_behind(db) -> None:
    """The killed process's transaction is gone: nothing idle in a transaction, no lock."""
    def settled() -> bool:
        db.rollback()
        return db.execute(
            "select count(*) from pg_stat_activity where state like 'idle in transaction%' "
            "and pid <> pg_backend_pid()").fetchone()[0] == 0 and db.execute(
            "select count(*) from pg_locks where locktype = 'advisory'").fetchone()[0] == 0
    _wait_until(settled, timeout=30)


@pytest.mark.parametrize("point", POINTS)
def test_a_load_killed_at_any_point_loads_exactly_once_on_rerun(db, inbox, tmp_path, point):
    folder = inbox / "pmm_progress"
    path = folder / f"pmm_per_{point}.xlsx"
    samples.write_table(path, {"PMM": samples.titled(
        ["Data per 23 Desember 2022"],
        samples.pmm_rows(seed=len(point), n=ROWS, invalid_share=0.02))})
    digest = sha256_of(path)

    _killed_at(point, path, tmp_path / "paused")
    _no_session_left_behind(db)
    loaded, held, statuses = _held(db, digest)
    if point == "after_commit":  # committed: loaded once; the file was not filed away yet
        assert statuses == ["loaded"] and loaded + held == ROWS and held > 0
    else:                        # nothing of the load stays: no rows, no audit row
        assert (loaded, held, statuses) == (0, 0, [])
    assert path.exists() and not (folder / "loaded").exists()

    rerun = _ingest(path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == ("duplicate" if point == "after_commit" else "loaded")
    after_loaded, after_held, after_statuses = _held(db, digest)
    assert after_loaded + after_held == ROWS and after_statuses.count("loaded") == 1
    if point == "after_commit":  # the duplicate added nothing
        assert (after_loaded, after_held) == (loaded, held)
    # the file ends in loaded/ once, and nowhere else
    assert not path.exists()
    assert sorted(p.name for p in (folder / "loaded").iterdir()) == (
        [path.name, path.name + ".duplicate.txt"] if point == "after_commit" else [path.name])


def test_a_transform_killed_mid_build_leaves_queryable_marts_and_reruns(db, tmp_path):
    from ingestion import warehouse

    path = tmp_path / "pmm_per_transform.xlsx"
    samples.write_table(path, {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(n=ROWS))})
    assert _ingest(path).wait(timeout=300) == 0
    first = subprocess.run([sys.executable, "-m", "ingestion.cli", "transform"],
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    with warehouse.connect() as conn:
        before = conn.execute("select count(*) from marts.fct_pmm_progress").fetchone()[0]
    assert before > 0

    # a second snapshot, and a transform killed while dbt rebuilds the fact
    later = tmp_path / "pmm_per_later.xlsx"
    samples.write_table(later, {"PMM": samples.titled(
        ["Data per 30 Desember 2022"], samples.pmm_rows(n=ROWS))})
    assert _ingest(later).wait(timeout=300) == 0
    log = Path(os.environ["LUMBUNG_HOME"]) / "dbt" / "logs" / "dbt.log"
    seen = log.stat().st_size
    build = subprocess.Popen([sys.executable, "-m", "ingestion.cli", "transform"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def building_the_fact() -> bool:
        with log.open("rb") as fh:
            fh.seek(seen)
            return b"START sql incremental model marts.fct_pmm_progress" in fh.read()
    try:
        _wait_until(lambda: building_the_fact() or build.poll() is not None, timeout=300)
        assert build.poll() is None
        os.kill(build.pid, signal.SIGKILL)
    finally:
        build.wait(timeout=60)
    _no_session_left_behind(db)
    per_date = ("select snapshot_date, count(*) from marts.fct_pmm_progress "
                "group by snapshot_date order by snapshot_date")
    with warehouse.connect() as conn:  # the marts answer; each model's write is all or nothing
        killed = dict(conn.execute(per_date).fetchall())
        assert conn.execute("select count(*) from marts.pmm_regency_ranking").fetchone()[0] > 0
    rerun = subprocess.run([sys.executable, "-m", "ingestion.cli", "transform"],
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    with warehouse.connect() as conn:
        rebuilt = dict(conn.execute(per_date).fetchall())
    assert len(rebuilt) == 2 and sum(rebuilt.values()) > before
    # no snapshot date half-built: whatever the kill left equals what the rerun holds
    assert killed == {day: rebuilt[day] for day in killed} and sum(killed.values()) >= before


def test_the_warehouse_stopping_mid_load_exits_3_and_the_rerun_loads_once(lumbung_home,
                                                                         tmp_path):
    from ingestion import warehouse

    path = tmp_path / "pmm_per_down.xlsx"
    samples.write_table(path, {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(seed=77, n=ROWS))})
    digest = sha256_of(path)
    marker = tmp_path / "paused"
    process = _ingest(path, {"LUMBUNG_PAUSE_AT": "copy", "LUMBUNG_PAUSE_FILE": str(marker)})
    try:
        _wait_until(lambda: marker.exists() or process.poll() is not None, timeout=300)
        assert process.poll() is None, process.communicate()[1]
        warehouse.down()              # the server goes away while rows are in flight
        marker.unlink()               # and the load goes on
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
        warehouse.up()
    assert process.returncode == 3, err
    sentence = err.strip()
    assert len(sentence.splitlines()) == 1 and "warehouse" in sentence.lower(), sentence
    assert "Traceback" not in out + err
    with warehouse.connect() as conn:
        held = conn.execute("select count(*) from audit.loads where sha256 = %s",
                            (digest,)).fetchone()[0]
        rows = conn.execute("select count(*) from raw.pmm_progress r join audit.loads l on "
                            "l.load_id = r._load_id where l.sha256 = %s", (digest,)).fetchone()
    assert (held, rows[0]) == (0, 0)  # nothing half-loaded
    rerun = _ingest(path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "loaded"
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from raw.pmm_progress where _load_id = %s",
                            (result["load_id"],)).fetchone()[0] == result["rows_loaded"]
