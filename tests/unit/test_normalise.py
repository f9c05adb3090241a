"""Normalisers, rule by rule (table-driven), and their properties (hypothesis)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.cells import DATE, DATETIME, EMPTY, NUMBER, TEXT
from ingestion.contracts import load_contract
from ingestion.normalise.dates import parse_date
from ingestion.normalise.ids import parse_id
from ingestion.normalise.numbers import parse_integer, parse_number
from ingestion.normalise.regions import matcher
from ingestion.normalise.text import clean, fold
from ingestion.normalise.vocab import code_of, map_vocab
from ingestion.samples import BULAN, HARI


def one(fn, text, kind=TEXT, **kw):
    out = fn(pl.Series([text], dtype=pl.String), pl.Series([kind], dtype=pl.UInt8), **kw)
    return tuple(s[0] for s in out)


# -- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,expected", [
    ("2022-03-07", TEXT, (dt.date(2022, 3, 7), None)),
    ("7/3/2022", TEXT, (dt.date(2022, 3, 7), None)),
    ("07-03-2022", TEXT, (dt.date(2022, 3, 7), None)),
    ("Senin, 7 Maret 2022", TEXT, (dt.date(2022, 3, 7), None)),
    ("7 Mar 2022", TEXT, (dt.date(2022, 3, 7), None)),
    ("Jum'at, 11 Februari 2022", TEXT, (dt.date(2022, 2, 11), None)),
    ("23 Agt 2022", TEXT, (dt.date(2022, 8, 23), None)),
    ("44627", NUMBER, (dt.date(2022, 3, 7), None)),
    ("2022-03-07", DATE, (dt.date(2022, 3, 7), None)),
    ("2022-03-07 10:00:00", DATETIME, (dt.date(2022, 3, 7), None)),
    ("31/02/2022", TEXT, (None, "invalid_date")),
    ("kemarin", TEXT, (None, "invalid_date")),
    ("Kamis, 1 Juli 2024", TEXT, (None, "weekday_mismatch")),
    (None, EMPTY, (None, None)),
])
def test_dates(text, kind, expected):
    assert one(parse_date, text, kind) == expected


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["iso", "dmy_slash", "dmy_dash", "words", "short", "weekday", "serial"]))
def test_any_date_in_every_format_reads_back(day, style):
    text, kind = {
        "iso": (day.isoformat(), TEXT),
        "dmy_slash": (f"{day.day}/{day.month}/{day.year}", TEXT),
        "dmy_dash": (f"{day.day:02d}-{day.month:02d}-{day.year}", TEXT),
        "words": (f"{day.day} {BULAN[day.month - 1]} {day.year}", TEXT),
        "short": (f"{day.day} {BULAN[day.month - 1][:3]} {day.year}", TEXT),
        "weekday": (f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}", TEXT),
        "serial": (str((day - dt.date(1899, 12, 30)).days), NUMBER),
    }[style]
    assert one(parse_date, text, kind) == (day, None)


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,expected", [
    ("1.293", TEXT, (1293.0, None)),
    ("1.293.000", TEXT, (1293000.0, None)),
    ("12,5", TEXT, (12.5, None)),
    ("1.293,5", TEXT, (1293.5, None)),
    ("87.5", TEXT, (87.5, None)),
    ("1.2934", TEXT, (1.2934, None)),
    ("1.293", NUMBER, (1.293, None)),      # a numeric cell is its own value
    ("lima", TEXT, (None, "invalid_number")),
])
def test_numbers(text, kind, expected):
    assert one(parse_number, text, kind) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_thousands_and_decimal_comma_round_trip(whole, cents):
    grouped = f"{whole:,}".replace(",", ".")
    assert one(parse_number, f"{grouped},{cents:02d}") == (float(f"{whole}.{cents:02d}"), None)


@pytest.mark.parametrize("text,expected", [
    ("11", (11, None)), ("Angkatan 11", (11, None)), ("XI", (11, None)), ("ix", (9, None)),
    ("11,5", (None, "invalid_number")), ("sebelas", (None, "invalid_number")),
])
def test_cohort_ordinals(text, expected):
    assert one(parse_integer, text, ordinal=True) == expected


# -- identifiers -------------------------------------------------------------------------------
NUPTK = load_contract("cohorts").columns["nuptk"].identifier
NPSN = load_contract("cohorts").columns["npsn"].identifier
NISN = load_contract("alumni_surveys").columns["nisn"].identifier


@pytest.mark.parametrize("text,kind,fmt,typeless,expected", [
    ("1234567890123456", TEXT, NUPTK, False, ("1234567890123456", None, False)),
    ("1234567890123456", NUMBER, NUPTK, False, (None, "id_stored_as_number", False)),
    ("1.23457E+15", TEXT, NUPTK, True, (None, "id_stored_as_number", False)),
    ("12345", TEXT, NUPTK, False, (None, "invalid_id", False)),
    ("1234-5678", TEXT, NUPTK, False, (None, "invalid_id", False)),
    ("10603879", TEXT, NPSN, False, ("10603879", None, False)),
    ("P9960011", TEXT, NPSN, False, ("P9960011", None, False)),
    ("603879", NUMBER, NPSN, False, ("00603879", None, True)),
    ("603879", TEXT, NPSN, True, ("00603879", None, True)),     # csv: typeless export
    ("603879", TEXT, NPSN, False, (None, "invalid_id", False)),  # text in a workbook
    ("123456789", NUMBER, NISN, False, ("0123456789", None, True)),
    ("12345678901", NUMBER, NISN, False, (None, "invalid_id", False)),
])
def test_ids(text, kind, fmt, typeless, expected):
    assert one(parse_id, text, kind, fmt=fmt, typeless=typeless) == expected


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_any_16_digit_text_id_survives(digits):
    assert one(parse_id, digits, TEXT, fmt=NUPTK, typeless=False) == (digits, None, False)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=10**15, max_value=10**16 - 1))
def test_any_16_digit_number_is_quarantined(number):
    text = pl.Series([float(number)], dtype=pl.Float64).cast(pl.String)[0].removesuffix(".0")
    assert one(parse_id, text, NUMBER, fmt=NUPTK, typeless=False)[1] == "id_stored_as_number"


# -- vocabularies and text ---------------------------------------------------------------------
def test_vocabularies_fold_case_accents_spacing_and_punctuation():
    lookup = load_contract("trainings").columns["event_type"].value_lookup()
    values = pl.Series(["Coaching Clinic", "coaching_clinic", "COACHING-CLINIC", "IHT",
                        "In House Training", "seminar", None])
    got, reasons = map_vocab(values, lookup)
    assert got.to_list() == ["coaching_clinic"] * 3 + ["iht", "iht", None, None]
    assert reasons.to_list() == [None] * 5 + ["invalid_value", None]
    attended = load_contract("trainings").columns["attended"].value_lookup()
    assert map_vocab(pl.Series(["✓", "v", "1", "Alpa", "Sakit"]), attended)[0].to_list() == [
        "hadir", "hadir", "hadir", "tidak_hadir", "izin"]


def test_text_is_trimmed_collapsed_and_dash_is_empty():
    got = clean(pl.Series(["  Siti   Nur  ", "-", "—", "", "SMP N 1"])).to_list()
    assert got == ["Siti Nur", None, None, None, "SMP N 1"]
    # control characters (NUL, escapes, bell, DEL) go; tabs and line breaks become spaces
    assert clean(pl.Series(["Siti\x00 Wahyuni\x01\x1b[31m\x07", "a\tb\r\nc\x7f"])
                 ).to_list() == ["Siti Wahyuni[31m", "a b c"]
    assert fold("Kabupaten/Kota (Kegiatan)") != fold("Kabupaten/Kota (Sekolah)")
    assert code_of(pl.Series(["Pembelajaran Berdiferensiasi!"])).to_list() == [
        "pembelajaran_berdiferensiasi"]


# -- regions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("regency,province,expected", [
    ("Kota Lubuk Linggau", None, ("1673", "exact", None)),
    ("Lubuklinggau", "Sumatera Selatan", ("1673", "exact", None)),
    ("KAB. MUSI RAWAS", "Sumsel", ("1605", "exact", None)),
    ("Musi Rawas Utara", None, ("1613", "exact", None)),
    ("Serang", "Banten", (None, None, "ambiguous_regency")),
    ("Kota Serang", "Banten", ("3673", "exact", None)),
    ("Kabupaten Serang", None, ("3604", "exact", None)),
    ("Banjar", "Kalimantan Selatan", ("6303", "exact", None)),
    ("Banjar", None, (None, None, "ambiguous_regency")),
    ("Palembang", "Jawa Barat", (None, None, "regency_province_mismatch")),
    ("Musi Rawass", "Sumatra Selatan", ("1605", "fuzzy", None)),
    ("Lima Puluh Kota", None, ("1307", "exact", None)),
    ("Kota Kotamobagu", None, ("7174", "exact", None)),
    ("Atlantis", None, (None, None, "unknown_regency")),
])
def test_regions(regency, province, expected):
    m = matcher()
    assert m.match(regency, m.province(province)) == expected
