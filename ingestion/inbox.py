"""The inbox: `inbox/<source>/` files, and where they go after a load (SPEC 2).

Files are never modified or deleted. A file that lies in `inbox/<source>/` moves to `loaded/`
(a duplicate too, with `<file>.duplicate.txt` naming the load that holds its bytes) or to
`rejected/` (with `<file>.reason.txt`), under its own name, or `<load_id>__<name>` when that name
is taken. A file given from anywhere else stays where it is.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.contracts import SOURCES
from ingestion.loader import LoadResult
from ingestion.reader import SPREADSHEET_FORMATS
from ingestion.reasons import reasons, text_en, text_id


def new_files(inbox: Path, source: str) -> list[Path]:
    """Spreadsheets waiting in inbox/<source>/, oldest name first."""
    folder = inbox / source
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SPREADSHEET_FORMATS and not p.name.startswith(".")
    )


def all_new_files(inbox: Path) -> list[tuple[str, Path]]:
    return [(source, p) for source in SOURCES for p in new_files(inbox, source)]


def in_inbox(path: Path, inbox: Path, source: str) -> bool:
    return path.resolve().parent == (inbox / source).resolve()


def file_away(path: Path, result: LoadResult, inbox: Path) -> Path:
    """Move a file of inbox/<source>/ to where its load result says; return where it is."""
    if result.load_id is None or not in_inbox(path, inbox, result.source):
        return path
    folder = path.parent / ("rejected" if result.status == "rejected" else "loaded")
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{result.load_id}__{path.name}"
    path.rename(target)
    if result.status == "rejected":
        note = target.with_name(target.name + ".reason.txt")
        note.write_text(reason_text(result), encoding="utf-8")
    elif result.status == "duplicate":
        note = target.with_name(target.name + ".duplicate.txt")
        note.write_text(
            f"{path.name} holds the same bytes as load {result.duplicate_of}, already loaded "
            f"for {result.source}; nothing was loaded again (load {result.load_id}).\n",
            encoding="utf-8",
        )
    return target


def reason_text(result: LoadResult) -> str:
    """One plain sentence per reason the file was rejected: the file-level one first (it names
    the missing column or the limit that was passed), then each row-level reason's count."""
    lines = [result.error or f"{Path(result.file).name} was rejected."]
    for code, count in result.reasons.items():
        if reasons().get(code) and reasons()[code].level == "row":
            rows = "row" if count == 1 else "rows"
            lines.append(f"{count} {rows} {code}: {text_en(code)}. ({text_id(code)})")
    return "\n".join(lines) + "\n"
