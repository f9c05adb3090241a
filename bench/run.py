"""`make bench` (SPEC 9): every figure beside its baseline, measured in the same run.

Generates (fixed seed, cached under bench/data/) a PMM workbook of 1,000,000 data rows and one
of 100,000 (title rows, a `per <date>` line, regency spellings, 2% invalid rows), then measures
in fresh processes:
  1. `lumbung ingest` end to end (read, normalise, validate, load, audit), 3 times per size;
  2. the hand-written baseline (bench/baseline.py: pandas + openpyxl, row rules in Python,
     DataFrame.to_sql), once at 1M rows;
  3. the floor (bench/floor.py: Lumbung's reader, then a bare COPY), 3 times per size;
and `lumbung transform` after one new national snapshot on top of ten against `--full-refresh`
(3 times each; bench/national.py: 500,000 rows per snapshot, the same teachers week after
week, all 514 regencies), the DAG folder's parse time and ingest's peak RSS. Prints a table,
writes bench/results.json, and ends with the ratios.

Usage: python bench/run.py [--scale F]   (F < 1 shrinks every size, to try the bench quickly)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
HOME = ROOT / "bench" / ".home"
SEED = 9
SNAPSHOT = dt.date(2022, 12, 23)
RUNS = 3
TARGETS = {"ingest_vs_baseline": (">=", 10), "ingest_vs_floor": ("<=", 2.0),
           "scaling_1m_vs_100k": ("<=", 12), "incremental_vs_full": (">=", 3),
           "dag_parse_s": ("<", 2.0), "ingest_peak_rss_mib": ("<", 2048)}


def workbook(rows: int, snapshot: dt.date = SNAPSHOT) -> Path:
    from ingestion import samples

    path = DATA / f"pmm_{rows}_{snapshot:%Y%m%d}_s{SEED}.xlsx"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        body = samples.pmm_rows(seed=SEED + snapshot.toordinal(), n=rows, invalid_share=0.02)
        title = ["Rekap Progres Pelatihan Mandiri",
                 f"Data per {samples.indonesian_date(snapshot)}"]
        partial = path.with_suffix(".partial" + path.suffix)
        samples.write_table(partial, {"Progres PMM": samples.titled(title, body)})
        partial.rename(path)
        print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def national_snapshot(rows: int, week: int) -> Path:
    """The national PMM export of WEEK weeks after the first, as csv (cached)."""
    import national

    day = SNAPSHOT + dt.timedelta(days=7 * week)
    path = DATA / f"national_{rows}_{day:%Y%m%d}_s{SEED}.csv"
    if not path.exists():
        started = time.perf_counter()
        national.write(path, rows, day, week)
        print(f"  generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def child(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ARGS in a fresh process: (wall seconds, peak RSS in MiB, its output)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True,
                                   env=env or dict(os.environ), cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        sys.exit(f"{' '.join(args[:4])}... failed ({process.returncode}):\n{text[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, text


def lumbung(*args: str) -> list[str]:
    return [sys.executable, "-m", "ingestion.cli", *args]


def empty_pmm() -> None:
    from ingestion import warehouse

    with warehouse.connect() as conn:
        conn.execute("truncate raw.pmm_progress, quarantine.pmm_progress, "
                     "audit.validation_results, audit.dbt_results, audit.runs, audit.loads")
        conn.commit()


def stats(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": len(times), "all": [round(t, 3) for t in times]}


def measure_ingest(path: Path) -> tuple[list[float], list[float], dict]:
    times, rss, last = [], [], {}
    for _ in range(RUNS):
        empty_pmm()
        elapsed, peak, out = child(lumbung("ingest", "pmm_progress", str(path), "--json"))
        times.append(elapsed)
        rss.append(peak)
        last = json.loads(out.strip().splitlines()[-1])
    return times, rss, last


def measure_floor(path: Path, url: str) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(RUNS):
        elapsed, _, out = child([sys.executable, str(ROOT / "bench" / "floor.py"), str(path),
                                 url])
        times.append(elapsed)
        rows = json.loads(out.strip().splitlines()[-1])["rows"]
    return times, rows


def measure_transform(rows: int) -> dict:
    """Ten snapshots loaded and built; then, three times, one new snapshot and an incremental
    `lumbung transform`; then three `--full-refresh` builds of the same warehouse."""
    empty_pmm()
    for week in range(10):
        child(lumbung("ingest", "pmm_progress", str(national_snapshot(rows, week))))
    child(lumbung("transform"))
    incremental = []
    for week in range(10, 10 + RUNS):
        child(lumbung("ingest", "pmm_progress", str(national_snapshot(rows, week))))
        incremental.append(child(lumbung("transform"))[0])
    full = [child(lumbung("transform", "--full-refresh"))[0] for _ in range(RUNS)]
    return {"snapshot_rows": rows, "incremental": stats(incremental), "full": stats(full)}


def measure_dag_parse() -> dict:
    from ingestion.transform import write_manifest

    write_manifest()
    airflow_home = HOME / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AIRFLOW_HOME": str(airflow_home),
           "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
           "AIRFLOW__COSMOS__CACHE_DIR": str(airflow_home / "cosmos")}
    code = ("import time, airflow\nfrom airflow.dag_processing.dagbag import DagBag\n"
            "t = time.perf_counter(); bag = DagBag(dag_folder='dags')\n"
            "print(time.perf_counter() - t, len(bag.dag_ids), len(bag.import_errors))")
    times = []
    for _ in range(RUNS):
        out = child([sys.executable, "-c", code], env)[2].strip().splitlines()[-1].split()
        if out[2] != "0":
            sys.exit("the DAG folder has import errors")
        times.append(float(out[0]))
    return stats(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    big, small = int(1_000_000 * args.scale), int(100_000 * args.scale)
    snapshot_rows = int(500_000 * args.scale)
    began = time.perf_counter()

    shutil.rmtree(HOME, ignore_errors=True)
    os.environ["LUMBUNG_HOME"] = str(HOME)
    os.environ.pop("LUMBUNG_WAREHOUSE_URL", None)
    os.environ["LUMBUNG_MAX_ROWS"] = str(max(big * 2, 5_000_000))
    os.environ["LUMBUNG_MAX_FILE_MB"] = "1000"
    from ingestion import warehouse

    print("workbooks", flush=True)
    paths = {small: workbook(small), big: workbook(big)}
    url = warehouse.up()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                     "rows": {"small": small, "big": big}, "ingest": {}, "floor": {}}
    try:
        for rows, path in paths.items():
            print(f"ingest {rows:,}", flush=True)
            times, rss, last = measure_ingest(path)
            results["ingest"][rows] = {**stats(times), "peak_rss_mib": max(rss),
                                       "rows_loaded": last["rows_loaded"],
                                       "rows_quarantined": last["rows_quarantined"]}
            print(f"floor {rows:,}", flush=True)
            times, copied = measure_floor(path, url)
            results["floor"][rows] = {**stats(times), "rows": copied}
        print(f"baseline {big:,} (once)", flush=True)
        elapsed, rss, out = child([sys.executable, str(ROOT / "bench" / "baseline.py"),
                                   str(paths[big]), url])
        results["baseline"] = {"elapsed_s": elapsed, "peak_rss_mib": rss,
                               **json.loads(out.strip().splitlines()[-1])}
        # the comparison is fair only if both keep and drop the same rows
        results["baseline"]["same_rows_as_lumbung"] = (
            results["baseline"]["kept"] == results["ingest"][big]["rows_loaded"]
            and results["baseline"]["dropped"] == results["ingest"][big]["rows_quarantined"])
        print("transform: incremental against full refresh", flush=True)
        results["transform"] = measure_transform(snapshot_rows)
        print("DAG folder parse", flush=True)
        results["dag_parse"] = measure_dag_parse()
    finally:
        warehouse.down()

    ingest_big = results["ingest"][big]["median"]
    results["ratios"] = {
        "ingest_vs_baseline": results["baseline"]["elapsed_s"] / ingest_big,
        "ingest_vs_floor": ingest_big / results["floor"][big]["median"],
        "scaling_1m_vs_100k": ingest_big / results["ingest"][small]["median"],
        "incremental_vs_full": (results["transform"]["full"]["median"]
                                / results["transform"]["incremental"]["median"]),
        "dag_parse_s": results["dag_parse"]["median"],
        "ingest_peak_rss_mib": max(v["peak_rss_mib"] for v in results["ingest"].values()),
    }
    results["total_s"] = time.perf_counter() - began
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)


def print_table(results: dict) -> None:
    def line(name: str, s: dict) -> str:
        return (f"{name:<44} median {s['median']:8.2f} s   min {s['min']:8.2f}   "
                f"max {s['max']:8.2f}   ({s['runs']} runs)")

    print()
    for rows, s in results["ingest"].items():
        print(line(f"lumbung ingest, {rows:,} rows", s)
              + f"   peak RSS {s['peak_rss_mib']:.0f} MiB")
    for rows, s in results["floor"].items():
        print(line(f"floor (reader + bare COPY), {rows:,} rows", s))
    base = results["baseline"]
    print(f"{'baseline (pandas+openpyxl, rules, to_sql)':<44} {base['elapsed_s']:8.2f} s once"
          f"   kept {base['kept']:,}, dropped {base['dropped']:,}"
          f" ({'the same rows as' if base['same_rows_as_lumbung'] else 'NOT the same as'}"
          " lumbung ingest)")
    t = results["transform"]
    print(line(f"transform, incremental (+{t['snapshot_rows']:,} rows)", t["incremental"]))
    print(line("transform --full-refresh", t["full"]))
    print(line("DAG folder parse (DagBag)", results["dag_parse"]))
    print(f"total bench time {results['total_s'] / 60:.1f} min; bench/results.json written")
    print()
    for name, value in results["ratios"].items():
        op, target = TARGETS[name]
        met = {">=": value >= target, "<=": value <= target, "<": value < target}[op]
        print(f"{name} = {value:.2f}   (target {op} {target}: {'met' if met else 'NOT MET'})")


if __name__ == "__main__":
    main()
