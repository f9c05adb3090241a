"""dim_teacher: SCD type 2 on school and regency, validity from the load that brought it."""

from __future__ import annotations

from ingestion import samples, warehouse
from tests.helpers import json_lines, run_cli


def _cohort(school: str, npsn: str, regency: str) -> list:
    header = ["Nama Lengkap", "NUPTK", "Asal Sekolah", "NPSN", "Kabupaten/Kota", "Provinsi",
              "Program", "Angkatan", "Peran", "Status"]
    return [header, ["Lina Marlina", "3604010000000099", school, npsn, regency, "Banten",
                     "PGP", 10, "CGP", "Aktif"]]


def test_a_teacher_who_moves_school_gets_a_new_version(db, tmp_path):
    first = samples.write_table(tmp_path / "a.csv", {"d": _cohort(
        "SMP Negeri 1 Serang", "20600101", "Kab. Serang")})
    load_a = json_lines(run_cli("ingest", "cohorts", first, "--json")[1])[0]["load_id"]
    assert run_cli("transform")[0] == 0
    moved = samples.write_table(tmp_path / "b.csv", {"d": _cohort(
        "SMA Negeri 2 Kota Serang", "20600202", "Kota Serang")})
    load_b = json_lines(run_cli("ingest", "cohorts", moved, "--json")[1])[0]["load_id"]
    assert run_cli("transform")[0] == 0
    with warehouse.connect() as conn:
        versions = conn.execute(
            "select t.school_key, t.regency_code, t.valid_from, t.valid_to, t.is_current "
            "from marts.dim_teacher t join marts.teacher_journey j using (teacher_key) "
            "order by t.valid_from").fetchall()
        loaded_at = dict(conn.execute(
            "select _load_id, min(_loaded_at) from raw.cohorts group by 1").fetchall())
    assert versions == [
        ("npsn:20600101", "3604", loaded_at[load_a], loaded_at[load_b], False),
        ("npsn:20600202", "3673", loaded_at[load_b], None, True),
    ]
