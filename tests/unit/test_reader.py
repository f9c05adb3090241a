"""The reader: headers among title rows, numbering columns, totals rows, sheets, bad files."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from ingestion import samples
from ingestion.cells import ERROR, FileRejected
from ingestion.contracts import load_contract
from ingestion.reader import read_file
from ingestion.rules import Context, apply_contract

COHORTS = load_contract("cohorts")
TODAY = dt.date(2026, 11, 24)


def batch_of(path, source="cohorts", **ctx):
    contract = load_contract(source)
    snapshot = contract.snapshot or {}
    read = read_file(path, contract, optional_required=[snapshot["column"]] if snapshot else [])
    return read, apply_contract(read, contract, Context(today=TODAY, **ctx))


def test_title_rows_numbering_blank_and_totals_rows(tmp_path):
    rows = samples.cohort_rows(n=4)
    body = [rows[0], rows[1], rows[2], [], rows[3], rows[4]]
    sheet = samples.titled(["DAFTAR PESERTA", "Angkatan 7"], body,
                           totals=["JUMLAH", "", 4], footer=["Kepala Balai", "ttd", "Nama"])
    path = samples.write_table(tmp_path / "t.xlsx", {"Peserta": sheet})
    read, batch = batch_of(path)
    (s,) = read.sheets
    assert s.header_row == 4 and "No" not in s.headers
    assert s.title_lines == ["DAFTAR PESERTA", "Angkatan 7"]
    assert batch.rows["_row_number"].to_list() == [5, 6, 8, 9]
    assert batch.rows["participant_name"].to_list() == [r[1] for r in rows[1:5]]
    # 2 title + blank + header + blank data row + totals + blank + 3 signature lines
    assert read.rows_skipped == 10 and read.rows_read == 4


def test_header_must_be_within_the_first_16_rows(tmp_path):
    rows = [[f"judul {i}"] for i in range(16)] + samples.cohort_rows(n=2)
    path = samples.write_table(tmp_path / "late.xlsx", {"Data": rows})
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS)
    assert err.value.code == "no_header_found"


def test_incomplete_sheets_are_skipped_when_another_is_complete(tmp_path):
    rekap = [["Rekap"], ["Kabupaten/Kota", "Program", "Angkatan", "Jumlah Peserta"],
             ["Kota Palembang", "PGP", 7, 12]]
    path = samples.write_table(tmp_path / "m.xlsx", {
        "Petunjuk": [["Isi data mulai baris 3"]], "Data": samples.cohort_rows(n=3),
        "Rekap": rekap})
    read, batch = batch_of(path)
    assert [s.name for s in read.sheets] == ["Data"]
    assert read.skipped_sheets == ["Petunjuk", "Rekap"]
    assert batch.sheets_read == ["Data"] and batch.rows_read == 3


def test_only_incomplete_sheets_is_missing_required_column(tmp_path):
    rekap = [["Kabupaten/Kota", "Program", "Angkatan", "Jumlah Peserta"],
             ["Palembang", "PGP", 7, 1]]
    path = samples.write_table(tmp_path / "r.xlsx", {"Rekap": rekap})
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS)
    assert err.value.code == "missing_required_column"
    assert "participant_name" in err.value.message and "'Rekap'" in err.value.message


def test_excel_error_cells_are_errors_not_empty(tmp_path):
    from openpyxl import load_workbook

    path = samples.write_table(tmp_path / "e.xlsx", {"Data": samples.cohort_rows(n=3)})
    wb = load_workbook(path)
    ws = wb["Data"]
    ws["F3"].value, ws["F3"].data_type = "#N/A", "e"   # Asal Sekolah of the 2nd row
    wb.save(path)
    read, batch = batch_of(path)
    school = read.sheets[0].headers.index("Asal Sekolah")
    assert read.sheets[0].kind(school).to_list()[1] == ERROR
    assert batch.rows["_reasons"].to_list()[1] == ["excel_error"]
    csv_path = samples.write_table(tmp_path / "e.csv", {"d": [
        *samples.cohort_rows(n=1), [2, "Ani", "", "", "P", "#REF!", "", "SD", "Palembang", "",
                                    "PGP", 7, "CGP", "Lulus", "", ""]]})
    assert batch_of(csv_path)[1].rows["_reasons"].to_list()[1] == ["excel_error"]


def test_extra_and_repeated_columns_and_trailing_empties(tmp_path):
    rows = samples.cohort_rows(n=2)
    rows[0] = [*rows[0], "Nama", "", "No. HP", "", ""]
    rows[1:] = [[*r, "Nama Lain", "catatan", "0812", "", ""] for r in rows[1:]]
    path = samples.write_table(tmp_path / "x.xlsx", {"Data": rows})
    read, batch = batch_of(path)
    s = read.sheets[0]
    assert s.headers[-3:] == ["Nama", "column_R", "No. HP"]  # the leftmost `Nama` won
    import json

    extra = json.loads(batch.rows["_extra"][0])
    assert extra == {"Nama": "Nama Lain", "column_R": "catatan", "No. HP": "0812"}
    assert batch.rows["participant_name"][0] == rows[1][1]


def test_units_in_headers_and_other_brackets(tmp_path):
    contract = load_contract("alumni_surveys")
    assert contract.header_lookup[contract.fold_header("Masa Tunggu (bulan)")] == "wait_months"
    trainings = load_contract("trainings")
    assert trainings.header_lookup.get(trainings.fold_header("Kabupaten/Kota (Kegiatan)")) \
        == "regency"
    assert trainings.fold_header("Kabupaten/Kota (Sekolah)") not in trainings.header_lookup


@pytest.mark.parametrize("name,content,code", [
    ("random.xlsx", os.urandom(2048), "unreadable_file"),
    ("random.ods", os.urandom(2048), "unreadable_file"),
    ("random.xls", os.urandom(2048), "unreadable_file"),
    ("empty.csv", b"", "unreadable_file"),
    ("notes.txt", b"hello", "unreadable_file"),
])
def test_bad_files_are_rejected_with_a_code(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS)
    assert err.value.code == code and name in err.value.message


def test_size_limit_is_checked_before_reading(tmp_path):
    path = samples.write_table(tmp_path / "big.csv", {"d": samples.cohort_rows(n=50)})
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS, max_file_mb=0.001)
    assert err.value.code == "file_too_large"
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS, max_rows=10)
    assert err.value.code == "file_too_large" and "LUMBUNG_MAX_ROWS" in err.value.message


# -- rules over a whole file ------------------------------------------------------------------
def test_duplicates_within_a_file(tmp_path):
    rows = samples.cohort_rows(n=4)
    status = rows[0].index("Status Kelulusan")
    rows.append([99, *rows[1][1:]])                      # identical copy of row 1
    changed = list(rows[2])
    changed[status] = "Lulus" if rows[2][status] != "Lulus" else "Tidak Lulus"
    rows.append(changed)                                 # same key as row 2, other values
    path = samples.write_table(tmp_path / "d.csv", {"d": rows})
    _, batch = batch_of(path, typeless=True)
    reasons = batch.rows["_reasons"].to_list()
    assert reasons == [[], ["conflicting_duplicate"], [], [], ["duplicate_row"],
                       ["conflicting_duplicate"]]


def test_required_values_defaults_and_multiple_reasons(tmp_path):
    rows = samples.training_rows(events=1, per_event=3)
    h = rows[0]
    rows[1] = [*rows[1]]
    rows[1][h.index("Nama Peserta")] = ""
    rows[1][h.index("JP")] = "300"
    rows[2] = [*rows[2]]
    rows[2][h.index("Moda")] = ""
    rows[2][h.index("Kehadiran")] = ""
    path = samples.write_table(tmp_path / "t.xlsx", {"Daftar": rows})
    _, batch = batch_of(path, "trainings")
    assert sorted(batch.rows["_reasons"][0]) == ["missing_value", "out_of_range"]
    assert batch.rows["mode"][1] == "luring" and batch.rows["attended"][1] == "hadir"
    assert batch.rows["participant_role"][1] == "peserta"


def test_conflicting_event_rows_are_all_flagged(tmp_path):
    rows = samples.training_rows(events=2, per_event=3)
    h = rows[0]
    rows[2] = [*rows[2]]
    rows[2][h.index("Tanggal Pelaksanaan")] = "1 Maret 2023"
    path = samples.write_table(tmp_path / "c.xlsx", {"D": rows})
    _, batch = batch_of(path, "trainings")
    flagged = ["conflicting_event" in r for r in batch.rows["_reasons"].to_list()]
    assert flagged == [True, True, True, False, False, False]


def test_event_code_is_derived_when_absent(tmp_path):
    rows = [r[:1] + r[2:] for r in samples.training_rows(events=2, per_event=2)]
    path = samples.write_table(tmp_path / "n.csv", {"d": rows})
    _, batch = batch_of(path, "trainings", typeless=True)
    codes = batch.rows["event_code"].to_list()
    assert codes[0] == codes[1] != codes[2] == codes[3]
    assert all(c.startswith("ev_") and len(c) == 15 for c in codes)


def test_pmm_snapshot_date_from_title_then_as_of(tmp_path):
    rows = samples.pmm_rows(n=3)
    titled_path = samples.write_table(tmp_path / "p.xlsx", {"P": samples.titled(
        ["Data per 23 Desember 2022"], rows)})
    _, batch = batch_of(titled_path, "pmm_progress")
    assert set(batch.rows["snapshot_date"].to_list()) == {dt.date(2022, 12, 23)}
    bare = samples.write_table(tmp_path / "q.xlsx", {"P": rows})
    _, batch = batch_of(bare, "pmm_progress", as_of=dt.date(2023, 1, 31))
    assert set(batch.rows["snapshot_date"].to_list()) == {dt.date(2023, 1, 31)}
    with pytest.raises(FileRejected) as err:
        batch_of(bare, "pmm_progress")
    assert err.value.code == "no_snapshot_date"
    early = samples.write_table(tmp_path / "r.xlsx", {"P": samples.titled(
        ["Data per 1 Februari 2022"], rows)})
    _, batch = batch_of(early, "pmm_progress")
    assert all(r == ["date_out_of_range"] for r in batch.rows["_reasons"].to_list())


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    import zipfile

    path = samples.write_table(tmp_path / "bomb.xlsx", {"Data": samples.cohort_rows(n=2)})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * (25 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024                  # small on disk
    with pytest.raises(FileRejected) as err:
        read_file(path, COHORTS, max_file_mb=1)              # 25 MB unpacked > 20 x 1 MB
    assert err.value.code == "file_too_large" and "was not unpacked" in err.value.message


def test_a_column_of_one_type_gives_what_the_cell_by_cell_path_gives():
    import polars as pl

    from ingestion.cells import NUMBER, TEXT
    from ingestion.reader import _column

    numbers = (6.0, 94.1, 1234567890123456.0, 1e16, 1e-7, 0.1 + 0.2)
    text, kinds = _column(numbers)  # one typed call
    assert text.to_list() == pl.Series(numbers, dtype=pl.String, strict=False).to_list()
    assert text.to_list()[:3] == ["6.0", "94.1", "1234567890123456.0"]
    assert set(kinds.to_list()) == {NUMBER}
    mixed = (6.0, "Tervalidasi", "", 12.5)
    text, kinds = _column(mixed)  # cell by cell
    assert text.to_list() == ["6.0", "Tervalidasi", "", "12.5"]
    assert kinds.to_list() == [NUMBER, TEXT, TEXT, NUMBER]  # "" becomes EMPTY downstream
    text, kinds = _column(("a", "b"))
    assert text.to_list() == ["a", "b"] and set(kinds.to_list()) == {TEXT}


def test_the_error_cell_scan_finds_a_marker_across_unzipped_blocks(tmp_path):
    import zipfile

    from ingestion import workbook_guard

    block = workbook_guard._BLOCK  # what the extent scan unzips at a time
    path = tmp_path / "w.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("across", b"a" * (block - 3) + b'<c t="e"><v>#N/A</v></c>' + b"b" * 99)
        zf.writestr("without", b"a" * (block + 10))
    sheets = {"across": "across", "without": "without"}
    assert workbook_guard.refuse_huge_extent(path, sheets, 5_000_000) == {"across"}


def test_quarantined_cells_are_built_per_row_from_their_own_sheet(tmp_path):
    import json

    rows = samples.cohort_rows(n=6)
    path = samples.write_table(tmp_path / "two.xlsx",
                               {"Satu": [rows[0], *rows[1:4]], "Dua": [rows[0], *rows[4:7]]})
    _, batch = batch_of(path)
    picked = batch.rows[[5, 0, 3]]  # rows of both sheets, out of order
    cells = [json.loads(text) for text in batch.cells_json(picked).to_list()]
    for (sheet, number), got, source in zip(
            picked.select("_sheet", "_row_number").iter_rows(), cells, [rows[6], rows[1],
                                                                        rows[4]], strict=True):
        assert (sheet, number) in {("Dua", 4), ("Satu", 2), ("Dua", 2)}
        assert list(got) == rows[0]  # the sheet's own headers, numbering column first
        assert got["Nama Lengkap"] == source[1] and got["No"] == str(source[0])
        assert got["NIK"] == "*" * 12 + str(source[3])[-4:]  # masked in quarantine
