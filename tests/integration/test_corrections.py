"""The corrections workbook: what quarantine holds, in the school's own columns, round trip."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from ingestion import samples
from ingestion.reasons import text_id
from tests.helpers import json_lines, run_cli


def _load_with_two_bad_rows(tmp_path: Path) -> tuple[dict, list]:
    rows = samples.cohort_rows(n=12)
    h = rows[0]
    rows[2] = [*rows[2]]
    rows[2][h.index("Tanggal Mulai")] = "31/02/2022"
    rows[5] = [*rows[5]]
    rows[5][h.index("NUPTK")] = float(rows[5][h.index("NUPTK")])
    rows[5][h.index("Kabupaten/Kota")] = "Serang"
    rows[5][h.index("Provinsi")] = "Banten"
    path = samples.write_table(tmp_path / "pgp.xlsx", {"Peserta": rows})
    code, out, err = run_cli("ingest", "cohorts", path, "--json")
    assert code == 0, err
    return json_lines(out)[0], rows


def test_workbook_matches_quarantine(db, tmp_path, lumbung_home):
    line, rows = _load_with_two_bad_rows(tmp_path)
    code, out, _ = run_cli("corrections", "--load-id", line["load_id"])
    path = Path(out.strip())
    assert code == 0
    assert path == lumbung_home / "corrections" / f"{line['load_id']}__pgp.xlsx.corrections.xlsx"
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Peserta").to_python()
    assert table[0] == [*rows[0], "Baris", "Alasan"]   # the file's own columns, in order
    held = db.execute("select _row_number, reasons from quarantine.cohorts "
                      "where _load_id = %s order by _row_number", (line["load_id"],)).fetchall()
    assert [int(r[-2]) for r in table[1:]] == [n for n, _ in held] == [3, 6]
    for row, (_, reasons) in zip(table[1:], held, strict=True):
        for code_ in reasons:
            assert text_id(code_) in row[-1]
        assert all(isinstance(v, str) for v in row)          # every cell is text
    assert table[1][rows[0].index("Nama Lengkap")] == rows[2][1]
    assert "Tanggal Mulai: " in table[1][-1] and "NUPTK: " in table[2][-1]
    nik = table[1][rows[0].index("NIK")]
    assert set(nik[:-4]) == {"*"} and "NIK: disamarkan" in table[1][-1]


def test_latest_load_is_the_default_and_errors_are_sentences(db, tmp_path):
    line, _ = _load_with_two_bad_rows(tmp_path)
    code, out, _ = run_cli("corrections")
    assert code == 0 and out.strip().endswith(f"{line['load_id']}__pgp.xlsx.corrections.xlsx")
    code, _, err = run_cli("corrections", "--load-id", "999999")
    assert code == 2 and "There is no load 999999." in err
    clean = samples.write_table(tmp_path / "ok.csv", {"d": samples.cohort_rows(n=2)})
    load_id = json_lines(run_cli("ingest", "cohorts", clean, "--json")[1])[0]["load_id"]
    code, out, _ = run_cli("corrections", "--load-id", load_id)
    assert code == 0 and out.strip() == f"Load {load_id} has no quarantined rows to correct."


def test_fixed_workbook_loads_as_a_new_file(db, tmp_path):
    line, rows = _load_with_two_bad_rows(tmp_path)
    path = Path(run_cli("corrections", "--load-id", line["load_id"])[1].strip())
    wb = load_workbook(path)
    ws = wb["Peserta"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(2, col["Tanggal Mulai"]).value = "01/03/2022"
    ws.cell(3, col["NUPTK"]).value = "1671020304050607"   # typed again, as text
    ws.cell(3, col["Kabupaten/Kota"]).value = "Kota Serang"
    for r in (2, 3):                                  # the masked NIK: re-entered in full
        ws.cell(r, col["NIK"]).value = "3671010101900001"
    fixed = tmp_path / "pgp_perbaikan.xlsx"
    wb.save(fixed)
    code, out, err = run_cli("ingest", "cohorts", fixed, "--json")
    again = json_lines(out)[0]
    assert code == 0, err
    assert (again["status"], again["rows_loaded"], again["rows_quarantined"]) == ("loaded", 2, 0)
    extras = db.execute(
        "select _extra->>'Baris', _extra->>'Alasan', regency_code from raw.cohorts "
        "where _load_id = %s order by _row_number", (again["load_id"],)).fetchall()
    assert [e[0] for e in extras] == ["3", "6"]
    assert all(e[1] for e in extras) and extras[1][2] == "3673"
