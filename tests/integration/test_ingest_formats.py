"""Every source loads from every format, and raw's lineage points at the file's own cells."""

from __future__ import annotations

import pytest

from ingestion import samples
from tests.helpers import cell, json_lines, run_cli

NAME_HEADER = {
    "cohorts": "Nama Lengkap", "trainings": "Nama Peserta", "pmm_progress": "Nama Guru",
    "alumni_surveys": "Nama Alumni",
}
NAME_COLUMN = {
    "cohorts": "participant_name", "trainings": "participant_name",
    "pmm_progress": "teacher_name", "alumni_surveys": "alumni_name",
}
FORMATS = {
    "xlsx": {"suffix": ".xlsx"},
    "xls": {"suffix": ".xls"},
    "ods": {"suffix": ".ods"},
    "csv_utf8_bom": {"suffix": ".csv", "encoding": "utf-8-sig", "delimiter": ","},
    "csv_cp1252_semicolon": {"suffix": ".csv", "encoding": "cp1252", "delimiter": ";"},
}


def source_rows(source: str) -> list:
    rows = {
        "cohorts": lambda: samples.cohort_rows(n=8),
        "trainings": lambda: samples.training_rows(events=2, per_event=4),
        "pmm_progress": lambda: samples.pmm_rows(n=8),
        "alumni_surveys": lambda: samples.alumni_rows(n=8),
    }[source]()
    name_col = rows[0].index(NAME_HEADER[source])
    rows[2] = [*rows[2][:name_col], "André Wijaya", *rows[2][name_col + 1:]]  # not ASCII
    return samples.titled(["DAFTAR DATA", "Data per 23 Desember 2022"], rows,
                          totals=["Jumlah", len(rows) - 1], footer=["Mengetahui,", "ttd"])


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("source", list(NAME_HEADER))
def test_every_source_loads_from_every_format(db, tmp_path, source, fmt):
    spec = FORMATS[fmt]
    path = samples.write_table(
        tmp_path / f"{source}_{fmt}{spec['suffix']}", {"Data": source_rows(source)},
        **{k: v for k, v in spec.items() if k != "suffix"},
    )
    code, out, err = run_cli("ingest", source, path, "--json")
    assert code == 0, err
    (line,) = json_lines(out)
    assert line["status"] == "loaded", line
    assert line["rows_read"] == 8 == line["rows_loaded"] + line["rows_quarantined"]
    assert line["rows_quarantined"] == 0, line["reasons"]
    # title (2) + blank + header + totals + blank + two signature lines
    assert line["rows_skipped"] == 8

    rows = db.execute(
        f"select _sheet, _row_number, {NAME_COLUMN[source]}, _source_file, _file_sha256, "
        f"_load_id from raw.{source} order by _row_number"
    ).fetchall()
    assert len(rows) == 8
    for sheet, row_number, name, source_file, sha, load_id in rows:
        assert sheet == (None if spec["suffix"] == ".csv" else "Data")
        assert str(cell(path, sheet, row_number, NAME_HEADER[source])).strip() == name
        assert source_file == path.name and sha == line["sha256"]
        assert load_id == line["load_id"]
    assert "André Wijaya" in {r[2] for r in rows}


def test_same_bytes_twice_is_a_duplicate_and_loads_nothing(db, tmp_path):
    path = samples.write_table(tmp_path / "pgp.xlsx", {"Data": source_rows("cohorts")})
    first = json_lines(run_cli("ingest", "cohorts", path, "--json")[1])[0]
    before = db.execute("select count(*) from raw.cohorts").fetchone()[0]
    code, out, _ = run_cli("ingest", "cohorts", path, "--json")
    second = json_lines(out)[0]
    assert code == 0
    assert second["status"] == "duplicate"
    assert second["duplicate_of"] == first["load_id"]
    assert second["load_id"] != first["load_id"]
    assert db.execute("select count(*) from raw.cohorts").fetchone()[0] == before == 8
    statuses = db.execute("select status from audit.loads order by load_id").fetchall()
    assert [s for (s,) in statuses] == ["loaded", "duplicate"]


def test_header_spellings_load_into_the_same_columns(db, tmp_path):
    rows = samples.cohort_rows(n=5)
    other = [list(r) for r in rows]
    respell = {"Nama Lengkap": "NAMA PESERTA", "Kabupaten/Kota": "Kab/Kota",
               "Status Kelulusan": "keterangan", "Asal Sekolah": "Satuan Pendidikan",
               "Peran": "Peran dalam Program", "Angkatan": "Gelombang"}
    other[0] = [respell.get(h, h) for h in other[0]]
    other[1:] = [[*r[:1], r[1] + " Kedua", *r[2:]] for r in other[1:]]
    a = samples.write_table(tmp_path / "a.csv", {"d": rows})
    b = samples.write_table(tmp_path / "b.xlsx", {"d": other})
    code, out, err = run_cli("ingest", "cohorts", a, b, "--json")
    assert code == 0, err
    assert [r["rows_loaded"] for r in json_lines(out)] == [5, 5]
    got = db.execute(
        "select _source_file, count(participant_name), count(regency_code), count(status), "
        "count(school_name), count(role), count(cohort) from raw.cohorts group by 1 order by 1"
    ).fetchall()
    assert got == [("a.csv", 5, 5, 5, 5, 5, 5), ("b.xlsx", 5, 5, 5, 5, 5, 5)]


def test_unknown_columns_are_kept_in_extra(db, tmp_path):
    rows = samples.cohort_rows(n=3)
    rows[0] = [*rows[0], "No. HP"]
    rows[1:] = [[*r, "0812-3456-7890"] for r in rows[1:]]
    path = samples.write_table(tmp_path / "hp.xlsx", {"Data": rows})
    assert run_cli("ingest", "cohorts", path)[0] == 0
    extras = db.execute("select _extra->>'No. HP' from raw.cohorts").fetchall()
    assert extras == [("0812-3456-7890",)] * 3


def test_pseudonym_key_is_hmac_of_the_nuptk(db, tmp_path, lumbung_home):
    import hashlib
    import hmac

    path = samples.write_table(tmp_path / "p.csv", {"d": samples.cohort_rows(n=2)})
    assert run_cli("ingest", "cohorts", path)[0] == 0
    key_file = lumbung_home / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip().encode()
    for nuptk, teacher_key in db.execute("select nuptk, teacher_key from raw.cohorts"):
        assert teacher_key == hmac.new(key, nuptk.encode(), hashlib.sha256).hexdigest()


def test_quarantined_rows_keep_their_cells_and_reasons(db, tmp_path):
    rows = samples.cohort_rows(n=6)
    nuptk = rows[0].index("NUPTK")
    rows[2] = [*rows[2][:nuptk], float(rows[2][nuptk]), *rows[2][nuptk + 1:]]
    path = samples.write_table(tmp_path / "q.xlsx", {"Data": rows})
    code, out, _ = run_cli("ingest", "cohorts", path, "--json")
    line = json_lines(out)[0]
    assert code == 0 and line["rows_quarantined"] == 1
    assert line["reasons"] == {"id_stored_as_number": 1}
    (cells, reasons, row_number, nik), = db.execute(
        "select cells, reasons, _row_number, cells->>'NIK' from quarantine.cohorts").fetchall()
    assert reasons == ["id_stored_as_number"] and row_number == 3
    assert cells["Nama Lengkap"] == rows[2][1]
    assert nik.endswith(rows[2][3][-4:]) and set(nik[:-4]) == {"*"}  # masked NIK


def test_reconciliation_holds_in_audit_loads(db, tmp_path):
    path = samples.write_table(tmp_path / "r.ods", {"Data": source_rows("pmm_progress")})
    assert run_cli("ingest", "pmm_progress", path)[0] == 0
    (read, loaded, held, raw, quarantined), = db.execute(
        "select rows_read, rows_loaded, rows_quarantined, "
        "(select count(*) from raw.pmm_progress), (select count(*) from quarantine.pmm_progress)"
        " from audit.loads").fetchall()
    assert read == loaded + held and loaded == raw and held == quarantined
