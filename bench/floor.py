"""The floor of SPEC 9: Lumbung's own reader alone, then a bare COPY of the same rows (every
cell as text, no rule, no key, no validation) into an unindexed table. Nothing Lumbung does can
take less. Usage: python bench/floor.py WORKBOOK WAREHOUSE_URL -> prints a JSON line.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path


def main() -> None:
    import psycopg
    from psycopg import sql

    from ingestion.contracts import load_contract
    from ingestion.reader import read_file

    path, url = Path(sys.argv[1]), sys.argv[2]
    started = time.perf_counter()
    result = read_file(path, load_contract("pmm_progress"), max_rows=10_000_000,
                       optional_required=["snapshot_date"])
    rows = 0
    with psycopg.connect(url) as conn:
        for sheet in result.sheets:
            columns = [c for c in sheet.cells.columns if c.startswith("c")]
            frame = sheet.cells.select(columns)
            conn.execute("drop table if exists public.pmm_floor")
            conn.execute(sql.SQL("create table public.pmm_floor ({})").format(
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                   for c in columns)))
            buffer = io.BytesIO()
            frame.write_csv(buffer, include_header=False)
            with conn.cursor().copy(sql.SQL("copy public.pmm_floor from stdin (format csv)")
                                    ) as copy:
                copy.write(buffer.getvalue())
            rows += frame.height
        conn.commit()
    print(json.dumps({"rows": rows, "elapsed_s": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
