"""The extent scan places cells as calamine does, and the quick scan never says less than the
exact walk: whatever the spelling of the sheet XML, a stray far cell is seen."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingestion import workbook_guard

XFD = 16_384


def _sheet(body: bytes, prefix: bytes = b"") -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", b"<%sworksheet xmlns='x'><%ssheetData>%s</%ssheetData>"
                    b"</%sworksheet>" % (prefix, prefix, body, prefix, prefix))
    return zipfile.ZipFile(buffer)


def _bounds(zf: zipfile.ZipFile) -> tuple[tuple[int, int] | None, tuple[int, int], bool]:
    errors: list[bool] = []
    quick = workbook_guard._quick_bound(zf, "sheet.xml", errors)
    return quick, workbook_guard._exact_bound(zf, "sheet.xml", []), any(errors)


@pytest.mark.parametrize(("body", "prefix", "exact"), [
    (b'<row r="1"><c r="XFD1048576"/></row>', b"", (1_048_576, XFD)),
    (b"<row r='1'><c r='XFD1048576'/></row>", b"", (1_048_576, XFD)),        # single quotes
    (b'<row r="1"><c r="xfd1048576"/></row>', b"", (1_048_576, XFD)),        # lower case
    (b'<x:row r="1"><x:c r="XFD1048576"/></x:row>', b"x:", (1_048_576, XFD)),  # prefixed
    (b'<a-b:row r="1"><a-b:c r="XFD9"/></a-b:row>', b"a-b:", (9, XFD)),
    (b'<row r="999999">' + b"<c><v>1</v></c>" * 3000 + b"</row>", b"", (999_999, 3000)),
    (b'<row r="7">' + b'<c\nt="n"><v>1</v></c>' * 30 + b"</row>", b"", (7, 30)),
    (b'<row r="1"><c t="n" r="ZZ5"/></row>', b"", (5, 702)),                # r not first
])
def test_the_quick_scan_never_says_less_than_the_exact_walk(body, prefix, exact):
    quick, walked, _ = _bounds(_sheet(body, prefix))
    assert walked == exact
    assert quick is None or (quick[0] >= exact[0] and quick[1] >= exact[1])


def test_an_ordinary_sheet_is_bounded_without_a_walk_and_its_error_cells_are_noted():
    body = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="N%d" t="e"><v>#N/A</v></c>'
                    b"</row>" % (n, n, n) for n in range(1, 500))
    quick, walked, errors = _bounds(_sheet(body))
    assert quick == (workbook_guard.ROWS_OF_SIX_DIGITS, workbook_guard.COLUMNS_OF_ONE_LETTER)
    assert walked == (499, 14) and errors


def test_a_far_cell_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "far.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b'<worksheet><sheetData><row r="1">'
                    b'<c r="A1"/><c r="XFD1048576"/></row></sheetData></worksheet>')
    with pytest.raises(workbook_guard.FileRejected) as refused:
        workbook_guard.refuse_huge_extent(path, {"PMM": "xl/worksheets/sheet1.xml"}, 5_000_000)
    assert refused.value.code == "file_too_large"
    assert "column XFD" in refused.value.message and refused.value.message.endswith(".")
