"""Pseudonymous keys (SPEC 6): HMAC-SHA256 of an identifier under LUMBUNG_PSEUDONYM_KEY.

Key and identifier as UTF-8 bytes, the digest as lower-case hex. The embedded default keeps a
generated key in LUMBUNG_HOME (mode 0600); an external warehouse must be given the key, so that
two machines never pseudonymise one teacher differently. The key is never logged or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import polars as pl

from ingestion.errors import UsageError
from ingestion.settings import Settings

KEY_FILE = "pseudonym.key"


def pseudonym_key(cfg: Settings) -> bytes:
    configured = os.environ.get("LUMBUNG_PSEUDONYM_KEY")
    if configured:
        return configured.encode("utf-8")
    if not cfg.embedded:
        raise UsageError(
            "LUMBUNG_PSEUDONYM_KEY is not set: an external warehouse needs the key its "
            "pseudonyms were made with, so Lumbung will not ingest without it."
        )
    path = cfg.home / KEY_FILE
    if not path.exists():
        cfg.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def pseudonymise(values: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 hex of each distinct identifier, mapped back onto the column."""
    distinct = values.drop_nulls().unique().to_list()
    mapping = {
        v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest() for v in distinct
    }
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)
