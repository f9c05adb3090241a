"""One family of errors a user can cause, each with one clear sentence and an exit status.

Caught once, at the CLI or task boundary (SPEC 7: 2 usage or configuration, 3 warehouse
unreachable or lost). Everything else is a bug and may show a traceback.
"""

from __future__ import annotations


class LumbungError(Exception):
    """A problem the user can fix; `str(err)` is the one sentence to show."""

    exit_code = 1


class UsageError(LumbungError):
    """Unknown source, mart, column or load id; a missing path; a bad option or setting."""

    exit_code = 2


class WarehouseUnavailable(LumbungError):
    """The warehouse cannot be reached, or was lost mid-run."""

    exit_code = 3
