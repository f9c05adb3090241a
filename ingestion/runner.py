"""Loading several files: the loop the CLI, `run`, the demo and the DAGs share.

Each file is its own load and its own transaction; the inbox files are filed away after their
load committed. A warehouse that is lost stops the loop (nothing more can be loaded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from ingestion import faults, inbox, warehouse
from ingestion.contracts import SOURCES
from ingestion.loader import LoadResult, ingest_file
from ingestion.settings import Settings, settings


def ingest_paths(
    source: str,
    paths: list[Path],
    *,
    as_of: dt.date | None = None,
    replaces: int | None = None,
    cfg: Settings | None = None,
    on_result: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    cfg = cfg or settings()
    results = []
    for path in paths:
        result = ingest_file(path, source, as_of=as_of, replaces=replaces, cfg=cfg)
        faults.pause_point("after_commit")
        where = inbox.file_away(path, result, cfg.inbox)
        if "too_many_invalid_rows" in result.reasons:
            _corrections_for_rejected(result, where, cfg)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def ingest_inbox(
    cfg: Settings | None = None,
    on_result: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Every new file waiting in the inbox, source by source."""
    cfg = cfg or settings()
    results = []
    for source, path in inbox.all_new_files(cfg.inbox):
        results += ingest_paths(source, [path], cfg=cfg, on_result=on_result)
    return results


def stage_demo_inbox(cfg: Settings | None = None) -> list[Path]:
    """Copy the sample files of every source into the inbox, starting the warehouse; the
    ingest DAGs (or `ingest_inbox`) then load them.

    The samples are generated once per LUMBUNG_HOME (under `samples/`) and copied, so a second
    demo offers the same bytes again and shows them as duplicates.
    """
    import shutil

    from ingestion.samples import write_demo_inbox

    cfg = cfg or settings()
    warehouse.up(cfg)
    samples = cfg.home / "samples"
    if not samples.exists():
        write_demo_inbox(samples)
    staged = []
    for source in SOURCES:
        for path in inbox.new_files(samples, source):
            target = cfg.inbox / source / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            staged.append(target)
    return staged


def _corrections_for_rejected(result: LoadResult, where: Path, cfg: Settings) -> Path | None:
    """A file rejected for too many invalid rows gets its corrections workbook at once: beside
    it in `rejected/` when it came from the inbox, else under LUMBUNG_HOME/corrections/."""
    from ingestion.corrections import default_path, write_corrections

    if where != Path(result.file):
        target = where.with_name(where.name + ".corrections.xlsx")
    else:
        target = default_path(cfg.home, result.load_id, where.name)
    with warehouse.connect(cfg) as conn:
        return write_corrections(conn, result.load_id, target)
