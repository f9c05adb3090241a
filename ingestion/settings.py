"""Settings from the environment (SPEC 2, 3.6, 6, 7), read when asked, never cached at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import UsageError


def _number(name: str, default: float, kind: type = float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise UsageError(f"{name} must be a number, not {raw!r}.") from None
    if value < 0:
        raise UsageError(f"{name} must not be negative, not {raw!r}.")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    inbox: Path
    warehouse_url: str | None        # None: the embedded server under `home`
    max_file_mb: float
    max_rows: int
    max_invalid_share: float
    user: str

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None


def settings() -> Settings:
    home = Path(os.environ.get("LUMBUNG_HOME") or "./.lumbung").expanduser().resolve()
    inbox = os.environ.get("LUMBUNG_INBOX")
    share = _number("LUMBUNG_MAX_INVALID_SHARE", 0.20)
    if share > 1:
        raise UsageError(f"LUMBUNG_MAX_INVALID_SHARE must be between 0 and 1, not {share}.")
    return Settings(
        home=home,
        inbox=Path(inbox).expanduser().resolve() if inbox else home / "inbox",
        warehouse_url=os.environ.get("LUMBUNG_WAREHOUSE_URL") or None,
        max_file_mb=_number("LUMBUNG_MAX_FILE_MB", 200),
        max_rows=int(_number("LUMBUNG_MAX_ROWS", 5_000_000, int)),
        max_invalid_share=share,
        user=os.environ.get("LUMBUNG_USER") or _os_user(),
    )


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid())
