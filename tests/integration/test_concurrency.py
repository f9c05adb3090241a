"""Loads racing in separate processes (SPEC 8, 10): the same bytes load once, the warehouse's
lock and unique index decide, not anybody's memory; different sources do not wait for each
other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ingestion import samples
from ingestion.loader import load_lock_name, sha256_of


def _start_ingest(source: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "ingest", source, str(path), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _finish(process: subprocess.Popen, timeout: float = 180) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    (result,) = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return result


def _hold(conn, source: str, path: Path) -> None:
    conn.execute("select pg_advisory_lock(hashtext(%s))",
                 (load_lock_name(source, sha256_of(path)),))


def _release(conn, source: str, path: Path) -> None:
    conn.execute("select pg_advisory_unlock(hashtext(%s))",
                 (load_lock_name(source, sha256_of(path)),))


def _waiting_on_advisory_locks(conn) -> int:
    return conn.execute("select count(*) from pg_locks where locktype = 'advisory' "
                        "and not granted").fetchone()[0]


def _wait_until(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_same_file_ingested_by_two_processes_at_once_loads_once(db, tmp_path):
    from ingestion import warehouse

    path = tmp_path / "pmm_per_race.xlsx"
    samples.write_table(path, {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(n=300))})
    # both processes read the file, then queue on the file's lock; released together, one
    # loads and the other finds the bytes loaded
    with warehouse.connect(autocommit=True) as gate:
        _hold(gate, "pmm_progress", path)
        first, second = _start_ingest("pmm_progress", path), _start_ingest("pmm_progress", path)
        _wait_until(lambda: _waiting_on_advisory_locks(gate) == 2)
        _release(gate, "pmm_progress", path)
        results = sorted([_finish(first), _finish(second)], key=lambda r: r["status"])
    assert [r["status"] for r in results] == ["duplicate", "loaded"]
    duplicate, loaded = results
    assert duplicate["duplicate_of"] == loaded["load_id"]
    assert db.execute("select count(*) from raw.pmm_progress").fetchone()[0] == 300
    assert db.execute("select status, count(*) from audit.loads group by status "
                      "order by status").fetchall() == [("duplicate", 1), ("loaded", 1)]


def test_two_sources_load_at_the_same_time(db, tmp_path):
    from ingestion import warehouse

    cohorts, pmm = tmp_path / "angkatan.csv", tmp_path / "pmm_per.xlsx"
    samples.write_table(cohorts, {"d": samples.cohort_rows(n=40)})
    samples.write_table(pmm, {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(n=400))})
    with warehouse.connect(autocommit=True) as gate:
        # while a load of the cohorts file is held at its lock, the PMM file loads through
        _hold(gate, "cohorts", cohorts)
        blocked, free = _start_ingest("cohorts", cohorts), _start_ingest("pmm_progress", pmm)
        _wait_until(lambda: _waiting_on_advisory_locks(gate) == 1)
        assert _finish(free)["status"] == "loaded"
        assert blocked.poll() is None and _waiting_on_advisory_locks(gate) == 1
        _release(gate, "cohorts", cohorts)
        assert _finish(blocked)["status"] == "loaded"
    # and unhindered, two sources' loads overlap in time
    db.execute("truncate raw.cohorts, raw.pmm_progress, quarantine.cohorts, "
               "quarantine.pmm_progress, audit.validation_results, audit.loads")
    db.commit()
    both = [_start_ingest("cohorts", cohorts), _start_ingest("pmm_progress", pmm)]
    assert [_finish(p)["status"] for p in both] == ["loaded", "loaded"]
    (a_start, a_end), (b_start, b_end) = db.execute(
        "select started_at, finished_at from audit.loads order by source").fetchall()
    assert a_start < b_end and b_start < a_end


def test_four_processes_on_an_overlapping_set_of_twenty_files_load_each_once(db, tmp_path):
    """Each of 4 processes ingests 10 of 20 files, every file given to two of them, in
    different orders: every file loads once, the other process finds it loaded."""
    files = []
    for i in range(20):
        path = tmp_path / f"pmm_per_{i:02d}.csv"
        samples.write_table(path, {"d": samples.titled(
            [f"Data per {i + 1} Januari 2023"],
            samples.pmm_rows(seed=100 + i, n=60, invalid_share=0.03))})
        files.append(path)
    shares = [[files[(5 * p + k) % 20] for k in range(10)] for p in range(4)]
    shares = [share if p % 2 else share[::-1] for p, share in enumerate(shares)]
    processes = [subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "ingest", "pmm_progress",
         *map(str, share), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        for share in shares]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(results) == 40
    by_file: dict[str, list[str]] = {}
    for result in results:
        by_file.setdefault(result["file"], []).append(result["status"])
    assert len(by_file) == 20
    assert all(sorted(statuses) == ["duplicate", "loaded"] for statuses in by_file.values())
    loaded = [r for r in results if r["status"] == "loaded"]
    assert sum(r["rows_loaded"] + r["rows_quarantined"] for r in loaded) == 20 * 60
    db.rollback()
    assert db.execute("select status, count(*) from audit.loads group by status "
                      "order by status").fetchall() == [("duplicate", 20), ("loaded", 20)]
    assert db.execute("select count(*) from raw.pmm_progress").fetchone()[0] == sum(
        r["rows_loaded"] for r in loaded)
