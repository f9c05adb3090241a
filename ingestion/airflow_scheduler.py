"""The scheduler `lumbung airflow up` starts: Airflow's own `airflow scheduler`, with the heavy
libraries its tasks use (dbt, Cosmos, Great Expectations) imported once beforehand.

LocalExecutor forks its workers from the scheduler and every task from a worker, so each task
starts with those modules already in memory instead of importing them again (about 3 s for dbt
and 5 s for Great Expectations per task on a 2-core laptop), which is most of what a small
file's trip from the inbox to the marts costs.
"""

from __future__ import annotations

import sys


def preload() -> None:
    import cosmos  # noqa: F401
    import dbt.cli.main  # noqa: F401

    from ingestion import validate

    validate.import_gx()


def main() -> None:
    preload()
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", "scheduler", *sys.argv[1:]]
    airflow()


if __name__ == "__main__":
    main()
