"""Great Expectations on every load (SPEC 5), with real GX runs against the real warehouse."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from ingestion import samples
from ingestion.contracts import load_contract
from ingestion.suites import suite_spec
from tests.helpers import json_lines, run_cli


def _stored(db, load_id):
    return db.execute(
        "select success, statistics, expectations, cross_check, data_docs_path "
        "from audit.validation_results where load_id = %s", (load_id,)).fetchone()


def test_a_clean_file_passes_its_suite(db, tmp_path):
    path = samples.write_table(tmp_path / "pmm.xlsx", {"P": samples.titled(
        ["Data per 23 Desember 2022"], samples.pmm_rows(n=12))})
    line = json_lines(run_cli("ingest", "pmm_progress", path, "--json")[1])[0]
    assert line["status"] == "loaded" and line["validation"]["success"] is True
    success, statistics, expectations, cross_check, page = _stored(db, line["load_id"])
    assert success and statistics["unsuccessful_expectations"] == 0
    assert statistics["evaluated_expectations"] == len(expectations) > 20
    assert cross_check["success"] and cross_check["mismatches"] == []
    assert page == line["validation"]["report"] and Path(page).is_file()


def test_thirty_percent_bad_rows_are_rejected_and_the_result_says_why(db, tmp_path):
    rows = samples.cohort_rows(n=10)
    h = rows[0]
    for i in (1, 2, 3):
        rows[i] = [*rows[i]]
        rows[i][h.index("Tanggal Mulai")] = "31/02/2022"
    path = samples.write_table(tmp_path / "bad.xlsx", {"Data": rows})
    code, out, _ = run_cli("ingest", "cohorts", path, "--json")
    line = json_lines(out)[0]
    assert code == 1 and line["status"] == "rejected"
    assert line["validation"]["success"] is False
    success, _, expectations, cross_check, _ = _stored(db, line["load_id"])
    assert success is False and cross_check["success"]
    failed = {(e["type"], e["column"], e["decides"]) for e in expectations if not e["success"]}
    assert failed == {
        ("ExpectColumnMeanToBeBetween", None, "too_many_invalid_rows"),
        ("ExpectColumnValuesToNotBeNull", "start_date", None),   # 3 of 10 > 20% allowed
    }
    mean = next(e for e in expectations if e["decides"] == "too_many_invalid_rows")
    assert mean["observed_value"] == pytest.approx(0.3)
    start = next(e for e in expectations if e["column"] == "start_date" and not e["success"])
    assert [r["row_number"] for r in start["unexpected_rows"]] == [2, 3, 4]


def test_one_stored_result_per_validated_load(db, tmp_path):
    path = samples.write_table(tmp_path / "a.csv", {"d": samples.alumni_rows(n=5)})
    junk = tmp_path / "junk.ods"
    junk.write_bytes(b"nope")
    run_cli("ingest", "alumni_surveys", path, path, junk)        # loaded, duplicate, rejected
    loads = db.execute("select load_id, status from audit.loads order by load_id").fetchall()
    assert [s for _, s in loads] == ["loaded", "duplicate", "rejected"]
    stored = db.execute("select load_id, count(*) from audit.validation_results "
                        "group by load_id").fetchall()
    assert stored == [(loads[0][0], 1)]   # files never read are not validated


def test_a_broken_normaliser_fails_the_cross_check(db, tmp_path, monkeypatch):
    import ingestion.rules as rules

    real = rules.map_vocab

    def lenient(text, lookup):  # a test double: lets an unknown value through unflagged
        values, reasons = real(text, lookup)
        values = pl.select(pl.coalesce(values, text).alias(text.name))[text.name]
        return values, pl.Series([None] * len(text), dtype=pl.String)

    monkeypatch.setattr(rules, "map_vocab", lenient)
    rows = samples.cohort_rows(n=8)
    rows[1] = [*rows[1]]
    rows[1][rows[0].index("Status Kelulusan")] = "Pindah Sekolah"
    path = samples.write_table(tmp_path / "c.xlsx", {"Data": rows})
    code, out, err = run_cli("ingest", "cohorts", path, "--json")
    assert code == 1 and out == ""
    assert "cross-check failed for cohorts: for column status" in err
    assert "spreadsheet rows [2]" in err and "Traceback" not in err
    assert db.execute("select count(*) from audit.loads").fetchone()[0] == 0
    assert db.execute("select count(*) from raw.cohorts").fetchone()[0] == 0


def test_rows_written_while_gx_validates_roll_back_when_gx_disagrees(db, tmp_path,
                                                                    monkeypatch):
    """The COPY streams while GX validates; what it writes follows the normalisers' invalid
    share. Were GX to judge the share otherwise, nothing of the load may stay."""
    import ingestion.suites as suites

    monkeypatch.setattr(suites, "invalid_share", lambda rows: 0.9)  # a test double: wrong
    path = samples.write_table(tmp_path / "c.xlsx", {"Data": samples.cohort_rows(n=8)})
    code, out, err = run_cli("ingest", "cohorts", path, "--json")
    assert code == 1 and out == "" and "Traceback" not in err
    assert "disagree whether 90.0% invalid rows is over the 20% allowed" in err
    for table in ("audit.loads", "raw.cohorts", "quarantine.cohorts"):
        assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0
    monkeypatch.undo()
    code, out, _ = run_cli("ingest", "cohorts", path, "--json")  # the rerun loads it once
    assert code == 0 and json_lines(out)[0]["rows_loaded"] == 8


def test_a_vocabulary_changed_in_yaml_changes_normaliser_and_suite(db, tmp_path, monkeypatch):
    import ingestion.contracts as contracts

    folder = tmp_path / "contracts"
    shutil.copytree(contracts.CONTRACT_DIR, folder)
    yaml_path = folder / "trainings.yaml"
    text = yaml_path.read_text()
    assert "      pengimbasan: [Pengimbasan]\n" in text
    yaml_path.write_text(text.replace(
        "      pengimbasan: [Pengimbasan]\n",
        "      pengimbasan: [Pengimbasan]\n      seminar: [Seminar, Webinar]\n"))
    monkeypatch.setattr(contracts, "CONTRACT_DIR", folder)
    contracts.load_contract.cache_clear()
    try:
        contract = load_contract("trainings")
        spec = suite_spec(contract, today=dt.date(2026, 11, 24), rows_read=1,
                          max_invalid_share=0.2)
        in_set = next(e for e in spec.expectations if e.column == "event_type"
                      and e.type == "ExpectColumnValuesToBeInSet")
        assert "seminar" in in_set.kwargs["value_set"]
        rows = samples.training_rows(events=1, per_event=5)
        kind = rows[0].index("Jenis Kegiatan")
        rows[1:] = [[*r[:kind], "Webinar", *r[kind + 1:]] for r in rows[1:]]
        path = samples.write_table(tmp_path / "w.csv", {"d": rows})
        line = json_lines(run_cli("ingest", "trainings", path, "--json")[1])[0]
        assert line["status"] == "loaded" and line["reasons"] == {}
        assert line["validation"]["success"] is True
        types = db.execute("select distinct event_type from raw.trainings").fetchall()
        assert types == [("seminar",)]
    finally:
        contracts.load_contract.cache_clear()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_data_docs_open_in_headless_chromium(db, tmp_path):
    assert CHROMIUM, "CI must have Debian's chromium: .ci/run installs it"
    rows = samples.cohort_rows(n=12)
    rows[2] = [*rows[2]]
    rows[2][rows[0].index("Tanggal Mulai")] = "31/02/2022"
    path = samples.write_table(tmp_path / "pgp.xlsx", {"Peserta": rows})
    line = json_lines(run_cli("ingest", "cohorts", path, "--json")[1])[0]
    page = Path(line["validation"]["report"])
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"]
    shot = tmp_path / "data_docs.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000                      # a rendered page, not a blank
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "cohorts_load" in dom and "load-" in dom
    assert "Succeeded" in dom or "Failed" in dom
    assert "start_date" in dom                               # the row-level expectations
    keep = os.environ.get("LUMBUNG_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "data_docs.png")
