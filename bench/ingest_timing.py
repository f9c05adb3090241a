"""Ingest timing on a generated 100,000-row PMM workbook (the foundation's figure).

Prints the median and spread of three `lumbung ingest` runs (a fresh process each time, end
to end: read, normalise, validate, load, audit) beside three runs of the reader alone on the
same file, and the Great Expectations checkpoint's own time within each ingest.
The full benchmark of SPEC 9 (1,000,000 rows, baseline, floor, ratios) builds on this.
Usage: python bench/ingest_timing.py [ROWS]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def workbook(rows: int) -> Path:
    from ingestion import samples

    path = DATA / f"pmm_{rows}.xlsx"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        body = samples.pmm_rows(seed=9, n=rows, invalid_share=0.02)
        samples.write_table(path, {"Progres PMM": samples.titled(
            ["Rekap Progres Pelatihan Mandiri", "Data per 23 Desember 2022"], body)})
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s")
    return path


def timed(fn, runs: int = 3) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def describe(name: str, times: list[float]) -> str:
    return (f"{name:<28} median {statistics.median(times):6.2f} s   "
            f"min {min(times):6.2f}   max {max(times):6.2f}   ({len(times)} runs)")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    home = ROOT / "bench" / ".home"
    shutil.rmtree(home, ignore_errors=True)
    os.environ["LUMBUNG_HOME"] = str(home)
    os.environ.pop("LUMBUNG_WAREHOUSE_URL", None)
    from ingestion import warehouse
    from ingestion.contracts import load_contract
    from ingestion.reader import read_file

    path = workbook(rows)
    warehouse.up()
    contract = load_contract("pmm_progress")
    reader = timed(lambda: read_file(path, contract, optional_required=["snapshot_date"]))

    results = []
    validation: list[float] = []

    def ingest() -> None:
        with warehouse.connect() as conn:
            conn.execute("truncate raw.pmm_progress, quarantine.pmm_progress, "
                         "audit.validation_results, audit.loads")
            conn.commit()
        done = subprocess.run(
            [sys.executable, "-m", "ingestion.cli", "ingest", "pmm_progress", str(path),
             "--json"], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout))
        with warehouse.connect() as conn:
            validation.append(conn.execute(
                "select elapsed_s from audit.validation_results").fetchone()[0])

    ingest_times = timed(ingest)
    warehouse.down()
    last = results[-1]
    print(f"{rows:,} data rows: read {last['rows_read']:,} = loaded {last['rows_loaded']:,} + "
          f"quarantined {last['rows_quarantined']:,}")
    print(describe("reader alone", reader))
    print(describe("lumbung ingest (process)", ingest_times))
    print(describe("  of which GX validation", validation))
    print(f"ingest / reader = {statistics.median(ingest_times) / statistics.median(reader):.2f}")


if __name__ == "__main__":
    main()
