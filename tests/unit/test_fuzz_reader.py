"""The reader and the contract rules on mutated real files (SPEC 10): whatever the bytes, a
file is read (every row then kept or given reasons) or refused with a FileRejected and its
code; nothing else escapes, and nothing hangs.

Hypothesis mutates sample files of every format: raw bytes (flips, cuts, insertions), and,
inside xlsx and ods, the XML of the sheet itself (so the parser, not only the zip check, sees
the damage). `make test` tries LUMBUNG_FUZZ_EXAMPLES cases (default 40); `make fuzz` many more.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion import samples
from ingestion.cells import FileRejected
from ingestion.contracts import load_contract
from ingestion.reader import read_file
from ingestion.rules import Context, apply_contract

EXAMPLES = int(os.environ.get("LUMBUNG_FUZZ_EXAMPLES", "40"))
HANG_S = 30
PMM = load_contract("pmm_progress")
FORMATS = ("xlsx", "ods", "xls", "csv")


def _seed(fmt: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = samples.write_table(Path(folder) / f"seed.{fmt}", {"PMM": samples.titled(
            ["Data per 23 Desember 2022"], samples.pmm_rows(n=12, invalid_share=0.2))})
        return path.read_bytes()


SEEDS = {fmt: _seed(fmt) for fmt in FORMATS}


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 4096))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 512))] * draw(st.integers(1, 50))
    return bytes(data)


@st.composite
def sheet_mutation(draw, data: bytes) -> bytes:
    """Mutate the XML members of a zipped workbook and zip it again (valid zip, odd XML)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = source.namelist()
        victims = set(draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)))
        for name in names:
            member = source.read(name)
            if name in victims:
                member = draw(byte_mutation(member))
            target.writestr(name, member)
    return out.getvalue()


@st.composite
def mutated_file(draw) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(FORMATS))
    seed = SEEDS[fmt]
    if fmt in ("xlsx", "ods") and draw(st.booleans()):
        return fmt, draw(sheet_mutation(seed))
    return fmt, draw(byte_mutation(seed))


def _on_hang(signum, frame):
    raise TimeoutError(f"the reader took more than {HANG_S} s on one file")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_file())
def test_a_mutated_file_is_read_or_refused_never_crashes(case):
    fmt, content = case
    previous = signal.signal(signal.SIGALRM, _on_hang)
    signal.alarm(HANG_S)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"mutated.{fmt}"
            path.write_bytes(content)
            try:
                read = read_file(path, PMM, optional_required=["snapshot_date"])
                batch = apply_contract(read, PMM, Context(
                    today=dt.date(2026, 11, 24), as_of=None, typeless=fmt == "csv"))
            except FileRejected as refused:  # a file-level reason, in a sentence
                assert refused.code and refused.message.endswith(".")
                return
            # every row read is there, each kept or given its reasons
            assert batch.rows.height == batch.rows_as_read == read.rows_read
            assert batch.rows["_reasons"].null_count() == 0
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_seeds_themselves_read(fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"seed.{fmt}"
        path.write_bytes(SEEDS[fmt])
        assert read_file(path, PMM, optional_required=["snapshot_date"]).rows_read == 12
