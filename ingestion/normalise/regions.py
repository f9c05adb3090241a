"""Regions: kabupaten/kota names matched to the official Kemendagri codes (SPEC 3.5).

Matching folds case, punctuation, spacing (`Lubuk Linggau` = `Lubuklinggau`), `Sumatra` =
`Sumatera`, and the prefixes `Kab.`, `Kabupaten`, `Kabupaten Administrasi`, `Kota`, `Kota Adm.`,
`Kota Administrasi` (which also decide between a Kabupaten and a Kota of one name). An exact
match is looked for in the whole country first; only when there is none, a small typo is matched
when exactly one candidate is close (Damerau-Levenshtein <= 1 for names up to 8 letters, <= 2
for longer ones), among the row's province's regencies when given. It runs over the distinct
(regency, province) pairs of a batch, never per cell.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml
from rapidfuzz.distance import DamerauLevenshtein

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

_REGENCY_PREFIX = re.compile(
    r"^(?:(?P<kab>kabupaten\s+administrasi|kab\.?\s*adm\.?|kabupaten|kab\.|kab)"
    r"|(?P<kota>kota\s+administrasi|kota\s+adm\.?|kota))\s+"
)
_PROVINCE_PREFIX = re.compile(r"^(?:provinsi|prov\.?)\s+")


@dataclass(frozen=True)
class Regency:
    code: str
    province_code: str
    type: str
    name: str
    official_name: str
    key: str  # folded name


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    lowered = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"\s+", " ", lowered).strip()


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.replace("sumatra", "sumatera"))


def split_regency(text: str) -> tuple[str | None, str]:
    """(`kabupaten` | `kota` | None, folded bare name) of a regency as written."""
    lowered = _ascii_lower(text)
    m = _REGENCY_PREFIX.match(lowered)
    kind = None
    if m:
        kind = "kabupaten" if m.group("kab") else "kota"
        lowered = lowered[m.end():]
    return kind, _squash(lowered)


def fold_province(text: str) -> str:
    return _squash(_PROVINCE_PREFIX.sub("", _ascii_lower(text)))


class RegionMatcher:
    """The reference, indexed for matching; build once per process with `matcher()`."""

    def __init__(self, reference_dir: Path = REFERENCE_DIR):
        with (reference_dir / "provinces.csv").open(encoding="utf-8") as fh:
            provinces = list(csv.DictReader(fh))
        with (reference_dir / "regencies.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        aliases = yaml.safe_load((reference_dir / "aliases.yaml").read_text(encoding="utf-8"))
        self.province_names = {p["province_code"]: p["province_name"] for p in provinces}
        self.province_by_key: dict[str, str] = {}
        for p in provinces:
            self.province_by_key[fold_province(p["province_name"])] = p["province_code"]
        for code, names in (aliases.get("province_abbreviations") or {}).items():
            for name in names or ():
                self.province_by_key.setdefault(fold_province(name), str(code))
        self.regencies = [
            Regency(r["regency_code"], r["province_code"], r["regency_type"], r["regency_name"],
                    r["official_name"], split_regency(r["regency_name"])[1])
            for r in rows
        ]
        self.by_code = {r.code: r for r in self.regencies}
        self.by_key: dict[str, list[Regency]] = {}
        for r in self.regencies:
            self.by_key.setdefault(r.key, []).append(r)
        for code, names in (aliases.get("regency_former_names") or {}).items():
            for name in names or ():
                key = split_regency(name)[1]
                if self.by_code[str(code)] not in self.by_key.get(key, []):
                    self.by_key.setdefault(key, []).append(self.by_code[str(code)])

    def province(self, text: str | None) -> str | None:
        return self.province_by_key.get(fold_province(text)) if text else None

    def match(
        self, regency: str | None, province_code: str | None
    ) -> tuple[str | None, str | None, str | None]:
        """(regency_code, match kind `exact`|`fuzzy`, reason) for one distinct pair."""
        if not regency:
            return None, None, None
        kind, key = split_regency(regency)
        if not key:
            return None, None, "unknown_regency"
        exact = self.by_key.get(key, [])
        if exact:
            pool = [r for r in exact if province_code is None or r.province_code == province_code]
            if not pool:
                return None, None, "regency_province_mismatch"
            return self._decide(pool, kind, "exact")
        pool = [
            r for r in self.regencies
            if (province_code is None or r.province_code == province_code)
            and (kind is None or r.type == kind)
        ]
        limit = 1 if len(key) <= 8 else 2
        close = [r for r in pool if DamerauLevenshtein.distance(key, r.key, score_cutoff=limit)
                 <= limit]
        if not close:
            return None, None, "unknown_regency"
        if len({r.key for r in close}) > 1:
            return None, None, "unknown_regency"  # several different names are close
        return self._decide(close, kind, "fuzzy")

    @staticmethod
    def _decide(pool: list[Regency], kind: str | None, how: str):
        typed = [r for r in pool if kind is None or r.type == kind]
        if not typed:
            return None, None, "unknown_regency"
        if len(typed) > 1:
            return None, None, "ambiguous_regency"
        return typed[0].code, how, None


@cache
def matcher() -> RegionMatcher:
    return RegionMatcher()


def match_regions(
    regency: pl.Series, province: pl.Series | None
) -> dict[str, pl.Series]:
    """Per row: regency_code, province_code, regency_match, and the two reason columns."""
    m = matcher()
    n = len(regency)
    prov = province if province is not None else pl.repeat(None, n, dtype=pl.String,
                                                             eager=True)
    pairs = pl.DataFrame({"regency": regency, "province": prov})
    distinct = pairs.unique()
    rows = []
    for reg, prv in distinct.iter_rows():
        province_code = m.province(prv)
        province_reason = "unknown_province" if prv and province_code is None else None
        code, how, reason = m.match(reg, province_code)
        # an unknown province leaves province_code empty (the row is quarantined for it)
        derived = code[:2] if code and not prv else None
        rows.append((reg, prv, code, province_code or derived, how, reason, province_reason))
    table = pl.DataFrame(
        rows,
        schema={"regency": pl.String, "province": pl.String, "regency_code": pl.String,
                "province_code": pl.String, "regency_match": pl.String,
                "regency_reason": pl.String, "province_reason": pl.String},
        orient="row",
    )
    joined = pairs.join(table, on=["regency", "province"], how="left", nulls_equal=True,
                        maintain_order="left")
    return {name: joined[name] for name in
            ("regency_code", "province_code", "regency_match", "regency_reason", "province_reason")}
