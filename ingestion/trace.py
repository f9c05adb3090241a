"""`lumbung trace MART --where COL=VALUE`: the spreadsheet rows behind a mart figure (SPEC 6, 7).

Each analytic mart is traced through the facts that carry their raw rows' lineage: the rows
that mart row counts, identified by source, load, file, sheet and row number. Only the mart's
own grain columns may be given; values are bound as parameters, never written into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from ingestion import warehouse
from ingestion.errors import UsageError
from ingestion.settings import Settings, settings

LINEAGE = "_load_id, _source_file, _sheet, _row_number"


@dataclass(frozen=True)
class Tracing:
    """How to find the rows a mart row counts: a query over facts and its filterable columns."""

    rows: str                      # select <source, lineage> ... from ... (aliased `counted`)
    columns: tuple[str, ...]       # the mart's grain columns, as `counted` names them


TRACES = {
    "pmm_regency_ranking": Tracing(
        f"select 'pmm_progress' as source, {LINEAGE}, snapshot_date, regency_code, "
        "province_code from marts.fct_pmm_progress",
        ("snapshot_date", "regency_code", "province_code")),
    "cohort_completion": Tracing(
        f"select 'cohorts' as source, {LINEAGE}, programme, cohort, province_code, "
        "regency_code, role from marts.fct_cohort_participation",
        ("programme", "cohort", "province_code", "regency_code", "role")),
    "training_coverage": Tracing(
        f"select 'trainings' as source, a.{LINEAGE.replace(', ', ', a.')}, a.regency_code, "
        "a.month_start_date as month, e.event_type, a.mode "
        "from marts.fct_training_attendance a "
        "join marts.dim_training_event e on e.event_code = a.event_code "
        "where a.attended = 'hadir' and a.participant_role = 'peserta'",
        ("regency_code", "month", "event_type", "mode")),
    "alumni_outcomes": Tracing(
        f"select 'alumni_surveys' as source, o.{LINEAGE.replace(', ', ', o.')}, o.npsn, "
        "o.graduation_year, o.competency_key, c.competency_name as competency "
        "from marts.fct_alumni_outcome o "
        "join marts.dim_competency c on c.competency_key = o.competency_key",
        ("npsn", "graduation_year", "competency_key", "competency")),
    "teacher_journey": Tracing(
        f"select 'cohorts' as source, {LINEAGE}, teacher_key "
        "from marts.fct_cohort_participation where teacher_key is not null "
        f"union all select 'trainings', {LINEAGE}, teacher_key "
        "from marts.fct_training_attendance where teacher_key is not null "
        f"union all select 'pmm_progress', {LINEAGE}, teacher_key from marts.fct_pmm_progress",
        ("teacher_key",)),
}


def parse_where(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise UsageError(f"--where takes COLUMN=VALUE, not {item!r}.")
        out.append((column.strip(), value.strip()))
    return out


def trace(mart: str, where: list[tuple[str, str]], cfg: Settings | None = None) -> list[dict]:
    """The raw rows behind the rows of MART matching WHERE, one dict per spreadsheet row."""
    if mart not in TRACES:
        raise UsageError(f"Unknown mart {mart!r}: choose one of {', '.join(TRACES)}.")
    tracing = TRACES[mart]
    conditions, params = [], []
    for column, value in where:
        if column not in tracing.columns:
            raise UsageError(f"{mart} cannot be traced by {column!r}: use "
                             f"{', '.join(tracing.columns)}.")
        conditions.append(sql.SQL("{}::text = %s").format(sql.Identifier(column)))
        params.append(value)
    query = sql.SQL(
        "select distinct source, _load_id, _source_file, _sheet, _row_number "
        "from ({}) as counted {} order by source, _load_id, _sheet nulls first, _row_number"
    ).format(sql.SQL(tracing.rows),
             sql.SQL("where ") + sql.SQL(" and ").join(conditions) if conditions else sql.SQL(""))
    with warehouse.connect(cfg or settings()) as conn:
        rows = conn.execute(query, params).fetchall()
    return [{"source": s, "load_id": load, "source_file": f, "sheet": sh, "row_number": r}
            for s, load, f, sh, r in rows]
