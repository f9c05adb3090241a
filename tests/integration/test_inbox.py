"""Where files go after their load (SPEC 2); files are never modified."""

from __future__ import annotations

import hashlib

from ingestion import samples
from tests.helpers import json_lines, run_cli


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loaded_rejected_and_duplicate_files_are_filed_away(db, inbox):
    folder = inbox / "trainings"
    good = samples.write_table(folder / "iht.csv", {"d": samples.training_rows(events=1)})
    before = digest(good)
    (folder / "rusak.xlsx").write_bytes(b"not a workbook")
    code, out, _ = run_cli("ingest", "trainings", folder, "--json")
    assert code == 1
    lines = {json_lines(out)[i]["file"].rsplit("/", 1)[1]: json_lines(out)[i] for i in (0, 1)}
    assert lines["iht.csv"]["status"] == "loaded" and lines["rusak.xlsx"]["status"] == "rejected"
    assert not good.exists() and digest(folder / "loaded" / "iht.csv") == before
    assert (folder / "rejected" / "rusak.xlsx").read_bytes() == b"not a workbook"
    assert "rusak.xlsx" in (folder / "rejected" / "rusak.xlsx.reason.txt").read_text()

    # the same bytes again, under the same name: a duplicate, filed under its load id
    samples.write_table(folder / "iht.csv", {"d": samples.training_rows(events=1)})
    line = json_lines(run_cli("ingest", "trainings", folder / "iht.csv", "--json")[1])[0]
    assert line["status"] == "duplicate"
    moved = folder / "loaded" / f"{line['load_id']}__iht.csv"
    assert moved.exists() and digest(moved) == before
    note = (folder / "loaded" / f"{line['load_id']}__iht.csv.duplicate.txt").read_text()
    assert f"load {lines['iht.csv']['load_id']}" in note


def test_files_from_elsewhere_stay_where_they_are(db, inbox, tmp_path):
    path = samples.write_table(tmp_path / "elsewhere.csv", {"d": samples.cohort_rows(n=2)})
    assert run_cli("ingest", "cohorts", path)[0] == 0
    assert path.exists() and not (inbox / "cohorts").exists()
