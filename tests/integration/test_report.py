"""The auditor report (SPEC 1, 5, 7): a run with loaded, quarantined, duplicate and rejected
files, its page opened in headless Chromium, its totals checked against the warehouse, a
`<script>` cell shown as text and never run; and the report of an old load rewritten later
with the same figures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ingestion import samples
from ingestion.reasons import text_id
from tests.helpers import json_lines, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCRIPT = ("<script>document.title='pwned';"
          "document.documentElement.setAttribute('data-pwned','yes')</script>")


def _a_run(inbox: Path) -> dict:
    rows = samples.cohort_rows(n=10)
    header = rows[0]
    rows[3] = list(rows[3])
    rows[3][header.index("Tanggal Mulai")] = "31/02/2022"        # quarantined: invalid_date
    rows[3][header.index("Nama Lengkap")] = SCRIPT              # ... and hostile
    samples.write_table(inbox / "cohorts" / "pgp_angkatan_9.xlsx", {"Peserta": rows})
    (inbox / "cohorts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(inbox / "cohorts" / "pgp_angkatan_9.xlsx",
                    inbox / "cohorts" / "pgp_angkatan_9_copy.xlsx")   # the same bytes again
    (inbox / "trainings").mkdir(parents=True, exist_ok=True)
    (inbox / "trainings" / "daftar_hadir.xlsx").write_bytes(os.urandom(3000))  # not a workbook
    samples.write_table(inbox / "pmm_progress" / "pmm.xlsx", {"PMM": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(n=40))})
    code, out, err = run_cli("run", "--inbox", inbox, "--json")
    assert code == 1, err                                        # a file was rejected
    lines = json_lines(out)
    statuses = sorted(line["status"] for line in lines[:-1])
    assert statuses == ["duplicate", "loaded", "loaded", "rejected"]
    built = lines[-1]
    assert built["status"] == "success" and Path(built["report"]).exists()
    return built


def _chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2200"]
    return subprocess.run([CHROMIUM, *flags, *args, page.as_uri()], capture_output=True,
                          text=True, timeout=120, check=True)


def _cell(dom: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"[^>]*>\s*([0-9]+)\s*<', dom)
    assert match, element_id
    return int(match.group(1))


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_report_reconciles_with_the_warehouse_in_a_real_browser(db, inbox, tmp_path):
    assert CHROMIUM, "CI must have Debian's chromium: .ci/run installs it"
    built = _a_run(inbox)
    page = Path(built["report"])

    shot = tmp_path / "report.png"
    _chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.stat().st_size > 30_000                      # a rendered page, not a blank
    dom = _chromium(page, tmp_path, "--dump-dom").stdout

    run = db.execute("select load_ids from audit.runs where run_id = %s",
                     (built["run_id"],)).fetchone()[0]
    loads = db.execute("select load_id, source, status, rows_read from audit.loads "
                       "where load_id = any(%s)", (run,)).fetchall()
    assert sorted(s for _, _, s, _ in loads) == ["duplicate", "loaded", "loaded", "rejected"]
    loaded = [(i, src, n) for i, src, status, n in loads if status == "loaded"]
    in_raw = sum(db.execute(f"select count(*) from raw.{src} where _load_id = %s",
                            (i,)).fetchone()[0] for i, src, _ in loaded)
    held = sum(db.execute(f"select count(*) from quarantine.{src} where _load_id = %s",
                          (i,)).fetchone()[0] for i, src, _ in loaded)
    assert _cell(dom, "total-read") == sum(n for _, _, n in loaded) == in_raw + held
    assert _cell(dom, "total-loaded") == in_raw
    assert _cell(dom, "total-quarantined") == held == 1
    assert _cell(dom, "files-count") == 4
    assert "daftar_hadir.xlsx" in dom.split('id="rejected"')[1].split("</table>")[0]
    assert "pgp_angkatan_9_copy.xlsx" in dom.split('id="duplicates"')[1].split("</table>")[0]
    assert "invalid_date" in dom and text_id("invalid_date") in dom   # codes with their texts

    # the hostile cell is on the page as text, and nothing ran
    assert "&lt;script&gt;document.title='pwned'" in dom
    assert "<script" not in dom
    assert "data-pwned" not in re.search(r"<html[^>]*>", dom).group(0)
    assert re.search(r"<title>Lumbung run \d+: auditor report</title>", dom)
    nodes = dict(db.execute(
        "select case when resource_type in ('model', 'snapshot') then 'built' else 'tested' "
        "end, count(*) from audit.dbt_results where run_id = %s group by 1",
        (built["run_id"],)).fetchall())
    assert f"Models and snapshots: {nodes['built']} success." in dom
    assert f"Tests: {nodes['tested']} pass." in dom
    assert "Content-Security-Policy" in page.read_text()
    assert "http://" not in page.read_text() and "https://" not in page.read_text()

    keep = os.environ.get("LUMBUNG_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "auditor_report.png")


def _figures(html: str) -> str:
    """The page without the one line that says when it was written."""
    return re.sub(r"this page was written [^<]*", "", html)


def test_the_report_of_an_old_load_is_rewritten_with_the_same_figures(db, inbox, tmp_path):
    built = _a_run(inbox)
    first = Path(built["report"]).read_text()
    old_load = db.execute("select min(load_id) from audit.loads").fetchone()[0]

    later = tmp_path / "later"
    samples.write_table(later / "cohorts" / "pgp_angkatan_10.csv",
                        {"d": samples.cohort_rows(seed=99, n=6)})
    code, _, err = run_cli("run", "--inbox", later)
    assert code == 0, err
    assert db.execute("select count(*) from audit.runs").fetchone()[0] >= 2

    code, out, err = run_cli("report", "--load-id", old_load)
    assert code == 0, err
    path = Path(re.search(r"Report of run \d+: (\S+)", out).group(1))
    assert path == Path(built["report"])
    assert _figures(path.read_text()) == _figures(first)

    code, _, err = run_cli("report", "--load-id", 999_999)
    assert code == 2 and "There is no load 999999." in err
