"""The baseline of SPEC 9: what a hand-written pipeline does with a PMM export.

`pandas.read_excel(engine="openpyxl")`, the same rules applied row by row in Python (snapshot
date from the `Data per ...` line, NUPTK a 16-digit text, regency looked up in the Kemendagri
list, numbers in Indonesian notation, modules and score ranges, the status vocabulary), then
`DataFrame.to_sql` of the rows kept. Written plainly, the way such scripts are; it is measured,
never used. Usage: python bench/baseline.py WORKBOOK WAREHOUSE_URL -> prints a JSON line.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

MONTHS = {"januari": 1, "februari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
          "agustus": 8, "september": 9, "oktober": 10, "november": 11, "desember": 12}
STATUSES = {"belum dikerjakan": "belum", "belum": "belum", "menunggu validasi":
            "menunggu_validasi", "dikirim": "menunggu_validasi", "tervalidasi": "tervalidasi",
            "lulus": "tervalidasi", "selesai": "tervalidasi", "perlu perbaikan":
            "perlu_perbaikan", "ditolak": "perlu_perbaikan"}
REFERENCE = Path(__file__).resolve().parent.parent / "ingestion" / "reference" / "regencies.csv"


def squeeze(text: str) -> str:
    """Lower case, letters only: `Kota Lubuk Linggau` and `Kota Lubuklinggau` meet."""
    return re.sub(r"[^a-z]", "", text.lower())


def regencies() -> dict[str, str]:
    out = {}
    with open(REFERENCE, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = squeeze(row["regency_name"])
            if row["regency_type"] == "kota":
                out["kota" + name] = row["regency_code"]
            else:
                out["kabupaten" + name] = out["kab" + name] = row["regency_code"]
                out.setdefault(name, row["regency_code"])
    return out


def number(value):
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return "bad"


def main() -> None:
    import pandas as pd
    from sqlalchemy import create_engine

    path, url = Path(sys.argv[1]), sys.argv[2]
    started = time.perf_counter()
    sheet = pd.read_excel(path, engine="openpyxl", header=None, dtype=object)
    header_at = next(i for i, row in sheet.iterrows() if "NUPTK" in list(row.values))
    snapshot = None
    for i in range(header_at):
        line = " ".join(str(v) for v in sheet.iloc[i].values if isinstance(v, str))
        found = re.search(r"per (\d{1,2}) (\w+) (\d{4})", line, flags=re.I)
        if found:
            snapshot = date(int(found.group(3)), MONTHS[found.group(2).lower()],
                            int(found.group(1)))
    header = [str(v) for v in sheet.iloc[header_at].values]
    body = sheet.iloc[header_at + 1:]
    lookup = regencies()
    kept, dropped = [], 0
    for _, raw in body.iterrows():
        row = dict(zip(header, raw.values, strict=False))
        if all(v is None or (isinstance(v, float) and v != v) for v in row.values()):
            continue
        nuptk = row.get("NUPTK")
        done, total = number(row.get("Modul Selesai")), number(row.get("Jumlah Modul"))
        score = number(row.get("Nilai Post Test"))
        status = STATUSES.get(str(row.get("Status Aksi Nyata") or "").strip().lower())
        regency = lookup.get(squeeze(str(row.get("Kab/Kota") or "")))
        ok = (isinstance(nuptk, str) and re.fullmatch(r"\d{16}", nuptk.strip()) is not None
              and regency is not None and status is not None
              and isinstance(done, float) and isinstance(total, float) and total >= 1
              and 0 <= done <= total
              and (score is None or (isinstance(score, float) and 0 <= score <= 100)))
        if not ok:
            dropped += 1
            continue
        kept.append({"snapshot_date": snapshot, "nuptk": nuptk.strip(),
                     "teacher_name": row.get("Nama Guru"), "npsn": str(row.get("NPSN")),
                     "school_name": row.get("Nama Sekolah"), "regency_code": regency,
                     "topic": row.get("Topik Pelatihan Mandiri"),
                     "modules_completed": int(done), "modules_total": int(total),
                     "post_test_score": score, "aksi_nyata_status": status})
    frame = pd.DataFrame(kept)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    frame.to_sql("pmm_baseline", engine, schema="public", if_exists="replace", index=False,
                 chunksize=10_000)
    engine.dispose()
    print(json.dumps({"kept": len(kept), "dropped": dropped,
                      "elapsed_s": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
