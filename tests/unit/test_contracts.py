"""The contracts themselves: complete, unambiguous, and the one place spellings live."""

from __future__ import annotations

import pytest

from ingestion.contracts import SOURCES, load_contract
from ingestion.errors import UsageError
from ingestion.normalise.text import fold


@pytest.mark.parametrize("source", SOURCES)
def test_no_header_spelling_maps_to_two_columns(source):
    contract = load_contract(source)
    seen: dict[str, str] = {}
    for column in contract.columns.values():
        for spelling in column.headers:
            key = contract.fold_header(spelling)
            assert seen.setdefault(key, column.name) == column.name, (spelling, seen[key])


@pytest.mark.parametrize("source", SOURCES)
def test_vocabularies_are_unambiguous_and_include_their_codes(source):
    for column in load_contract(source).columns.values():
        lookup = column.value_lookup()
        for canonical, spellings in column.values.items():
            assert lookup[fold(canonical)] == canonical
            for spelling in spellings:
                assert lookup[fold(spelling)] == canonical, (column.name, spelling)


@pytest.mark.parametrize("source", SOURCES)
def test_every_required_column_has_spellings_and_a_version(source):
    contract = load_contract(source)
    assert len(contract.version) == 16
    for name in contract.required:
        assert contract.columns[name].headers, name
    assert set(contract.key_columns()) <= {n for n, _ in contract.raw_columns()}


def test_spec_spellings_spot_check():
    assert load_contract("cohorts").header_lookup[fold("L/P")] == "gender"
    assert load_contract("pmm_progress").header_lookup[fold("Akun belajar.id")] == "email"
    assert load_contract("trainings").header_lookup[fold("Sebagai")] == "participant_role"
    assert load_contract("alumni_surveys").header_lookup[fold("Asal SMK")] == "school_name"


def test_unknown_source_is_a_usage_error():
    with pytest.raises(UsageError, match="Unknown source"):
        load_contract("guru")
