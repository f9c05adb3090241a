"""`lumbung`: the command line (SPEC 7). A thin shell: parse, call the package, print.

Exit status: 0 success; 1 the work was done but something failed its checks (a file rejected);
2 usage or configuration error; 3 warehouse unreachable or lost. The highest applicable wins.
Errors are one sentence on stderr; an unexpected failure's traceback goes to a log file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ingestion.contracts import SOURCES
from ingestion.errors import LumbungError, UsageError

OK, CHECKS_FAILED, USAGE, WAREHOUSE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one sentence, exit 2, like every usage error
        raise UsageError(f"{message[0].upper()}{message[1:]} (see `lumbung --help`).")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lumbung", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    wh = commands.add_parser("warehouse", help="start, stop, locate or initialise the warehouse")
    wh.add_argument("action", choices=["up", "down", "url", "init"])

    ingest = commands.add_parser("ingest", help="load spreadsheets of one source")
    ingest.add_argument("source", help=f"one of {', '.join(SOURCES)}")
    ingest.add_argument("paths", nargs="+", metavar="PATH",
                        help="files, or folders whose spreadsheets to load")
    ingest.add_argument("--as-of", type=_date, help="snapshot date when a PMM file has none")
    ingest.add_argument("--replaces", type=int, metavar="LOAD_ID",
                        help="this file supersedes that load whole")
    ingest.add_argument("--json", action="store_true", help="one JSON object per file")

    void = commands.add_parser("void", help="withdraw a load: its rows stop counting downstream")
    void.add_argument("load_id", type=int, metavar="LOAD_ID")
    void.add_argument("--why", required=True, metavar="TEXT", help="recorded in audit.loads")

    build = commands.add_parser("transform", help="dbt build of the marts, then their validation")
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    build.add_argument("--json", action="store_true")

    trace = commands.add_parser("trace", help="the spreadsheet rows behind a mart figure")
    trace.add_argument("mart")
    trace.add_argument("--where", action="append", default=[], metavar="COL=VALUE")
    trace.add_argument("--json", action="store_true")

    run = commands.add_parser("run", help="every new file in the inbox, then transform")
    run.add_argument("--inbox", type=Path, metavar="DIR", help="default: LUMBUNG_INBOX")
    run.add_argument("--json", action="store_true")

    fix = commands.add_parser("corrections",
                              help="a workbook of a load's quarantined rows, to send back")
    fix.add_argument("--load-id", type=int, help="default: the latest load with such rows")

    demo = commands.add_parser(
        "demo", help="sample spreadsheets of every source through the DAGs -> marts")
    demo.add_argument("--json", action="store_true")

    report = commands.add_parser("report", help="where a run's auditor report is (rewritten "
                                 "from the warehouse)")
    report.add_argument("--load-id", type=int, metavar="ID",
                        help="the report of the run that covers this load (default: the "
                             "latest run)")

    flow = commands.add_parser("airflow", help="start or stop Airflow on this machine")
    flow.add_argument("action", choices=["up", "down", "manifest"],
                      help="manifest: write the dbt manifest build_marts renders from")
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2022-12-23") from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _route_library_logs()
        return COMMANDS[args.command](args)
    except LumbungError as err:
        print(f"lumbung: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # `lumbung ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return OK
    except KeyboardInterrupt:
        print("lumbung: interrupted.", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one sentence here, the traceback in a log
        log = _log_crash()
        print(f"lumbung: unexpected {type(err).__name__}: {str(err).strip()[:300]} "
              f"(traceback in {log}).", file=sys.stderr)
        return CHECKS_FAILED


def _route_library_logs() -> None:
    """Libraries' warnings (psycopg's 'error ignored terminating Copy' when the server goes away,
    GX's, dbt's) go to LUMBUNG_HOME/logs/lumbung.log, so stderr keeps its one sentence."""
    import logging

    from ingestion.settings import settings

    root = logging.getLogger()
    if root.handlers:  # a host (Airflow, pytest) already decides where records go
        return
    folder = settings().home / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable home is said by the command that needs it, not here
        root.addHandler(logging.NullHandler())
        return
    handler = logging.FileHandler(folder / "lumbung.log", delay=True, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s "
                                           "%(message)s"))
    handler.setLevel(logging.WARNING)
    root.addHandler(handler)


def _log_crash() -> Path:
    from ingestion.settings import settings

    try:
        folder = settings().home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    except Exception:
        import tempfile

        path = Path(tempfile.gettempdir()) / "lumbung-crash.log"
    path.write_text(traceback.format_exc())
    return path


# ---------------------------------------------------------------------------------------------


def cmd_warehouse(args: argparse.Namespace) -> int:
    from ingestion import warehouse

    if args.action == "up":
        print(warehouse.up())
    elif args.action == "down":
        stopped = warehouse.down()
        print("The warehouse was stopped." if stopped else "The warehouse was not running.")
    elif args.action == "url":
        print(warehouse.url())
    elif args.action == "init":
        applied = warehouse.init(start=True)
        print("Initialised: " + (", ".join(applied) if applied else "nothing new to apply."))
    return OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingestion.contracts import load_contract

    load_contract(args.source)  # unknown source: usage error before anything else
    files = expand_paths([Path(p) for p in args.paths])
    from ingestion.runner import ingest_paths

    results = ingest_paths(args.source, files, as_of=args.as_of, replaces=args.replaces,
                           on_result=lambda r: _print_result(r, args.json))
    return OK if all(r.status != "rejected" for r in results) else CHECKS_FAILED


def cmd_void(args: argparse.Namespace) -> int:
    from ingestion.loader import void_load

    source, file_name, rows = void_load(args.load_id, args.why)
    print(f"Voided load {args.load_id} ({source}, {file_name}): its {rows} rows no longer count "
          "downstream once `lumbung transform` runs.")
    return OK


def cmd_transform(args: argparse.Namespace) -> int:
    from ingestion.transform import transform

    result = transform(full_refresh=args.full_refresh)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        built = sum(1 for s in result.models.values() if s == "success")
        t = result.tests
        print(f"{result.status}: {built} of {len(result.models)} models built; tests "
              f"{t['pass']} passed, {t['fail']} failed, {t['warn']} warned, {t['error']} errored "
              f"({result.elapsed_s:.1f} s).")
        if result.validation:
            verdict = "passed" if result.validation["success"] else "FAILED"
            print(f"Mart validations {verdict}: {result.validation['report']}")
        if result.report:
            print(f"Report: {result.report}")
        for failure in result.failures:
            print(f"  {failure}")
    return OK if result.status == "success" else CHECKS_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    import dataclasses

    from ingestion.runner import ingest_inbox
    from ingestion.settings import settings
    from ingestion.transform import transform

    cfg = settings()
    if args.inbox is not None:
        if not args.inbox.is_dir():
            raise UsageError(f"{args.inbox} is not a folder.")
        cfg = dataclasses.replace(cfg, inbox=args.inbox.resolve())
    results = ingest_inbox(cfg, on_result=lambda r: _print_result(r, args.json))
    built = transform(cfg, kind="run")
    if args.json:
        print(json.dumps(built.as_json(), ensure_ascii=False))
    else:
        print(_summary(results) if results else f"No new file in {cfg.inbox}.")
        print(f"Marts {built.status}; tests {built.tests['pass']} passed, "
              f"{built.tests['fail'] + built.tests['error']} failed. Report: {built.report}")
        for failure in built.failures:
            print(f"  {failure}")
    ok = all(r.status != "rejected" for r in results) and built.status == "success"
    return OK if ok else CHECKS_FAILED


def cmd_trace(args: argparse.Namespace) -> int:
    from ingestion.trace import parse_where, trace

    rows = trace(args.mart, parse_where(args.where))
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return OK
    header = ("source", "load_id", "source_file", "sheet", "row_number")
    table = [header] + [tuple("" if r[k] is None else str(r[k]) for k in header) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    print(f"({len(rows)} spreadsheet rows)")
    return OK


def cmd_corrections(args: argparse.Namespace) -> int:
    from ingestion import warehouse
    from ingestion.corrections import (
        default_path,
        latest_load_with_corrections,
        write_corrections,
    )
    from ingestion.settings import settings

    cfg = settings()
    with warehouse.connect(cfg) as conn:
        load_id = args.load_id or latest_load_with_corrections(conn)
        row = conn.execute("select file_name from audit.loads where load_id = %s",
                           (load_id,)).fetchone()
        if row is None:
            raise UsageError(f"There is no load {load_id}.")
        path = write_corrections(conn, load_id, default_path(cfg.home, load_id, row[0]))
    if path is None:
        print(f"Load {load_id} has no quarantined rows to correct.")
    else:
        print(path)
    return OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The sample inbox through the real DAGs (`dag.test()`): the four ingests, then
    build_marts; what happened is read back from the warehouse."""
    from ingestion import airflow_local, warehouse
    from ingestion.runner import stage_demo_inbox
    from ingestion.settings import settings
    from ingestion.transform import mart_row_counts
    from ingestion.validate import data_docs_index

    cfg = settings()
    staged = stage_demo_inbox(cfg)
    with warehouse.connect(cfg) as conn:
        before = conn.execute("select coalesce(max(load_id), 0) from audit.loads").fetchone()[0]
    log = airflow_local.home(cfg) / "logs" / "dag-test.log"
    if not args.json:
        print(f"{len(staged)} sample spreadsheets copied into {cfg.inbox}; running the ingest "
              f"DAGs and build_marts with dag.test() (Airflow's log: {log}).", flush=True)
    dag_ids = [f"ingest_{source}" for source in SOURCES] + ["build_marts"]
    states = airflow_local.test_dags(dag_ids, cfg, log=log)
    with warehouse.connect(cfg) as conn:
        loads = conn.execute(
            "select load_id, source, file_name, status, rows_read, rows_loaded, "
            "rows_quarantined, duplicate_of from audit.loads where load_id > %s "
            "order by load_id", (before,)).fetchall()
        row = conn.execute("select report_path from audit.runs where kind = 'dag' "
                           "order by run_id desc limit 1").fetchone()
    counts = mart_row_counts(cfg)
    summary = row[0] if row else None
    data_docs = str(data_docs_index(cfg.home))
    if args.json:
        print(json.dumps({"dag_runs": states, "loads": [list(row) for row in loads],
                          "mart_rows": counts, "report": summary, "data_docs": data_docs},
                         ensure_ascii=False))
    else:
        for load_id, source, name, status, read, loaded, held, duplicate_of in loads:
            line = f"{status:<9} {source:<14} {name}  (load {load_id})"
            if status == "duplicate":
                line += f": same bytes as load {duplicate_of}, nothing loaded"
            else:
                line += f": read {read} = loaded {loaded} + quarantined {held}"
            print(line)
        print("DAG runs: " + ", ".join(f"{dag_id} {state}" for dag_id, state in states.items()))
        for mart, count in counts.items():
            print(f"  marts.{mart:<22} {'not built' if count is None else count:>6} rows")
        print(f"Report:    {summary}")
        print(f"Data Docs: {data_docs}")
        print("Try: lumbung trace pmm_regency_ranking --where regency_code=1673")
    ok = all(state == "success" for state in states.values()) and \
        all(row[3] != "rejected" for row in loads)
    return OK if ok else CHECKS_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    from ingestion.report import latest_run, run_of_load, write_report
    from ingestion.settings import settings
    from ingestion.validate import data_docs_index

    cfg = settings()
    run_id = run_of_load(args.load_id, cfg) if args.load_id else latest_run(cfg)
    path = write_report(run_id, cfg)
    print(f"Report of run {run_id}: {path}")
    print(f"Data Docs: {data_docs_index(cfg.home)}")
    return OK


def cmd_airflow(args: argparse.Namespace) -> int:
    from ingestion import airflow_local
    from ingestion.settings import settings

    if args.action == "manifest":
        from ingestion.transform import write_manifest

        print(write_manifest())
    elif args.action == "up":
        address = airflow_local.up()
        print(f"Airflow is running at {address} (user admin; password in "
              f"{airflow_local.passwords_file()}). Drop spreadsheets into "
              f"{settings().inbox}/<source>/; `lumbung airflow down` stops it.")
    else:
        stopped = airflow_local.down()
        print("Stopped: " + ", ".join(stopped) if stopped else "Airflow was not running.")
    return OK


def expand_paths(paths: list[Path]) -> list[Path]:
    from ingestion.reader import SPREADSHEET_FORMATS

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir()
                          if p.is_file() and p.suffix.lower() in SPREADSHEET_FORMATS)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{path} does not exist.")
    if not out:
        raise UsageError("No spreadsheet to load in " + ", ".join(str(p) for p in paths) + ".")
    return out


def _print_result(result, as_json: bool) -> None:
    if as_json:
        payload = result.as_json()
        payload.pop("elapsed_s", None)
        print(json.dumps(payload, ensure_ascii=False), flush=True)
        return
    name = Path(result.file).name
    line = f"{result.status:<9} {result.source:<14} {name}"
    if result.load_id is not None:
        line += f"  (load {result.load_id})"
    if result.status == "duplicate":
        line += f": same bytes as load {result.duplicate_of}, nothing loaded"
    elif result.rows_read or result.status == "loaded":
        line += (f": read {result.rows_read} = loaded {result.rows_loaded} + quarantined "
                 f"{result.rows_quarantined}; skipped {result.rows_skipped}")
    if result.reasons:
        line += "; reasons " + ", ".join(f"{k} {v}" for k, v in result.reasons.items())
    if result.repairs:
        line += "; repairs " + ", ".join(f"{k} {v}" for k, v in result.repairs.items())
    print(line, flush=True)
    if result.error:
        print(f"          {result.error}", flush=True)


def _summary(results) -> str:
    loaded = sum(r.rows_loaded for r in results)
    held = sum(r.rows_quarantined for r in results)
    read = sum(r.rows_read for r in results)
    return (f"{len(results)} files: {read} rows read = {loaded} loaded + {held} quarantined. "
            "Quarantined rows and their reasons are in the quarantine schema.")


COMMANDS = {"warehouse": cmd_warehouse, "ingest": cmd_ingest, "void": cmd_void,
            "transform": cmd_transform, "run": cmd_run, "trace": cmd_trace,
            "corrections": cmd_corrections,
            "demo": cmd_demo, "airflow": cmd_airflow, "report": cmd_report}


if __name__ == "__main__":
    sys.exit(main())
