"""Source contracts: the YAML files under `ingestion/contracts/`, loaded into typed values.

A contract is the one place a source's rules are written: canonical columns, header spellings,
vocabularies, ranges, identifiers, the business key. The reader, the normalisers, the raw and
quarantine tables and the validation suite are all generated from it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ingestion.errors import UsageError
from ingestion.normalise.text import fold

CONTRACT_DIR = Path(__file__).parent / "contracts"
SOURCES = ("cohorts", "trainings", "pmm_progress", "alumni_surveys")
COLUMN_TYPES = ("text", "id", "vocab", "integer", "number", "date", "regency", "province")


@dataclass(frozen=True)
class IdentifierFormat:
    name: str
    length: int
    pattern: str
    lost_digits_as_number: bool = False
    pad_integers: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    headers: tuple[str, ...] = ()
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    range: tuple[Any, Any] | None = None
    rules: tuple[Any, ...] = ()
    accepts: tuple[str, ...] = ()
    pii: bool = False
    pseudonym: str | None = None
    identifier: IdentifierFormat | None = None
    mask_in_quarantine: bool = False
    default: str | None = None
    province_column: str | None = None
    derive_when_empty: dict[str, Any] | None = None
    code_column: str | None = None

    def value_lookup(self) -> dict[str, str]:
        """Folded spelling -> canonical value; the canonical value is one of its own spellings."""
        lookup: dict[str, str] = {}
        for canonical, spellings in self.values.items():
            for spelling in (canonical, *spellings):
                lookup.setdefault(fold(str(spelling)), canonical)
        return lookup


@dataclass(frozen=True)
class Contract:
    source: str
    description: str
    columns: dict[str, Column]
    business_key: tuple[Any, ...]
    version: str
    consistent_within: dict[str, Any] | None = None
    latest_wins_by: str | None = None
    snapshot: dict[str, Any] | None = None
    header_units: tuple[str, ...] = ()
    totals_words: tuple[str, ...] = ()
    numbering_headers: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns.values() if c.required)

    def fold_header(self, header: str) -> str:
        """Fold a header cell: a trailing unit such as `(bulan)` is ignored, other brackets kept."""
        text = str(header).strip()
        for unit in self.header_units:
            pattern = r"\s*" + re.escape(unit) + r"\s*$"
            text = re.sub(pattern, "", text, flags=re.IGNORECASE)
        return fold(text)

    @property
    def header_lookup(self) -> dict[str, str]:
        """Folded header spelling -> canonical column (the first column listing it wins)."""
        lookup: dict[str, str] = {}
        for column in self.columns.values():
            for spelling in (column.name, *column.headers):
                lookup.setdefault(self.fold_header(spelling), column.name)
        return lookup

    def raw_columns(self) -> list[tuple[str, str]]:
        """Typed canonical columns of `raw.<source>`, in contract order, with derived ones."""
        pg_types = {
            "text": "text", "id": "text", "vocab": "text", "integer": "integer",
            "number": "double precision", "date": "date", "regency": "text", "province": "text",
        }
        out: list[tuple[str, str]] = []
        for column in self.columns.values():
            out.append((column.name, pg_types[column.type]))
            if column.type == "regency":
                out += [("regency_code", "text"), ("regency_match", "text")]
            if column.type == "province":
                out.append(("province_code", "text"))
            if column.code_column:
                out.append((column.code_column, "text"))
            if column.pseudonym:
                out.append((column.pseudonym, "text"))
        return out

    def key_columns(self) -> list[str]:
        """Every column that takes part in the business key (an alternative counts too)."""
        names: list[str] = []
        for part in self.business_key:
            if isinstance(part, dict):
                for preferred, fallback in part.items():
                    names += [preferred, *fallback]
            else:
                names.append(part)
        return names


def _column(name: str, spec: dict[str, Any], shared: dict[str, Any]) -> Column:
    kind = spec.get("type", "text")
    if kind not in COLUMN_TYPES:
        raise ValueError(f"contract column {name}: unknown type {kind!r}")
    values = spec.get("values") or shared["vocabularies"].get(spec.get("vocabulary", ""), {})
    identifier = None
    if kind == "id":
        fmt = shared["identifiers"][spec["id"]]
        identifier = IdentifierFormat(name=spec["id"], **fmt)
    rng = spec.get("range")
    return Column(
        name=name,
        type=kind,
        required=bool(spec.get("required", False)),
        headers=tuple(str(h) for h in spec.get("headers", ())),
        values={k: tuple(str(s) for s in v) for k, v in values.items()},
        range=tuple(rng) if rng else None,
        rules=tuple(spec.get("rules", ())),
        accepts=tuple(spec.get("accepts", ())),
        pii=bool(spec.get("pii", False)),
        pseudonym=spec.get("pseudonym"),
        identifier=identifier,
        mask_in_quarantine=bool(spec.get("mask_in_quarantine", False)),
        default=spec.get("default"),
        province_column=spec.get("province_column"),
        derive_when_empty=spec.get("derive_when_empty"),
        code_column=spec.get("code_column"),
    )


@cache
def load_contract(source: str) -> Contract:
    """The contract of SOURCE; an unknown source is a usage error."""
    if source not in SOURCES:
        raise UsageError(
            f"Unknown source {source!r}: choose one of {', '.join(SOURCES)}."
        )
    shared_bytes = (CONTRACT_DIR / "_shared.yaml").read_bytes()
    source_bytes = (CONTRACT_DIR / f"{source}.yaml").read_bytes()
    shared = yaml.safe_load(shared_bytes)
    spec = yaml.safe_load(source_bytes)
    columns = {name: _column(name, col, shared) for name, col in spec["columns"].items()}
    version = hashlib.sha256(shared_bytes + b"\0" + source_bytes).hexdigest()[:16]
    return Contract(
        source=source,
        description=spec.get("description", ""),
        columns=columns,
        business_key=tuple(spec["business_key"]),
        version=version,
        consistent_within=spec.get("consistent_within"),
        latest_wins_by=spec.get("latest_wins_by"),
        snapshot=spec.get("snapshot"),
        header_units=tuple(shared.get("header_units", ())),
        totals_words=tuple(shared.get("totals_words", ())),
        numbering_headers=tuple(shared.get("numbering_headers", ())),
    )


def all_contracts() -> list[Contract]:
    return [load_contract(s) for s in SOURCES]
