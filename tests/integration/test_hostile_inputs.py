"""Hostile spreadsheets (SPEC 10): each gets one clear sentence and a reason code, never a
traceback, never runs anything; cell values stay data. Every case goes through a real
`lumbung ingest` process and is checked in the warehouse."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ingestion import samples

SQL = "'; DROP TABLE raw.cohorts; --"
HTML = "<script>alert('lumbung')</script>"


def _ingest(source: str, path: Path) -> tuple[int, dict, str]:
    run = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", "ingest", source, str(path), "--json"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ))
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert "Traceback" not in run.stdout + run.stderr
    assert "unexpected" not in run.stderr  # the CLI's last-resort handler did not fire
    return run.returncode, (json.loads(lines[-1]) if lines else {}), run.stderr.strip()


def _pmm(rows: list[list]) -> dict:
    return {"PMM": samples.titled(["Data per 23 Desember 2022"], [samples.pmm_rows(n=1)[0],
                                                                   *rows])}


def _pmm_row(n: int, **change) -> list:
    """The Nth data row of a sample PMM sheet (each N its own topic), with cells changed:
    c2="x" puts "x" in column 2."""
    row = list(samples.pmm_rows(n=6)[n])
    for index, value in change.items():
        row[int(index[1:])] = value
    return row


def _sentence(text: str) -> bool:
    """One clear sentence: one line, ending in a full stop, naming no Python internals."""
    return (len(text.splitlines()) == 1 and text.endswith(".")
            and not any(word in text for word in ("Error:", "Exception", "File \"")))


def _rejected(tmp_path: Path, name: str, content: bytes) -> tuple[dict, str]:
    path = tmp_path / name
    path.write_bytes(content)
    code, result, err = _ingest("pmm_progress", path)
    assert code == 1 and result["status"] == "rejected", (result, err)
    assert result["rows_read"] == result["rows_loaded"] == result["rows_quarantined"] == 0
    return result, result["error"]


def _valid_xlsx(tmp_path: Path) -> bytes:
    path = samples.write_table(tmp_path / "source.xlsx", _pmm([_pmm_row(1)]))
    return path.read_bytes()


def test_truncated_random_and_empty_workbooks(db, tmp_path):
    whole = _valid_xlsx(tmp_path)
    for name, content in [("truncated.xlsx", whole[:len(whole) // 2]),
                          ("random.xlsx", os.urandom(4096)),
                          ("empty.xlsx", b""), ("empty.csv", b"")]:
        result, sentence = _rejected(tmp_path, name, content)
        assert result["reasons"] == {"unreadable_file": 1} and name in sentence
        assert _sentence(sentence), sentence


def test_a_password_protected_workbook(db, tmp_path):
    # what Excel writes for a workbook with a password: an OLE compound file whose directory
    # names the EncryptedPackage stream (and an EncryptionInfo one), not a zip
    sector = bytearray(512)
    sector[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    directory = "EncryptionInfo".encode("utf-16-le") + bytes(50) + \
        "EncryptedPackage".encode("utf-16-le")
    result, sentence = _rejected(tmp_path, "rahasia.xlsx",
                                 bytes(sector) + directory + os.urandom(4096))
    assert result["reasons"] == {"unreadable_file": 1}
    assert "password-protected" in sentence and _sentence(sentence)


def test_a_zip_bomb_is_refused_unopened(db, tmp_path, monkeypatch):
    monkeypatch.setenv("LUMBUNG_MAX_FILE_MB", "1")  # unpacked limit: 20 MB
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<row>" + b"0" * (64 << 20) + b"</row>")
    content = buffer.getvalue()
    assert len(content) < (1 << 20)
    result, sentence = _rejected(tmp_path, "bom.xlsx", content)
    assert result["reasons"] == {"file_too_large": 1} and _sentence(sentence)


def test_workbooks_that_would_make_the_parser_abort_the_process(db, tmp_path):
    """python-calamine asks for memory without bound on a sheet whose cells span A1..XFD1048576
    and on an xls whose sector chain loops; Rust's allocation failure is an abort, not an
    exception, so both are refused before calamine sees them."""
    def with_rows(rows: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(_valid_xlsx(tmp_path))) as source, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for name in source.namelist():
                member = source.read(name)
                if name.startswith("xl/worksheets/"):
                    member = member.replace(b"</sheetData>", rows + b"</sheetData>")
                target.writestr(name, member)
        return out.getvalue()

    far = with_rows(b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
                    b"</row>")
    result, sentence = _rejected(tmp_path, "far.xlsx", far)
    assert result["reasons"] == {"file_too_large": 1} and _sentence(sentence)
    assert "XFD" in sentence and "1,048,576" in sentence
    # cells without a reference are placed one after another: 20,000 of them on row 999,999
    unnamed = with_rows(b'<row r="999999">' + b"<c><v>1</v></c>" * 20_000 + b"</row>")
    result, sentence = _rejected(tmp_path, "unnamed.xlsx", unnamed)
    assert result["reasons"] == {"file_too_large": 1} and "999,999" in sentence

    xls = bytearray(samples.write_table(tmp_path / "source.xls", _pmm([_pmm_row(1)])).read_bytes())
    sector = 1 << struct.unpack_from("<H", xls, 30)[0]
    directory, fat = struct.unpack_from("<I", xls, 48)[0], struct.unpack_from("<I", xls, 76)[0]
    struct.pack_into("<I", xls, (fat + 1) * sector + 4 * directory, directory)  # chain -> itself
    result, sentence = _rejected(tmp_path, "loop.xls", bytes(xls))
    assert result["reasons"] == {"unreadable_file": 1} and _sentence(sentence)
    assert "damaged xls" in sentence

    # a cell record moved to column 300 (BIFF8 holds 256): a fuzzed one at column 14,592 made
    # a 10 KB file take 16 s to read
    wide = bytearray(samples.write_table(tmp_path / "wide.xls", _pmm([_pmm_row(1)])).read_bytes())
    label = wide.find(b"\xfd\x00\x0a\x00")  # the first LABELSST: row, column, format, string
    struct.pack_into("<H", wide, label + 6, 300)
    result, sentence = _rejected(tmp_path, "wide.xls", bytes(wide))
    assert result["reasons"] == {"unreadable_file": 1} and _sentence(sentence)
    assert "301 columns" in sentence and "at most 65,536 and 256" in sentence


def test_sql_html_control_characters_and_long_cells_are_only_data(db, tmp_path):
    long_name = "Ahmad " + "Saputra" * 1428  # 10,002 characters
    header = [*samples.pmm_rows(n=1)[0], SQL]
    rows = [header,
            [*_pmm_row(1, c2=SQL), HTML],
            [*_pmm_row(2, c2=HTML, c5=f"SD Negeri 1 {HTML}"), SQL],
            [*_pmm_row(3, c2=long_name), "y"]]
    controls = [*_pmm_row(4, c2="Siti\x00 Wahyuni\x01\x1b[31m\x07"), "x"]  # csv only: xlsx
    for fmt, body in (("csv", [*rows, controls]), ("xlsx", rows)):   # cannot hold them
        path = samples.write_table(tmp_path / f"hostile.{fmt}", {"PMM": samples.titled(
            ["Data per 23 Desember 2022"], body)})
        code, result, err = _ingest("pmm_progress", path)
        assert code == 0 and result["status"] == "loaded", err
        assert result["rows_read"] == len(body) - 1 == result["rows_loaded"]
    db.rollback()
    assert db.execute("select to_regclass('raw.cohorts') is not null").fetchone()[0]
    names = {name for (name,) in db.execute("select teacher_name from raw.pmm_progress")}
    assert {SQL, HTML, long_name, "Siti Wahyuni[31m"} <= names  # stored as written, cleaned
    extra = [e for (e,) in db.execute("select _extra from raw.pmm_progress")]
    assert all(SQL in e for e in extra)  # the unknown column, under its own (hostile) name


def test_formula_cells_are_read_as_their_values_and_never_run(db, tmp_path):
    from openpyxl import Workbook

    witness = tmp_path / "ran.txt"
    wb = Workbook()
    ws = wb.active
    ws.title = "PMM"
    ws.append(["Data per 23 Desember 2022"])
    for row in samples.pmm_rows(n=18):  # the header and 18 plain rows
        ws.append(row)
    other = samples.pmm_rows(seed=5, n=6)  # another teacher's topics, for the formula rows
    formulas = {
        2: f'=HYPERLINK("file://{witness}","klik")',
        3: "=cmd|' /C touch " + str(witness) + "'!A0",   # DDE: runs a command in old Excels
    }
    for n, formula in formulas.items():
        row = list(other[n])
        row[2] = formula
        ws.append(row)
    total = list(other[4])
    total[11] = "=2+3"
    ws.append(total)
    path = tmp_path / "rumus.xlsx"
    wb.save(path)
    code, result, err = _ingest("pmm_progress", path)
    assert code == 0 and result["rows_read"] == 21, err
    assert result["rows_read"] == result["rows_loaded"] + result["rows_quarantined"]
    assert not witness.exists()
    # a formula saved without its value reads as an empty cell: a required one, so its row
    # waits in quarantine as missing_value; no formula text is stored anywhere
    assert result["rows_quarantined"] == 3 and result["reasons"] == {"missing_value": 3}
    db.rollback()
    stored = db.execute("select r.teacher_name from raw.pmm_progress r union all "
                        "select q.cells::text from quarantine.pmm_progress q").fetchall()
    assert len(stored) == 21 and not any("=" in (text or "") for (text,) in stored)


def test_a_workbook_of_a_thousand_sheets(db, tmp_path):
    sheets = {f"Rekap {i}": [["Catatan", i]] for i in range(999)}
    sheets["PMM"] = samples.titled(["Data per 23 Desember 2022"], samples.pmm_rows(n=20))
    path = samples.write_table(tmp_path / "seribu.xlsx", sheets)
    code, result, err = _ingest("pmm_progress", path)
    assert code == 0 and result["status"] == "loaded", err
    assert result["rows_read"] == 20 == result["rows_loaded"] + result["rows_quarantined"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_of_only_hostile_headers_has_no_header(db, tmp_path, fmt):
    path = samples.write_table(tmp_path / f"kepala.{fmt}", {"PMM": [
        [SQL, HTML, "=1+1"], ["a", "b", "c"]]})
    code, result, err = _ingest("pmm_progress", path)
    assert code == 1 and result["reasons"] == {"no_header_found": 1}
    assert _sentence(result["error"]), result["error"]


def test_a_corrections_workbook_never_turns_a_value_into_a_formula(db, tmp_path):
    """SPEC 10: values starting with =, +, - or @ go back to the sender as text cells."""
    risky = ["=HYPERLINK(\"http://x\",\"klik\")", "+62 812", "-cmd", "@SUM(A1:A9)"]
    body = [samples.pmm_rows(n=1)[0]]
    for n, value in enumerate(risky, start=1):  # each row invalid (modules_total) and risky
        body.append(_pmm_row(n, c2=value, c11="lima"))
    body += samples.pmm_rows(seed=5, n=20)[1:]  # enough valid rows for the file to load
    path = samples.write_table(tmp_path / "berisiko.csv", {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], body)})
    code, result, err = _ingest("pmm_progress", path)
    assert code == 0 and result["rows_quarantined"] == 4, (result, err)
    made = subprocess.run([sys.executable, "-m", "ingestion.cli", "corrections", "--load-id",
                           str(result["load_id"])], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(made.stdout.strip()) as workbook:
        sheets = [n for n in workbook.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = b"".join(workbook.read(n) for n in sheets).decode()
    assert "<f>" not in xml and "<f " not in xml        # no formula anywhere
    from python_calamine import CalamineWorkbook

    cells = {v for row in CalamineWorkbook.from_path(made.stdout.strip()).get_sheet_by_index(0)
             .to_python() for v in row}
    assert set(risky) <= cells                           # each value there, as its text
