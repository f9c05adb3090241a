"""The CLI's sentences and exit codes (SPEC 7): 0 success, 1 checks failed, 2 usage, 3 warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingestion import samples
from tests.helpers import json_lines, run_cli

JSON_KEYS = {"file", "source", "sha256", "load_id", "status", "rows_read", "rows_loaded",
             "rows_quarantined", "rows_skipped", "reasons", "repairs", "validation", "error",
             "sheets", "duplicate_of"}


def test_json_line_has_exactly_the_spec_keys(db, tmp_path):
    path = samples.write_table(tmp_path / "a.csv", {"d": samples.alumni_rows(n=3)})
    code, out, _ = run_cli("ingest", "alumni_surveys", path, "--json")
    (line,) = json_lines(out)
    assert code == 0 and set(line) == JSON_KEYS
    assert line["sheets"] == {"read": [], "skipped": []}
    assert line["validation"]["success"] is True
    assert Path(line["validation"]["report"]).is_file()


def test_unknown_source_is_a_usage_error(lumbung_home, tmp_path):
    code, out, err = run_cli("ingest", "teachers", tmp_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Unknown source 'teachers'" in err


def test_missing_path_is_a_usage_error(lumbung_home, tmp_path):
    code, _, err = run_cli("ingest", "cohorts", tmp_path / "nope.xlsx")
    assert code == 2 and "nope.xlsx does not exist" in err and "Traceback" not in err


def test_bad_option_is_a_usage_error(lumbung_home):
    code, _, err = run_cli("ingest", "cohorts", "x.xlsx", "--as-of", "23/12/2022")
    assert code == 2 and "is not a date" in err


def test_rejected_file_exits_1_with_its_reason(db, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(os.urandom(4096))
    good = samples.write_table(tmp_path / "ok.csv", {"d": samples.cohort_rows(n=2)})
    code, out, err = run_cli("ingest", "cohorts", junk, good, "--json")
    bad, ok = json_lines(out)
    assert code == 1
    assert bad["status"] == "rejected" and bad["reasons"] == {"unreadable_file": 1}
    assert bad["rows_read"] == 0 and bad["validation"] is None and "junk.xlsx" in bad["error"]
    assert ok["status"] == "loaded"
    assert db.execute("select status from audit.loads order by load_id").fetchall() == [
        ("rejected",), ("loaded",)]


def test_missing_required_column_names_it(db, tmp_path):
    rows = [r[:13] + r[14:] for r in samples.cohort_rows(n=2)]  # without `Status Kelulusan`
    path = samples.write_table(tmp_path / "m.xlsx", {"Data": rows})
    code, out, _ = run_cli("ingest", "cohorts", path, "--json")
    line = json_lines(out)[0]
    assert code == 1 and line["reasons"] == {"missing_required_column": 1}
    assert "status (Status, Status Kelulusan, Keterangan)" in line["error"]


def test_unreachable_warehouse_exits_3(lumbung_home, tmp_path, monkeypatch):
    monkeypatch.setenv("LUMBUNG_WAREHOUSE_URL", "postgresql://u:p@127.0.0.1:9/nowhere")
    monkeypatch.setenv("LUMBUNG_PSEUDONYM_KEY", "test-key")
    path = samples.write_table(tmp_path / "a.csv", {"d": samples.cohort_rows(n=2)})
    code, out, err = run_cli("ingest", "cohorts", path)
    assert code == 3 and out == ""
    assert "is not reachable" in err and err.count("\n") == 1 and "u:p" not in err


def test_external_warehouse_without_key_refuses(lumbung_home, tmp_path, monkeypatch):
    from ingestion import warehouse

    monkeypatch.setenv("LUMBUNG_WAREHOUSE_URL", warehouse.url())
    path = samples.write_table(tmp_path / "a.csv", {"d": samples.cohort_rows(n=2)})
    code, _, err = run_cli("ingest", "cohorts", path)
    assert code == 2 and "LUMBUNG_PSEUDONYM_KEY is not set" in err


def test_console_script_runs_as_a_process(lumbung_home):
    result = subprocess.run([sys.executable, "-m", "ingestion.cli", "warehouse", "url"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("postgresql://lumbung:") and "127.0.0.1" in result.stdout


def test_run_loads_the_inbox_then_transforms(db, inbox, lumbung_home):
    samples.write_table(inbox / "cohorts" / "a.csv", {"d": samples.cohort_rows(n=4)})
    samples.write_table(inbox / "alumni_surveys" / "b.xlsx", {"D": samples.alumni_rows(n=4)})
    code, out, err = run_cli("run", "--inbox", inbox, "--json")
    lines = json_lines(out)
    assert code == 0, err
    assert [line["source"] for line in lines[:-1]] == ["cohorts", "alumni_surveys"]
    assert lines[-1]["status"] == "success" and set(lines[-1]) >= {
        "status", "models", "tests", "validation", "elapsed_s"}
    assert (inbox / "cohorts" / "loaded" / "a.csv").exists()
    code, out, _ = run_cli("run", "--inbox", inbox)           # nothing new the second time
    assert code == 0 and f"No new file in {inbox}" in out
    code, _, err = run_cli("run", "--inbox", inbox / "nowhere")
    assert code == 2 and "is not a folder" in err
