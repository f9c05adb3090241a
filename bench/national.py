"""National PMM snapshots for the transform bench, generated column-wise (seconds per million rows).

A national export follows the same teachers week after week: every snapshot holds each teacher
of one fixed population once per topic, and their modules advance from one week to the next.
Teachers sit in schools spread over all 514 regencies of the reference list, spelled as
Dinas write them (`Kabupaten X`, `Kab. X`, `Kota Y`). 2% of the rows carry an invalid
`Jumlah Modul` (0 or a word), as the ingest bench's workbooks do. Fixed seed: the same call
writes the same file.

    python bench/national.py ROWS DAY WEEK OUT.csv
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl

from ingestion import samples

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "ingestion" / "reference"
SEED = 9
HEADER = ["No", "NUPTK", "Nama Guru", "Email belajar.id", "NPSN", "Nama Sekolah", "Jenjang",
          "Kab/Kota", "Provinsi", "Topik Pelatihan Mandiri", "Modul Selesai", "Jumlah Modul",
          "Nilai Post Test", "Status Aksi Nyata"]
STATUSES = ["Belum Dikerjakan", "Menunggu Validasi", "Tervalidasi", "Perlu Perbaikan"]


def _population(teachers: int) -> pl.DataFrame:
    """TEACHERS teachers, each with a school (and so a regency) that does not change."""
    rng = np.random.default_rng(SEED)
    regencies = pl.read_csv(REFERENCE / "regencies.csv", schema_overrides={
        "regency_code": pl.Utf8, "province_code": pl.Utf8})
    provinces = pl.read_csv(REFERENCE / "provinces.csv", schema_overrides={
        "province_code": pl.Utf8})
    regencies = regencies.join(provinces, on="province_code")
    schools = max(1, teachers // 15)
    kind = rng.integers(0, len(samples.SCHOOL_KINDS), schools)
    place = rng.integers(0, regencies.height, schools)
    short = rng.random(schools) < 0.3  # `Kab. X` as often written
    region = regencies[place]
    written = pl.when(pl.Series(short) & (region["regency_type"] == "kabupaten")).then(
        "Kab. " + region["regency_name"]).otherwise(region["official_name"])
    school = pl.DataFrame({
        "npsn": pl.Series((10_000_000 + rng.choice(89_999_999, schools, replace=False))
                          .astype(str)),
        "school_name": pl.Series([k for k, _ in samples.SCHOOL_KINDS])[kind] + " "
        + pl.Series(rng.integers(1, 60, schools).astype(str)) + " " + region["regency_name"],
        "jenjang": pl.Series([j for _, j in samples.SCHOOL_KINDS])[kind],
        "regency": pl.select(written).to_series(),
        "province": region["province_name"],
    })
    nuptk = np.unique(rng.integers(10**15, 10**16, int(teachers * 1.01) + 10))
    rng.shuffle(nuptk)
    first, last = (pl.Series(names) for names in (samples.FIRST, samples.LAST))
    first_at = rng.integers(0, len(first), teachers)
    return pl.DataFrame({
        "nuptk": pl.Series(nuptk[:teachers].astype(str)),
        "first": first[first_at],
        "name": first[first_at] + " " + last[rng.integers(0, len(last), teachers)],
    }).with_columns(pl.Series("school", rng.integers(0, schools, teachers))).join(
        school.with_row_index("school"), on="school").drop("school")


def snapshot(rows: int, week: int) -> pl.DataFrame:
    """ROWS rows (teachers x topics) of the snapshot WEEK weeks after the first."""
    topics = len(samples.TOPICS)
    people = _population(-(-rows // topics))
    pairs = people.join(pl.DataFrame({"topic": samples.TOPICS}), how="cross").head(rows)
    n = pairs.height
    rng = np.random.default_rng(SEED + 1)  # the same per (teacher, topic) in every week
    total = rng.integers(4, 7, n)
    start, pace = rng.integers(-3, 3, n), rng.random(n) * 0.6
    weekly = np.random.default_rng(SEED + 100 + week)  # what changes from week to week
    done = np.clip(start + np.floor(pace * week).astype(int), 0, total)
    finished = done == total
    status = np.where(finished & (weekly.random(n) < 0.7), 2, weekly.integers(0, 4, n))
    score = np.round(weekly.uniform(55, 100, n), 1)
    invalid = weekly.random(n) < 0.02
    modules_total = pl.Series(total.astype(str))
    modules_total = pl.select(
        pl.when(pl.Series(invalid)).then(pl.lit("lima")).otherwise(modules_total)).to_series()
    row = pl.int_range(1, n + 1, eager=True)
    return pairs.select(
        pl.Series("No", row),
        pl.col("nuptk").alias("NUPTK"),
        pl.col("name").alias("Nama Guru"),
        (pl.col("first").str.to_lowercase() + row.cast(pl.Utf8) + "@guru.belajar.id")
        .alias("Email belajar.id"),
        pl.col("npsn").alias("NPSN"),
        pl.col("school_name").alias("Nama Sekolah"),
        pl.col("jenjang").alias("Jenjang"),
        pl.col("regency").alias("Kab/Kota"),
        pl.col("province").alias("Provinsi"),
        pl.col("topic").alias("Topik Pelatihan Mandiri"),
        pl.Series("Modul Selesai", done),
        modules_total.alias("Jumlah Modul"),
        pl.when(pl.Series(finished)).then(
            pl.Series(score).cast(pl.Utf8).str.replace(".", ",", literal=True))
        .otherwise(pl.lit("")).alias("Nilai Post Test"),
        pl.Series(STATUSES)[status].alias("Status Aksi Nyata"),
    )


def write(path: Path, rows: int, day: dt.date, week: int) -> Path:
    """The snapshot as a Dinas would save it: title lines, the `per <date>` line, a blank row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(f"Rekap Progres Pelatihan Mandiri\nData per {samples.indonesian_date(day)}\n\n")
        snapshot(rows, week).write_csv(out)
    partial.rename(path)
    return path


if __name__ == "__main__":
    rows, day, week, out = sys.argv[1:5]
    write(Path(out), int(rows), dt.date.fromisoformat(day), int(week))
