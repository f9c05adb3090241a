"""One case per rule of SPEC 3.5, 3.6 and 4: a cell (or a file) in, a value or a reason out.

Each case edits the first data row of a small, otherwise valid file of six rows, written in the
format where the format matters (a numeric cell is not a text cell; csv has no types), loads it
through `lumbung ingest --json` into the real warehouse, and checks either the value that landed
in raw (and that nothing was quarantined) or the exact reasons reported.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion import samples
from ingestion.samples import ExcelError
from tests.helpers import json_lines, run_cli

ROWS = {
    "cohorts": lambda: samples.cohort_rows(n=6),
    "trainings": lambda: samples.training_rows(events=1, per_event=6),
    "pmm_progress": lambda: samples.pmm_rows(n=6),
    "alumni_surveys": lambda: samples.alumni_rows(n=6),
}
RAW, REASONS = "raw", "reasons"

CASES = [
    # -- dates: every format of SPEC 3.5, date cells and serials, and what is refused
    ("date_cell", "cohorts", "xlsx", {"Tanggal Mulai": dt.date(2022, 3, 7)},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_serial_number", "cohorts", "xlsx", {"Tanggal Mulai": 44627.0},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_xls_date_cell", "cohorts", "xls", {"Tanggal Mulai": dt.date(2022, 3, 7)},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_ods_date_cell", "cohorts", "ods", {"Tanggal Mulai": dt.date(2022, 3, 7)},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_weekday_words", "cohorts", "csv", {"Tanggal Mulai": "Senin, 7 Maret 2022"},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_short_month", "cohorts", "csv", {"Tanggal Mulai": "7 Mar 2022"},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_day_first_slash", "cohorts", "csv", {"Tanggal Mulai": "7/3/2022"},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_day_first_dash", "cohorts", "ods", {"Tanggal Mulai": "07-03-2022"},
     RAW, {"start_date": dt.date(2022, 3, 7)}),
    ("date_impossible", "cohorts", "ods", {"Tanggal Mulai": "31/02/2022"},
     REASONS, {"invalid_date": 1}),
    ("date_weekday_contradicts", "cohorts", "xlsx", {"Tanggal Mulai": "Kamis, 1 Juli 2024"},
     REASONS, {"weekday_mismatch": 1}),
    ("date_start_in_future", "trainings", "csv", {"Tanggal Pelaksanaan": "1 Januari 2099"},
     REASONS, {"date_out_of_range": 1}),
    ("date_end_before_start", "cohorts", "xlsx",
     {"Tanggal Mulai": "10/03/2023", "Tanggal Selesai": "9 Maret 2023"},
     REASONS, {"date_out_of_range": 1}),
    ("date_end_may_be_planned", "cohorts", "xlsx",
     {"Tanggal Mulai": "10/03/2023", "Tanggal Selesai": "9 Maret 2099"},
     RAW, {"end_date": dt.date(2099, 3, 9)}),
    ("date_before_pmm_launch", "pmm_progress", "xlsx", {"Tanggal Data": "10/02/2022"},
     REASONS, {"date_out_of_range": 1}),
    ("date_survey_before_july", "alumni_surveys", "xlsx",
     {"Tahun Lulus": 2023, "Tanggal Pengisian": "30/06/2023"},
     REASONS, {"date_out_of_range": 1}),
    # -- numbers: Indonesian separators, ranges
    ("number_decimal_comma", "pmm_progress", "csv", {"Nilai Post Test": "87,5"},
     RAW, {"post_test_score": 87.5}),
    ("number_decimal_point", "pmm_progress", "xls", {"Nilai Post Test": "87.5"},
     RAW, {"post_test_score": 87.5}),
    ("number_thousands_dot_out_of_range", "trainings", "csv", {"JP": "1.293"},
     REASONS, {"out_of_range": 1}),
    ("number_unreadable", "trainings", "xlsx", {"JP": "dua puluh"},
     REASONS, {"invalid_number": 1}),
    ("number_completed_over_total", "pmm_progress", "ods",
     {"Modul Selesai": 7, "Jumlah Modul": 5}, REASONS, {"out_of_range": 1}),
    ("number_wait_months_over_120", "alumni_surveys", "csv", {"Masa Tunggu (bulan)": "121"},
     REASONS, {"out_of_range": 1}),
    ("number_graduation_year_before_2000", "alumni_surveys", "xlsx", {"Tahun Lulus": 1999},
     REASONS, {"out_of_range": 1}),
    ("cohort_roman_numeral", "cohorts", "xlsx", {"Angkatan": "XI"}, RAW, {"cohort": 11}),
    ("cohort_over_20", "cohorts", "csv", {"Angkatan": "Angkatan 21"},
     REASONS, {"out_of_range": 1}),
    # -- vocabularies
    ("vocab_folded", "cohorts", "xlsx", {"Peran": "CALON-guru_Penggerak"},
     RAW, {"role": "cgp"}),
    ("vocab_mode_spelling", "trainings", "ods", {"Moda": "VIRTUAL"}, RAW, {"mode": "daring"}),
    ("vocab_tick_mark", "trainings", "csv", {"Kehadiran": "✓"}, RAW, {"attended": "hadir"}),
    ("vocab_unknown", "cohorts", "ods", {"Status Kelulusan": "Pindah"},
     REASONS, {"invalid_value": 1}),
    ("vocab_jenjang", "cohorts", "xls", {"Jenjang": "smp"}, RAW, {"jenjang": "SMP"}),
    ("vocab_default_mode", "trainings", "xlsx", {"Moda": ""}, RAW, {"mode": "luring"}),
    # -- Excel errors
    ("excel_error_cell", "cohorts", "xlsx", {"Asal Sekolah": ExcelError("#N/A")},
     REASONS, {"excel_error": 1}),
    ("excel_error_text_in_csv", "alumni_surveys", "csv", {"Kompetensi Keahlian": "#REF!"},
     REASONS, {"excel_error": 1}),
    # -- identifiers
    ("nuptk_numeric_cell", "cohorts", "xlsx", {"NUPTK": 1234567890123456.0},
     REASONS, {"id_stored_as_number": 1}),
    ("nuptk_scientific_text", "cohorts", "csv", {"NUPTK": "1.23457E+15"},
     REASONS, {"id_stored_as_number": 1}),
    ("nuptk_wrong_length", "pmm_progress", "xlsx", {"NUPTK": "12345"},
     REASONS, {"invalid_id": 1}),
    ("nik_wrong_characters", "cohorts", "ods", {"NIK": "3273-0101"},
     REASONS, {"invalid_id": 1}),
    ("npsn_number_lost_zeros", "alumni_surveys", "xlsx", {"NPSN": 603879.0},
     RAW, {"npsn": "00603879"}),
    ("npsn_csv_lost_zeros", "alumni_surveys", "csv", {"NPSN": "603879"},
     RAW, {"npsn": "00603879"}),
    ("npsn_short_text_in_workbook", "alumni_surveys", "xlsx", {"NPSN": "603879"},
     REASONS, {"invalid_id": 1}),
    ("npsn_letter_form", "cohorts", "xlsx", {"NPSN": "P9960011"}, RAW, {"npsn": "P9960011"}),
    ("nisn_number_lost_zeros", "alumni_surveys", "xls", {"NISN": 123456789.0},
     RAW, {"nisn": "0123456789"}),
    # -- regions
    ("region_ambiguous", "cohorts", "xlsx", {"Kabupaten/Kota": "Serang", "Provinsi": "Banten"},
     REASONS, {"ambiguous_regency": 1}),
    ("region_prefix_decides", "cohorts", "csv",
     {"Kabupaten/Kota": "Kota Serang", "Provinsi": "Banten"}, RAW, {"regency_code": "3673"}),
    ("region_spacing", "cohorts", "ods",
     {"Kabupaten/Kota": "LUBUKLINGGAU", "Provinsi": "Sumatra Selatan"},
     RAW, {"regency_code": "1673", "province_code": "16", "regency_match": "exact"}),
    ("region_typo", "cohorts", "xlsx",
     {"Kabupaten/Kota": "Musi Rawass", "Provinsi": "Sumatera Selatan"},
     RAW, {"regency_code": "1605", "regency_match": "fuzzy", "regency": "Musi Rawass"}),
    ("region_unknown", "trainings", "xlsx", {"Kabupaten/Kota (Kegiatan)": "Atlantis"},
     REASONS, {"unknown_regency": 1}),   # an invalid value is not compared across the event
    ("region_wrong_province", "alumni_surveys", "ods",
     {"Kabupaten/Kota": "Kota Palembang", "Provinsi": "Jawa Barat"},
     REASONS, {"regency_province_mismatch": 1}),
    ("region_unknown_province", "pmm_progress", "csv",
     {"Kab/Kota": "Kota Palembang", "Provinsi": "Provinsi Antah Berantah"},
     REASONS, {"unknown_province": 1}),
    ("region_province_abbreviation", "pmm_progress", "csv",
     {"Kab/Kota": "Kab. Batang", "Provinsi": "Jateng"}, RAW, {"regency_code": "3325"}),
    # -- text
    ("text_trimmed_and_collapsed", "cohorts", "csv", {"Nama Lengkap": "  Siti   Nur  Aini "},
     RAW, {"participant_name": "Siti Nur Aini"}),
    ("text_dash_is_empty", "cohorts", "xlsx", {"NIK": "-"}, RAW, {"nik": None}),
    ("missing_required_value", "cohorts", "xls", {"Nama Lengkap": ""},
     REASONS, {"missing_value": 1}),
]


def _write(tmp_path, source, fmt, edits, rows=None):
    rows = rows or ROWS[source]()
    header = rows[0]
    row = list(rows[1])
    for name, value in edits.items():
        row[header.index(name)] = value
    rows[1] = row
    return samples.write_table(tmp_path / f"case.{fmt}", {"Data": rows})


def _ingest(path, source):
    extra = ["--as-of", "2022-12-23"] if source == "pmm_progress" else []
    code, out, err = run_cli("ingest", source, path, "--json", *extra)
    assert code == 0, err
    return json_lines(out)[0]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule(db, tmp_path, case):
    _, source, fmt, edits, kind, expected = case
    rows = ROWS[source]()
    if "Tanggal Data" in edits:  # a PMM export with its own date column
        rows[0] = [*rows[0], "Tanggal Data"]
        rows[1:] = [[*r, "23/12/2022"] for r in rows[1:]]
    path = _write(tmp_path, source, fmt, edits, rows)
    line = _ingest(path, source)
    assert line["status"] == "loaded", line
    assert line["rows_read"] == 6 == line["rows_loaded"] + line["rows_quarantined"]
    if kind == REASONS:
        assert line["reasons"] == expected
        held = db.execute(f"select reasons from quarantine.{source} where _row_number = 2")
        assert set(expected) - {"conflicting_event"} <= set(held.fetchone()[0])
    else:
        assert line["reasons"] == {}, line["reasons"]
        columns = ", ".join(expected)
        got = db.execute(f"select {columns} from raw.{source} where _row_number = 2").fetchone()
        assert dict(zip(expected, got, strict=True)) == expected


def test_repairs_are_counted_for_loaded_rows(db, tmp_path):
    rows = ROWS["alumni_surveys"]()
    h = rows[0]
    for i in (1, 2):
        rows[i] = [*rows[i]]
        rows[i][h.index("NPSN")] = float(rows[i][h.index("NPSN")])    # numeric: zeros lost
    rows[3] = [*rows[3]]
    rows[3][h.index("Kabupaten/Kota")] = "Kota Palembangg"
    rows[3][h.index("Provinsi")] = "Sumatera Selatan"
    path = samples.write_table(tmp_path / "r.xlsx", {"Data": rows})
    line = _ingest(path, "alumni_surveys")
    assert line["reasons"] == {}
    # the generator's NPSNs have 8 digits, so numbers keep them: not a repair
    assert line["repairs"] == {"fuzzy_regency": 1}
    rows[1][h.index("NPSN")] = 603879.0
    path = samples.write_table(tmp_path / "s.xlsx", {"Data": rows})
    assert _ingest(path, "alumni_surveys")["repairs"] == {"fuzzy_regency": 1, "repaired_id": 1}


def test_a_row_carries_every_reason_that_applies(db, tmp_path):
    path = _write(tmp_path, "cohorts", "xlsx", {
        "Nama Lengkap": "", "NUPTK": 1234567890123456.0, "Tanggal Mulai": "31/02/2022",
        "Kabupaten/Kota": "Atlantis", "Status Kelulusan": "Pindah"})
    line = _ingest(path, "cohorts")
    expected = {"missing_value", "id_stored_as_number", "invalid_date", "unknown_regency",
                "invalid_value"}
    assert line["reasons"] == dict.fromkeys(expected, 1)
    (reasons, details), = db.execute(
        "select reasons, reason_details from quarantine.cohorts").fetchall()
    assert set(reasons) == expected
    assert {(d["code"], d["column"]) for d in details} == {
        ("missing_value", "participant_name"), ("id_stored_as_number", "nuptk"),
        ("invalid_date", "start_date"), ("unknown_regency", "regency"),
        ("invalid_value", "status")}


def test_duplicates_and_conflicting_duplicates(db, tmp_path):
    rows = samples.cohort_rows(n=14)
    status = rows[0].index("Status Kelulusan")
    rows.append([99, *rows[1][1:]])                                   # identical to row 2
    conflicting = list(rows[3])
    conflicting[status] = "Tidak Lulus" if conflicting[status] == "Lulus" else "Lulus"
    rows.append(conflicting)                                          # same key as row 4
    path = samples.write_table(tmp_path / "d.ods", {"Data": rows})
    line = _ingest(path, "cohorts")
    assert line["reasons"] == {"duplicate_row": 1, "conflicting_duplicate": 2}
    assert (line["rows_read"], line["rows_loaded"]) == (16, 13)
    held = dict(db.execute("select _row_number, reasons from quarantine.cohorts").fetchall())
    assert held == {4: ["conflicting_duplicate"], 16: ["duplicate_row"],
                    17: ["conflicting_duplicate"]}


def test_conflicting_event_quarantines_every_row_of_the_event(db, tmp_path):
    big = samples.training_rows(seed=3, events=1, per_event=12)
    small = samples.training_rows(seed=4, events=2, per_event=2)[3:]  # the second event
    h = big[0]
    small[1] = [*small[1]]
    small[1][h.index("Penyelenggara")] = "Balai Guru Penggerak Sumsel"
    path = samples.write_table(tmp_path / "e.csv", {"d": big + small})
    line = _ingest(path, "trainings")
    assert line["reasons"] == {"conflicting_event": 2}
    assert line["rows_loaded"] == 12


def test_too_many_invalid_rows_rejects_the_file_with_a_corrections_workbook(db, inbox):
    from python_calamine import CalamineWorkbook

    rows = ROWS["cohorts"]()
    h = rows[0]
    for i in (1, 2):
        rows[i] = [*rows[i]]
        rows[i][h.index("Tanggal Mulai")] = "=1+1" if i == 1 else "31/02/2022"
    path = samples.write_table(inbox / "cohorts" / "bad.csv", {"Data": rows})  # text stays text
    code, out, err = run_cli("ingest", "cohorts", path, "--json")
    line = json_lines(out)[0]
    assert code == 1 and line["status"] == "rejected"
    assert line["reasons"] == {"too_many_invalid_rows": 1, "invalid_date": 2, "file_rejected": 4}
    assert (line["rows_loaded"], line["rows_quarantined"]) == (0, 6)
    assert db.execute("select count(*) from raw.cohorts").fetchone()[0] == 0
    rejected = inbox / "cohorts" / "rejected"
    reason = (rejected / "bad.csv.reason.txt").read_text()
    assert "33% of the data rows" in reason and "LUMBUNG_MAX_INVALID_SHARE" in reason
    assert "2 rows invalid_date" in reason
    corrections = rejected / "bad.csv.corrections.xlsx"
    workbook = CalamineWorkbook.from_path(str(corrections))
    table = workbook.get_sheet_by_name("Data").to_python()
    assert table[0][-2:] == ["Baris", "Alasan"] and len(table) == 3   # header + 2 bad rows
    assert [r[-2] for r in table[1:]] == ["2", "3"]
    assert table[1][h.index("Tanggal Mulai")] == "=1+1"   # text, never a formula
    import zipfile

    sheet_xml = zipfile.ZipFile(corrections).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


def test_file_level_rejections_each_name_their_cause(db, inbox, monkeypatch):
    cases = {}
    junk = inbox / "cohorts" / "junk.xlsx"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    cases["junk.xlsx"] = ("unreadable_file", "is damaged or not a real .xlsx file")
    samples.write_table(inbox / "cohorts" / "rekap.xlsx", {"Rekap": [
        ["Kabupaten/Kota", "Program", "Angkatan", "Jumlah"], ["Palembang", "PGP", 7, 3]]})
    cases["rekap.xlsx"] = ("missing_required_column", "participant_name (Nama, Nama Lengkap")
    samples.write_table(inbox / "cohorts" / "notes.csv", {"d": [["catatan"], ["rapat"]]})
    cases["notes.csv"] = ("no_header_found", "No sheet of notes.csv")
    for name, (code, words) in cases.items():
        out = run_cli("ingest", "cohorts", inbox / "cohorts" / name, "--json")[1]
        line = json_lines(out)[0]
        assert line["reasons"] == {code: 1} and line["rows_read"] == 0, name
        assert words in (inbox / "cohorts" / "rejected" / f"{name}.reason.txt").read_text()
    pmm = samples.write_table(inbox / "pmm_progress" / "nodate.xlsx",
                              {"P": samples.pmm_rows(n=3)})
    line = json_lines(run_cli("ingest", "pmm_progress", pmm, "--json")[1])[0]
    assert line["reasons"] == {"no_snapshot_date": 1}
    monkeypatch.setenv("LUMBUNG_MAX_ROWS", "3")
    big = samples.write_table(inbox / "cohorts" / "big.csv", {"d": samples.cohort_rows(n=4)})
    line = json_lines(run_cli("ingest", "cohorts", big, "--json")[1])[0]
    assert line["reasons"] == {"file_too_large": 1}
    assert "LUMBUNG_MAX_ROWS" in (inbox / "cohorts" / "rejected" / "big.csv.reason.txt"
                                  ).read_text()
