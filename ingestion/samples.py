"""Realistic sample spreadsheets for the demo, the tests and the benchmark.

Seeded, so the same call writes the same files. The content follows what schools, Dinas and
the Balai Guru Penggerak send around: title rows, a `No` column, totals rows, Indonesian dates,
regency spellings with and without `Kab.`/`Kota`, ids typed as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

Row = Sequence[object]

# (regency as written, province as written, a school prefix for NPSN)
REGIONS = [
    ("Kota Lubuklinggau", "Sumatera Selatan", "1060"),
    ("Kab. Musi Rawas", "Sumatera Selatan", "1060"),
    ("Musi Rawas Utara", "Sumatera Selatan", "1064"),
    ("Kota Palembang", "Sumatera Selatan", "1060"),
    ("Banyuasin", "Sumatera Selatan", "1060"),
    ("Kabupaten Ogan Ilir", "Sumatera Selatan", "1060"),
    ("Kota Prabumulih", "Sumatera Selatan", "1060"),
    ("Kab. Batang", "Jawa Tengah", "2032"),
    ("Kabupaten Serang", "Banten", "2060"),
    ("Kota Serang", "Banten", "2060"),
]
FIRST = ["Ahmad", "Siti", "Rina", "Budi", "Dewi", "Agus", "Nur", "Sri", "Hendra", "Wulan",
         "Yusuf", "Fitri", "Rudi", "Ratna", "Andi", "Maya", "Joko", "Lestari", "Dian", "Eko"]
LAST = ["Saputra", "Wahyuni", "Pratama", "Lestari", "Hidayat", "Susanti", "Kurniawan",
        "Rahmawati", "Setiawan", "Handayani", "Nugroho", "Permata", "Gunawan", "Anggraini"]
SCHOOL_KINDS = [("SD Negeri", "SD"), ("SMP Negeri", "SMP"), ("SMA Negeri", "SMA"),
                ("SMK Negeri", "SMK")]
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember"]
HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
TOPICS = ["Merdeka Belajar", "Pembelajaran Berdiferensiasi", "Asesmen Formatif",
          "Kurikulum Merdeka", "Profil Pelajar Pancasila", "Literasi dan Numerasi"]
COMPETENCIES = ["Teknik Komputer dan Jaringan", "Akuntansi dan Keuangan Lembaga",
                "Teknik Kendaraan Ringan", "Tata Boga", "Desain Komunikasi Visual"]


class ExcelError(str):
    """A cell value that xlsx writes as an Excel error cell (`#N/A`); other formats as text."""


def indonesian_date(d: dt.date, weekday: bool = False, short: bool = False) -> str:
    month = BULAN[d.month - 1][:3] if short else BULAN[d.month - 1]
    text = f"{d.day} {month} {d.year}"
    return f"{HARI[d.weekday()]}, {text}" if weekday else text


class People:
    """A stable pool of teachers (name, nuptk, school, npsn, jenjang, regency, province)."""

    def __init__(self, seed: int, size: int = 400):
        rng = random.Random(seed)
        self.teachers = []
        for i in range(size):
            regency, province, prefix = REGIONS[i % len(REGIONS)]
            kind, jenjang = SCHOOL_KINDS[rng.randrange(len(SCHOOL_KINDS))]
            town = regency.replace("Kota ", "").replace("Kab. ", "").replace("Kabupaten ", "")
            school = f"{kind} {rng.randint(1, 12)} {town}"
            self.teachers.append({
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "nuptk": f"{rng.randint(10**15, 10**16 - 1)}",
                "nik": f"{rng.randint(10**15, 10**16 - 1)}",
                "school": school,
                "npsn": f"{prefix}{rng.randint(0, 9999):04d}",
                "jenjang": jenjang,
                "regency": regency,
                "province": province,
                "gender": rng.choice(["L", "P"]),
            })


def cohort_rows(seed: int = 7, n: int = 60) -> list[Row]:
    rng = random.Random(seed)
    people = People(seed).teachers
    header = ["No", "Nama Lengkap", "NUPTK", "NIK", "Jenis Kelamin", "Asal Sekolah", "NPSN",
              "Jenjang", "Kabupaten/Kota", "Provinsi", "Program", "Angkatan", "Peran",
              "Status Kelulusan", "Tanggal Mulai", "Tanggal Selesai"]
    rows: list[Row] = [header]
    for i in range(n):
        p = people[i]
        cohort = rng.choice([7, 8, 9])
        start = dt.date(2022 + (cohort - 7) // 2, 1 + 5 * ((cohort - 7) % 2), 10)
        role = "CGP" if i % 6 else "Pengajar Praktik"
        rows.append([
            i + 1, p["name"], p["nuptk"], p["nik"], p["gender"], p["school"], p["npsn"],
            p["jenjang"], p["regency"], p["province"], "Pendidikan Guru Penggerak",
            f"Angkatan {cohort}", role,
            rng.choice(["Lulus", "Lulus", "Lulus", "Tidak Lulus", "Mengundurkan Diri"]),
            start.strftime("%d/%m/%Y"), indonesian_date(start + dt.timedelta(days=270)),
        ])
    return rows


def training_rows(seed: int = 11, events: int = 4, per_event: int = 15) -> list[Row]:
    rng = random.Random(seed)
    people = People(seed).teachers
    header = ["No", "Kode Kegiatan", "Nama Kegiatan", "Jenis Kegiatan", "Tema", "Penyelenggara",
              "Tanggal Pelaksanaan", "Kabupaten/Kota (Kegiatan)", "Provinsi", "Nama Peserta",
              "NUPTK", "Sebagai", "Asal Sekolah", "NPSN Sekolah", "Moda", "Kehadiran", "JP"]
    rows: list[Row] = [header]
    kinds = ["In House Training", "Lokakarya", "Coaching Clinic", "Pengimbasan"]
    no = 0
    for e in range(events):
        day = dt.date(2023, 2 + e, 6 + e)
        regency, province, _ = REGIONS[e % len(REGIONS)]
        code = f"KEG-2023-{e + 1:03d}"
        title = f"{kinds[e % len(kinds)]} Kurikulum Merdeka {e + 1}"
        organizer = f"Dinas Pendidikan {regency}"
        for j in range(per_event):
            p = people[(e * per_event + j) % len(people)]
            no += 1
            rows.append([
                no, code, title, kinds[e % len(kinds)], "Kurikulum Merdeka", organizer,
                indonesian_date(day, weekday=True), regency, province, p["name"], p["nuptk"],
                "Narasumber" if j == 0 else "Peserta", p["school"], p["npsn"],
                rng.choice(["Luring", "Daring"]), rng.choice(["Hadir", "Hadir", "Hadir", "Izin"]),
                rng.choice([8, 16, 24]),
            ])
    return rows


def pmm_rows(seed: int = 23, n: int = 80, invalid_share: float = 0.0) -> list[Row]:
    rng = random.Random(seed)
    people = People(seed, size=max(50, n // 3 + 1)).teachers
    header = ["No", "NUPTK", "Nama Guru", "Email belajar.id", "NPSN", "Nama Sekolah", "Jenjang",
              "Kab/Kota", "Provinsi", "Topik Pelatihan Mandiri", "Modul Selesai",
              "Jumlah Modul", "Nilai Post Test", "Status Aksi Nyata"]
    rows: list[Row] = [header]
    statuses = ["Belum Dikerjakan", "Menunggu Validasi", "Tervalidasi", "Perlu Perbaikan"]
    for i in range(n):
        p = people[i // len(TOPICS) % len(people)]
        topic = TOPICS[i % len(TOPICS)]
        total = rng.choice([4, 5, 6])
        done = rng.randint(0, total)
        status = statuses[2] if done == total and rng.random() < 0.7 else rng.choice(statuses)
        score = round(rng.uniform(55, 100), 1) if done == total else ""
        row: list[object] = [
            i + 1, p["nuptk"], p["name"], f"{p['name'].split()[0].lower()}{i}@guru.belajar.id",
            p["npsn"], p["school"], p["jenjang"], p["regency"], p["province"], topic, done,
            total, str(score).replace(".", ","), status,
        ]
        if invalid_share and rng.random() < invalid_share:
            row[11] = 0 if i % 2 else "lima"
        rows.append(row)
    return rows


def alumni_rows(seed: int = 31, n: int = 50) -> list[Row]:
    rng = random.Random(seed)
    header = ["No", "NISN", "Nama Alumni", "NPSN", "Asal SMK", "Kabupaten/Kota", "Provinsi",
              "Kompetensi Keahlian", "Tahun Lulus", "Tanggal Pengisian", "Status Saat Ini",
              "Sesuai Kompetensi", "Nama Perusahaan", "Bidang Usaha", "Masa Tunggu (bulan)",
              "Penghasilan"]
    rows: list[Row] = [header]
    schools = [("SMK Negeri 2 Palembang", "10603879", "Kota Palembang", "Sumatera Selatan"),
               ("SMK Negeri 1 Lubuklinggau", "10604213", "Kota Lubuk Linggau", "Sumsel"),
               ("SMK Negeri 1 Batang", "20325621", "Kab. Batang", "Jawa Tengah")]
    for i in range(n):
        school, npsn, regency, province = schools[i % len(schools)]
        year = rng.choice([2022, 2023, 2024])
        status = rng.choice(["Bekerja", "Bekerja", "Kuliah", "Wirausaha", "Mencari Kerja"])
        works = status in ("Bekerja", "Wirausaha")
        rows.append([
            i + 1, f"00{rng.randint(10**7, 10**8 - 1)}", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            npsn, school, regency, province, COMPETENCIES[i % len(COMPETENCIES)], year,
            dt.date(year + 1, rng.randint(1, 6), rng.randint(1, 28)).isoformat(), status,
            rng.choice(["Ya", "Tidak"]) if works or status == "Kuliah" else "",
            "PT Sinar Musi" if status == "Bekerja" else "",
            "Perdagangan" if works else "", rng.randint(0, 14) if works else "",
            "Rp2.000.000 - Rp3.000.000" if works else "",
        ])
    return rows


# ---------------------------------------------------------------------------------------------
# writers: one function, every format


def write_table(path: Path, sheets: dict[str, list[Row]], *, encoding: str = "utf-8-sig",
                delimiter: str = ",") -> Path:
    """Write SHEETS (name -> rows) as xlsx, xls, ods or csv (first sheet), by PATH's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = next(iter(sheets.values()))
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            for row in rows:
                writer.writerow(["" if v is None else _csv_text(v) for v in row])
    elif suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)  # streams rows: large workbooks in seconds
        wb.properties.creator = "Lumbung samples"
        for name, rows in sheets.items():
            ws = wb.create_sheet(name)
            for row in rows:
                cells = []
                for v in row:
                    if isinstance(v, ExcelError):
                        cell = WriteOnlyCell(ws, value=str(v))
                        cell.data_type = "e"
                        cells.append(cell)
                    else:
                        cells.append(None if v == "" else v)
                ws.append(cells)
        wb.save(path)
    elif suffix == ".xls":
        import xlwt

        wb = xlwt.Workbook(encoding="utf-8")
        date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
        for name, rows in sheets.items():
            ws = wb.add_sheet(name[:31])
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value in (None, ""):
                        continue
                    if isinstance(value, dt.date):
                        ws.write(r, c, value, date_style)
                    else:
                        ws.write(r, c, value)
        wb.save(str(path))
    elif suffix == ".ods":
        _write_ods(path, sheets)
    else:
        raise ValueError(f"cannot write {suffix}")
    return path


def _csv_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return str(value).replace(".", ",")
    return str(value)


def _write_ods(path: Path, sheets: dict[str, list[Row]]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if value in (None, ""):
                    tr.addElement(TableCell())
                elif isinstance(value, bool) or not isinstance(value, int | float | dt.date):
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                    tr.addElement(cell)
                elif isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                    cell.addElement(P(text=value.isoformat()))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


def titled(title: list[str], rows: list[Row], totals: Row | None = None,
           footer: list[str] = ()) -> list[Row]:
    """Title lines and a blank row above the rows; a totals row and signature lines below."""
    out: list[Row] = [[t] for t in title] + [[]] + list(rows)
    if totals is not None:
        out += [totals, []]
    out += [[f] for f in footer]
    return out


def write_demo_inbox(inbox: Path) -> list[Path]:
    """The sample inbox of `make demo`: every source, every format, the usual mess."""
    written = []
    cohorts = cohort_rows()
    # the mistakes such lists really carry, so the demo shows quarantine and repairs
    cohorts[10] = [*cohorts[10][:2], float(cohorts[10][2]), *cohorts[10][3:]]  # NUPTK as number
    cohorts[20] = [*cohorts[20][:8], "Musi Rawass", "Sumatera Selatan", *cohorts[20][10:]]
    cohorts[30] = [*cohorts[30][:8], "Serang", "Banten", *cohorts[30][10:]]     # Kab. or Kota?
    cohorts[40] = [*cohorts[40][:14], "31/02/2022", *cohorts[40][15:]]         # no such date
    cohorts.append([len(cohorts), *cohorts[5][1:]])                               # pasted twice
    written.append(write_table(
        inbox / "cohorts" / "pgp_angkatan_7-9_sumsel.xlsx",
        {
            "Peserta": titled(
                ["DAFTAR PESERTA PROGRAM PENDIDIKAN GURU PENGGERAK",
                 "Balai Guru Penggerak Provinsi Sumatera Selatan"],
                cohorts, totals=["JUMLAH", len(cohorts) - 1],
                footer=["Palembang, 30 November 2023", "Kepala Balai", "ttd"],
            ),
            "Rekap": [["Rekap per Kabupaten"], ["Kabupaten/Kota", "Jumlah Peserta", "Lulus"],
                      ["Kota Lubuklinggau", 12, 9]],
        },
    ))
    sekolah = [["No", "Nama Peserta", "NUPTK", "Satuan Pendidikan", "NPSN Sekolah", "Kab/Kota",
                "Provinsi", "Jenis Program", "Gelombang", "Jabatan", "Status"]]
    for i, p in enumerate(People(5).teachers[:20]):
        sekolah.append([i + 1, p["name"], p["nuptk"], p["school"], p["npsn"], p["regency"],
                        p["province"], "PSP", "II", "Kepala Sekolah", "Aktif"])
    written.append(write_table(inbox / "cohorts" / "sekolah_penggerak_gel2.xls",
                               {"Sheet1": sekolah}))
    trainings = training_rows()
    written.append(write_table(
        inbox / "trainings" / "iht_kurikulum_merdeka_2023.csv",
        {"data": trainings}, encoding="cp1252", delimiter=";",
    ))
    written.append(write_table(
        inbox / "trainings" / "lokakarya_batang.xlsx",
        {"Daftar Hadir": titled(["DAFTAR HADIR LOKAKARYA"], training_rows(seed=12, events=2))},
    ))
    written.append(write_table(
        inbox / "pmm_progress" / "pmm_sumsel_per_23_des_2022.xlsx",
        {"Progres PMM": titled(["Rekap Progres Pelatihan Mandiri PMM",
                                "Data per 23 Desember 2022"], pmm_rows())},
    ))
    written.append(write_table(
        inbox / "alumni_surveys" / "tracer_study_smk_2024.ods",
        {"Lulusan": titled(["PENELUSURAN LULUSAN SMK (TRACER STUDY)"], alumni_rows())},
    ))
    written.append(write_table(
        inbox / "alumni_surveys" / "tracer_study_smk_batang.csv",
        {"data": alumni_rows(seed=32, n=20)},
    ))
    return written
