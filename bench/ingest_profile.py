"""Where one ingest spends its time and memory: the profile behind `make bench`'s figures.

Runs `lumbung ingest pmm_progress WORKBOOK` in this process against the warehouse of
LUMBUNG_HOME (emptying its PMM tables first) and prints, per phase, when it started and ended,
and the resident set size (sampled every 5 ms) at its end and at its highest. The phases
overlap where Lumbung overlaps them (the COPY streams while GX validates). With `--cprofile`,
the 25 functions of Lumbung with the most cumulative time follow.

Usage: python bench/ingest_profile.py WORKBOOK [--cprofile]     (e.g. bench/data/pmm_1000000_*.xlsx)
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import sys
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

STAGES = {  # module: functions, in the order an ingest reaches them
    "ingestion.reader": ["_workbook_rows", "_read_sheet"],
    "ingestion.loader": ["read_file", "apply_contract", "_write_batch", "_copy_raw",
                         "_copy_quarantine", "_write_audit"],
    "ingestion.validate": ["validate_batch", "run_suite", "build_docs"],
}


def rss_mib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 // 2**20


class Sampler(threading.Thread):
    """The process's RSS every 5 ms: the highest since the last `take`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.highest = 0

    def run(self) -> None:
        while True:
            self.highest = max(self.highest, rss_mib())
            time.sleep(0.005)

    def take(self) -> int:
        highest, self.highest = self.highest, rss_mib()
        return highest


def instrument(began: float, sampler: Sampler, lines: list[str]) -> None:
    import importlib

    for module_name, names in STAGES.items():
        module = importlib.import_module(module_name)
        for name in names:
            original = getattr(module, name)

            @functools.wraps(original)
            def timed(*args, __original=original, __name=name, **kwargs):
                start = time.perf_counter() - began
                try:
                    return __original(*args, **kwargs)
                finally:
                    end = time.perf_counter() - began
                    lines.append(f"{__name:<18} {start:7.2f} -> {end:7.2f} s "
                                 f"({end - start:6.2f} s)   RSS at end {rss_mib():6,} MiB, "
                                 f"highest {sampler.take():6,} MiB")

            setattr(module, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()

    from ingestion import warehouse

    with warehouse.connect() as conn:
        conn.execute("truncate raw.pmm_progress, quarantine.pmm_progress, "
                     "audit.validation_results, audit.dbt_results, audit.runs, audit.loads")
        conn.commit()
    sampler = Sampler()
    sampler.start()
    lines: list[str] = []
    began = time.perf_counter()
    instrument(began, sampler, lines)
    from ingestion.cli import main as lumbung

    profile = cProfile.Profile() if args.cprofile else None
    sys.argv = ["lumbung", "ingest", "pmm_progress", str(args.workbook)]
    out = io.StringIO()
    if profile:
        profile.enable()
    try:
        with redirect_stdout(out):
            lumbung()
    except SystemExit:
        pass
    finally:
        if profile:
            profile.disable()
    total = time.perf_counter() - began
    print(out.getvalue().strip())
    print("\n".join(lines))
    print(f"{'total':<18} {total:7.2f} s")
    if profile:
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(r"ingestion/", 25)


if __name__ == "__main__":
    main()
