"""Freshness (SPEC 9): with `lumbung airflow up` running, drop a 10,000-row PMM workbook into the
inbox and time how long until the marts show its snapshot.

Usage (with the same LUMBUNG_HOME as the running Airflow):
    lumbung airflow up
    python bench/freshness.py [ROWS] [RUNS]
Each run drops a new workbook with the next week's snapshot; the last line gives the median
and the worst of the runs.
The clock starts when the file lands in inbox/pmm_progress/ and stops when
marts.pmm_regency_ranking has rows for the workbook's snapshot date; the phases in between
(Airflow picking the file up, the load, the Asset event, the Cosmos build) are read back from
audit.loads and the marts' own timestamps.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import sys
import time

TIMEOUT_S = 600


def main() -> None:
    from ingestion import airflow_local
    from ingestion.settings import settings

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    cfg = settings()
    if "scheduler" not in airflow_local.running(cfg):
        sys.exit("Airflow is not running for this LUMBUNG_HOME: run `lumbung airflow up` first.")
    times = [one_run(cfg, rows) for _ in range(runs)]
    print(f"freshness_s median {statistics.median(times):.1f}, worst {max(times):.1f} "
          f"over {runs} run(s) (target 90)")


def one_run(cfg, rows: int) -> float:
    from run import workbook  # bench/run.py: the bench's one generator of PMM workbooks

    from ingestion import warehouse

    with warehouse.connect(cfg) as conn:
        latest = conn.execute("select max(snapshot_date) from raw.pmm_progress").fetchone()[0]
    snapshot = max(latest or dt.date(2023, 1, 1), dt.date(2023, 1, 1)) + dt.timedelta(days=7)
    name = f"pmm_freshness_{snapshot:%Y%m%d}.xlsx"
    target = cfg.inbox / "pmm_progress" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(name + ".partial")  # not a spreadsheet name: the DAG skips it
    shutil.copyfile(workbook(rows, snapshot), partial)

    dropped = time.time()
    partial.rename(target)  # one rename in one folder: the DAG never sees half a file
    print(f"dropped {rows} rows as {target} (snapshot {snapshot}); waiting for the marts...")
    loaded_at = None
    while time.time() - dropped < TIMEOUT_S:
        with warehouse.connect(cfg) as conn:
            if loaded_at is None:
                row = conn.execute("select finished_at from audit.loads where file_name = %s "
                                   "and status = 'loaded'", (name,)).fetchone()
                if row:
                    loaded_at = row[0].timestamp()
                    print(f"  loaded after {loaded_at - dropped:5.1f} s")
            shown = conn.execute(
                "select count(*) from marts.pmm_regency_ranking where snapshot_date = %s",
                (snapshot,)).fetchone()[0]
        if shown:
            elapsed = time.time() - dropped
            print(f"  marts show it after {elapsed:5.1f} s "
                  f"({shown} regency rows for {snapshot})")
            return elapsed
        time.sleep(1)
    sys.exit(f"the marts did not show the file within {TIMEOUT_S} s")


if __name__ == "__main__":
    main()
