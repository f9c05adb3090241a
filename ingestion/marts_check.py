"""Great Expectations on the marts after each dbt build (SPEC 5; issue 6).

Suites are plain data (ExpectationSpec), run through the same GX context as the loads, and
stored in `audit.validation_results` (kind `marts`):
- each analytic mart: at least one row wherever the facts that feed it have rows, its grain
  unique, its rates within 0..1;
- PMM ranks: 1..n without gaps within each (province, snapshot);
- personal data: no column of any `marts` table or view is named like personal data, and no
  text value looks like a NUPTK/NIK (16 digits), a NISN (10 digits) or an email. In tables kept
  per snapshot date (a `_built_at` column) an incremental build's scan reads the rows built
  since the last clean scan; `--full-refresh` reads every row.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from ingestion import validate, warehouse
from ingestion.settings import Settings, settings
from ingestion.suites import ExpectationSpec

ANALYTIC_MARTS = {  # mart: (grain, rates, the fact rows that must give it at least one row)
    "pmm_regency_ranking": (["snapshot_date", "regency_code"],
                            ["completion_rate", "avg_module_progress"],
                            "select count(*) from marts.fct_pmm_progress"),
    "cohort_completion": (["programme", "cohort", "province_code", "regency_code", "role"],
                          ["completion_rate"],
                          "select count(*) from marts.fct_cohort_participation"),
    "training_coverage": (["regency_code", "month", "event_type", "mode"], [],
                          "select count(*) from marts.fct_training_attendance "
                          "where attended = 'hadir' and participant_role = 'peserta'"),
    "alumni_outcomes": (["npsn", "graduation_year", "competency_key"],
                        ["bmw_rate", "aligned_rate"],
                        "select count(*) from marts.fct_alumni_outcome"),
    "teacher_journey": (["teacher_key"], [],
                        "select (select count(*) from marts.fct_pmm_progress) + (select count("
                        "teacher_key) from marts.fct_cohort_participation) + (select count("
                        "teacher_key) from marts.fct_training_attendance)"),
}
PII_COLUMN_NAMES = (r"(?:^|_)(?:nik|nuptk|nisn|email|e_mail)(?:$|_)"
                    r"|(?:participant|teacher|alumni)_name")
PII_VALUES = r"^\s*[0-9]{16}\s*$|^\s*[0-9]{10}\s*$|[^@\s]+@[^@\s]+\.[a-z]{2,}"
ROW = "_row"


@dataclass
class MartsValidation:
    success: bool
    report: str | None
    suites: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"success": self.success, "report": self.report}


def _frame(conn, query: str, params: tuple = ()) -> pl.DataFrame:
    cur = conn.execute(query, params)
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    return frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))


def _mart_specs(grain: list[str], rates: list[str], fed: bool) -> list[ExpectationSpec]:
    """FED: the mart's facts have rows, so the mart must have at least one."""
    specs = [ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 1 if fed else 0},
                             notes="rows wherever its facts have rows"),
             ExpectationSpec("ExpectCompoundColumnsToBeUnique", {"column_list": grain},
                             notes="one row per grain") if len(grain) > 1 else
             ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": grain[0]},
                             notes="one row per grain")]
    specs += [ExpectationSpec("ExpectColumnValuesToBeBetween",
                              {"column": rate, "min_value": 0, "max_value": 1},
                              notes="a rate is a share") for rate in rates]
    return specs


def _rank_specs() -> list[ExpectationSpec]:
    return [
        ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": "min_rank", "value_set": [1]}),
        ExpectationSpec("ExpectColumnPairValuesToBeEqual",
                        {"column_A": "regencies", "column_B": "max_rank"},
                        notes="ranks run 1..n"),
        ExpectationSpec("ExpectColumnPairValuesToBeEqual",
                        {"column_A": "regencies", "column_B": "distinct_ranks"},
                        notes="no rank twice, no gap"),
    ]


def _pii_specs() -> list[ExpectationSpec]:
    return [
        ExpectationSpec("ExpectColumnValuesToNotMatchRegex",
                        {"column": "column_name", "regex": PII_COLUMN_NAMES},
                        notes="no column named like personal data"),
        ExpectationSpec("ExpectColumnValuesToBeBetween",
                        {"column": "values_like_pii", "min_value": 0, "max_value": 0},
                        notes="no value like a NUPTK, NIK, NISN or email"),
    ]


def pii_scan(conn, built_since=None) -> pl.DataFrame:
    """Every column of every marts relation, with how many of its values look personal.

    BUILT_SINCE (a timestamp): in tables kept per snapshot date (a `_built_at` column), only the
    rows written after it; None: every row."""
    columns = conn.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position").fetchall()
    from psycopg import sql

    texts: dict[str, list[str]] = {}
    kept_per_date = {table for table, column, _ in columns if column == "_built_at"}
    for table, column, data_type in columns:
        if data_type in ("text", "character varying"):
            texts.setdefault(table, []).append(column)
    counts: dict[tuple[str, str], int] = {}
    for table, names in texts.items():  # one scan per relation, counting every text column
        scoped = built_since is not None and table in kept_per_date
        found = conn.execute(sql.SQL("select {} from {}{}").format(
            sql.SQL(", ").join(sql.SQL("count(*) filter (where {} ~* %(pii)s)").format(
                sql.Identifier(name)) for name in names),
            sql.Identifier("marts", table),
            sql.SQL(" where _built_at > %(since)s" if scoped else "")),
            {"pii": PII_VALUES, "since": built_since}).fetchone()
        counts.update({(table, name): n for name, n in zip(names, found, strict=True)})
    rows = [(table, column, data_type, counts.get((table, column), 0))
            for table, column, data_type in columns]
    frame = pl.DataFrame(rows, schema=["table_name", "column_name", "data_type",
                                       "values_like_pii"], orient="row")
    return frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))


def last_clean_scan(conn):
    """When the marts last passed the personal-data scan (None: never). Every row a build wrote
    before then was read by that scan or an earlier one."""
    return conn.execute(
        "select max(validated_at) from audit.validation_results "
        "where kind = 'marts' and suite_name = 'marts_personal_data' and success").fetchone()[0]


def validate_marts(cfg: Settings | None = None, run_name: str | None = None,
                   run_id: int | None = None, *, everything: bool = False) -> MartsValidation:
    """EVERYTHING: the PII scan reads every row; else, in tables kept per snapshot date, the
    rows built since the last clean scan (after a full refresh all of them are)."""
    cfg = cfg or settings()
    run_name = run_name or f"marts-{time.strftime('%Y%m%dT%H%M%S')}"
    checks: list[tuple[str, list[ExpectationSpec], pl.DataFrame]] = []
    with warehouse.connect(cfg) as conn:
        for mart, (grain, rates, feeding) in ANALYTIC_MARTS.items():
            fed = conn.execute(feeding).fetchone()[0] > 0
            checks.append((mart, _mart_specs(grain, rates, fed),
                           _frame(conn, f"select * from marts.{mart}")))
        checks.append(("pmm_rank_groups", _rank_specs(), _frame(conn, """
            select province_code, snapshot_date, count(*) as regencies,
                   max(rank_in_province) as max_rank, min(rank_in_province) as min_rank,
                   count(distinct rank_in_province) as distinct_ranks
            from marts.pmm_regency_ranking group by province_code, snapshot_date""")))
        since = None if everything else last_clean_scan(conn)
        checks.append(("personal_data", _pii_specs(), pii_scan(conn, since)))
        results, rendered = [], []
        for name, specs, frame in checks:
            run = validate.run_suite(cfg.home, f"marts_{name}", specs, f"marts_{name}", frame,
                                     run_name, [ROW], render=False)
            rendered.append(run)
            stored = {"suite_name": f"marts_{name}", "success": run.success,
                      "statistics": run.statistics,
                      "expectations": validate.stored_expectations(run.expectations),
                      "report": run.page, "elapsed_s": run.elapsed_s}
            results.append(stored)
            conn.execute(
                "insert into audit.validation_results (kind, run_id, suite_name, success, "
                "statistics, expectations, data_docs_path, elapsed_s) "
                "values ('marts', %s, %s, %s, %s, %s, %s, %s)",
                (run_id, stored["suite_name"], stored["success"],
                 json.dumps(stored["statistics"]), json.dumps(stored["expectations"],
                                                               default=str), run.page,
                 run.elapsed_s))
        conn.commit()
    validate.build_docs(cfg.home, rendered)  # the seven pages and the index, in one build
    index = validate.data_docs_index(cfg.home)
    return MartsValidation(success=all(r["success"] for r in results),
                           report=str(index) if index.exists() else None, suites=results)


class MartsValidator:
    """validate_marts in a process of its own, started before dbt builds. GX's import (~5 s of
    Python: scipy, pandas, sqlalchemy) then runs on the other core while dbt parses and waits
    on the warehouse, instead of taking turns with dbt on one interpreter's lock."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=validate.import_gx)
        self._pool.submit(int)  # start the process (and its import) now

    def validate(self, cfg: Settings, run_id: int | None, *,
                 everything: bool = False) -> MartsValidation:
        return self._pool.submit(validate_marts, cfg, None, run_id,
                                 everything=everything).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
