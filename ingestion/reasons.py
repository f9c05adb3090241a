"""The reason codes of SPEC 3.6 and their texts, from `contracts/_reasons.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Reason:
    code: str
    level: str
    en: str
    id: str


@cache
def reasons() -> dict[str, Reason]:
    table = yaml.safe_load((Path(__file__).parent / "contracts" / "_reasons.yaml").read_text(
        encoding="utf-8"))
    return {code: Reason(code=code, **spec) for code, spec in table.items()}


def text_en(code: str) -> str:
    reason = reasons().get(code)
    return reason.en if reason else code


def text_id(code: str) -> str:
    reason = reasons().get(code)
    return reason.id if reason else code
