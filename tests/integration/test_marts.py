"""The marts, built by real dbt runs from real spreadsheets, against hand-computed figures.

The province is Banten, where Kabupaten Serang (3604) and Kota Serang (3673) share a name.
Every figure below was worked out by hand from the rows written here (see each comment).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import psycopg
import pytest

from ingestion import samples, warehouse
from tests.helpers import json_lines, run_cli

D = dt.date
NUPTK = {f"T{i}": f"36040100000000{i:02d}" for i in range(1, 7)}
NAMES = {"T1": "Siti Aminah", "T2": "Budi Santoso", "T3": "Rina Marlina", "T4": "Agus Salim",
         "T5": "Dewi Lestari", "T6": "Hendra Gunawan"}
NIK = {t: f"36710101019000{i:02d}" for i, t in enumerate(NUPTK, start=1)}
KAB, KOTA, CILEGON = "Kab. Serang", "Kota Serang", "Kota Cilegon"
SCHOOL = {"T1": ("SMP Negeri 1 Serang", "20600101", KAB),
          "T2": ("SD Negeri 2 Ciruas", "20600102", KAB),
          "T3": ("SMA Negeri 1 Kota Serang", "20600103", KOTA),
          "T4": ("SMK Negeri 2 Kota Serang", "20600104", KOTA),
          "T5": ("SD Negeri 1 Cilegon", "20600105", CILEGON),
          "T6": ("SMP Negeri 3 Cilegon", "20600106", CILEGON)}
NISN = {f"A{i}": f"00912345{i:02d}" for i in range(1, 7)}
EMAILS = [f"{NAMES[t].split()[0].lower()}@guru.belajar.id" for t in NUPTK]


# -- the spreadsheets ------------------------------------------------------------------------


def pmm_file(snapshot: str, rows: list[tuple]) -> list:
    header = ["No", "NUPTK", "Nama Guru", "Email belajar.id", "NPSN", "Nama Sekolah",
              "Kab/Kota", "Provinsi", "Topik Pelatihan", "Modul Selesai", "Jumlah Modul",
              "Status Aksi Nyata"]
    body = [[i + 1, NUPTK[t], NAMES[t], EMAILS[int(t[1]) - 1], SCHOOL[t][1], SCHOOL[t][0],
             regency, "Banten", topic, done, total, status]
            for i, (t, regency, topic, done, total, status) in enumerate(rows)]
    return samples.titled(["Rekap PMM Provinsi Banten", f"Data per {snapshot}"], [header, *body])


# January: Kab. Serang: T1 (A done+validated, B 1/4), T2 (A 2/3) -> 2 teachers, 1 completed,
#          rate 0.5, progress (1 + 1/4 + 2/3) / 3;  Kota Serang: T3 (A done, tervalidasi),
#          T4 (A done, waiting) -> rate 0.5, progress 1.0;  Cilegon: T5 (A 0/3) -> 0, 0.
#          Ranks: Kota Serang 1 (same rate, more progress), Kab. Serang 2, Cilegon 3.
JANUARY = [("T1", KAB, "Merdeka Belajar", 3, 3, "Tervalidasi"),
           ("T1", KAB, "Asesmen Formatif", 1, 4, "Belum Dikerjakan"),
           ("T2", KAB, "Merdeka Belajar", 2, 3, "Belum"),
           ("T3", KOTA, "Merdeka Belajar", 3, 3, "Tervalidasi"),
           ("T4", KOTA, "Merdeka Belajar", 3, 3, "Menunggu Validasi"),
           ("T5", CILEGON, "Merdeka Belajar", 0, 3, "Belum")]
# March: Kab. Serang and Kota Serang both 2/2 completed, progress 1.0: the tie goes to the lower
#        code, 3604 before 3673 -> Kab. Serang climbs 2 -> 1, Kota Serang falls 1 -> 2;
#        Cilegon: T5 1/3, T6 done -> 2 teachers, 1 completed, 0.5, progress (1/3 + 1) / 2.
MARCH = [("T1", KAB, "Merdeka Belajar", 3, 3, "Tervalidasi"),
         ("T2", KAB, "Merdeka Belajar", 3, 3, "Lulus"),
         ("T3", KOTA, "Merdeka Belajar", 3, 3, "Tervalidasi"),
         ("T4", KOTA, "Merdeka Belajar", 3, 3, "Selesai"),
         ("T5", CILEGON, "Merdeka Belajar", 1, 3, "Belum"),
         ("T6", CILEGON, "Merdeka Belajar", 3, 3, "Tervalidasi")]


def cohort_file(statuses: dict[str, str]) -> list:
    header = ["No", "Nama Lengkap", "NUPTK", "NIK", "Asal Sekolah", "NPSN", "Kabupaten/Kota",
              "Provinsi", "Program", "Angkatan", "Peran", "Status Kelulusan"]
    roles = {"T1": "CGP", "T2": "CGP", "T3": "CGP", "T4": "CGP", "T5": "Pengajar Praktik",
             "T6": "CGP"}
    regency = {"T1": KAB, "T2": KAB, "T3": KAB, "T4": KAB, "T5": KOTA, "T6": CILEGON}
    body = [[i + 1, NAMES[t], NUPTK[t], NIK[t], SCHOOL[t][0], SCHOOL[t][1], regency[t], "Banten",
             "PGP", "Angkatan 9", roles[t], status]
            for i, (t, status) in enumerate(statuses.items())]
    return [header, *body]


# The first issue says T2 is still active; the corrected re-issue says T2 did not pass.
COHORT_FIRST = {"T1": "Lulus", "T2": "Aktif", "T3": "Mengundurkan Diri", "T4": "Aktif",
                "T5": "Lulus", "T6": "Aktif"}
COHORT_CORRECTED = {**COHORT_FIRST, "T2": "Tidak Lulus"}


def training_file() -> list:
    header = ["No", "Kode Kegiatan", "Nama Kegiatan", "Jenis Kegiatan", "Penyelenggara",
              "Tanggal Pelaksanaan", "Kabupaten/Kota (Kegiatan)", "Provinsi", "Nama Peserta",
              "NUPTK", "Sebagai", "NPSN", "Moda", "Kehadiran", "JP"]
    iht = ["IHT-01", "IHT Kurikulum Merdeka", "IHT", "SMA Negeri 1 Kota Serang",
           "Senin, 6 Februari 2023", KOTA, "Banten"]
    loka = ["LOK-01", "Lokakarya Modul Ajar", "Lokakarya", "Dinas Pendidikan Kota Serang",
            "20 Februari 2023", KOTA, "Banten"]
    rows = [
        [*iht, NAMES["T1"], NUPTK["T1"], "Peserta", SCHOOL["T1"][1], "Luring", "Hadir", 8],
        [*iht, NAMES["T2"], NUPTK["T2"], "Peserta", SCHOOL["T2"][1], "Luring", "Hadir", 8],
        [*iht, NAMES["T3"], NUPTK["T3"], "Peserta", SCHOOL["T3"][1], "Luring", "Izin", 8],
        [*iht, NAMES["T4"], NUPTK["T4"], "Narasumber", SCHOOL["T4"][1], "Luring", "Hadir", 8],
        [*iht, "Ani Rahmawati", "", "Peserta", "20600199", "Luring", "Hadir", ""],
        [*loka, NAMES["T1"], NUPTK["T1"], "Peserta", SCHOOL["T1"][1], "Daring", "Hadir", 4],
    ]
    return [header, *[[i + 1, *r] for i, r in enumerate(rows)]]


ALUMNI_NAMES = {"A1": "Fajar Nugraha", "A2": "Intan Permata", "A3": "Yoga Pratama",
                "A4": "Nadia Putri", "A5": "Rizky Ramadhan", "A6": "Sari Wulandari"}


def alumni_file(rows: list[tuple]) -> list:
    header = ["No", "NISN", "Nama Alumni", "NPSN", "Asal SMK", "Kabupaten/Kota",
              "Kompetensi Keahlian", "Tahun Lulus", "Tanggal Pengisian", "Status Saat Ini",
              "Sesuai Kompetensi", "Masa Tunggu (bulan)"]
    body = [[i + 1, NISN[a], ALUMNI_NAMES[a], "20600104", "SMK Negeri 2 Kota Serang", KOTA,
             competency, 2023, survey, status, aligned, wait]
            for i, (a, competency, survey, status, aligned, wait) in enumerate(rows)]
    return [header, *body]


TKJ = "Teknik Komputer dan Jaringan"
# Latest survey per graduate: A1 bekerja ya 3, A2 bekerja tidak 5, A3 wirausaha ? 2,
# A4 melanjutkan ya, A5 belum, A6 bekerja ya 6 (its 2024 survey sits in the FIRST file; the
# later file brings an older survey, which must not win). BMW 5 of 6; aligned known among BMW:
# A1 ya, A2 tidak, A4 ya, A6 ya -> 3/4; waits of bekerja and wirausaha: 2, 3, 5, 6 -> median 4.
ALUMNI_FIRST = [("A1", TKJ, "2023-08-15", "Bekerja", "Ya", 3),
                ("A2", "TEKNIK KOMPUTER DAN JARINGAN", "2023-08-15", "Bekerja", "Tidak", 5),
                ("A3", TKJ, "2023-09-01", "Wirausaha", "", 2),
                ("A4", TKJ, "2023-09-01", "Kuliah", "Sesuai", ""),
                ("A5", TKJ, "2023-09-01", "Mencari Kerja", "", ""),
                ("A6", TKJ, "2024-02-01", "Bekerja", "Ya", 6)]
ALUMNI_LATER = [("A6", TKJ, "2023-08-01", "Belum Bekerja", "", "")]


def key(value: str, home) -> str:
    secret = (home / "pseudonym.key").read_text().strip().encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def built(lumbung_home, tmp_path_factory):
    """The dataset loaded in order, then one `lumbung transform`."""
    folder = tmp_path_factory.mktemp("marts")
    with warehouse.connect() as conn:
        conn.execute("truncate raw.cohorts, raw.trainings, raw.pmm_progress, "
                     "raw.alumni_surveys, quarantine.cohorts, quarantine.trainings, "
                     "quarantine.pmm_progress, quarantine.alumni_surveys, "
                     "audit.validation_results, audit.loads")
    files = [
        ("pmm_progress", samples.write_table(folder / "pmm_jan.xlsx", {
            "PMM": pmm_file("31 Januari 2023", JANUARY)})),
        ("pmm_progress", samples.write_table(folder / "pmm_mar.xlsx", {
            "PMM": pmm_file("31 Maret 2023", MARCH)})),
        ("cohorts", samples.write_table(folder / "pgp9.xlsx", {"Peserta": cohort_file(
            COHORT_FIRST)})),
        ("cohorts", samples.write_table(folder / "pgp9_perbaikan.xlsx", {
            "Peserta": cohort_file(COHORT_CORRECTED)})),
        ("trainings", samples.write_table(folder / "iht.csv", {"d": training_file()})),
        ("alumni_surveys", samples.write_table(folder / "tracer.xlsx", {
            "Alumni": alumni_file(ALUMNI_FIRST)})),
        ("alumni_surveys", samples.write_table(folder / "tracer_susulan.ods", {
            "Alumni": alumni_file(ALUMNI_LATER)})),
    ]
    loads = {}
    for source, path in files:
        line = json_lines(run_cli("ingest", source, path, "--json")[1])[0]
        assert line["status"] == "loaded" and line["rows_quarantined"] == 0, line
        loads[path.name] = line["load_id"]
    code, out, err = run_cli("transform", "--json")
    result = json_lines(out)[0]
    assert code == 0, (err, result)
    return {"loads": loads, "transform": result, "folder": folder}


def rows(query: str, *params) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(query, params).fetchall()


def test_transform_reports_models_tests_and_validation(built):
    result = built["transform"]
    assert result["status"] == "success"
    assert set(result["models"].values()) == {"success"}
    assert {"pmm_regency_ranking", "teacher_journey", "teacher_history",
            "fct_pmm_progress"} <= set(result["models"])
    assert result["tests"]["pass"] > 100
    assert result["tests"]["fail"] == result["tests"]["error"] == 0
    assert result["validation"]["success"] is True


def test_pmm_regency_ranking(built):
    got = rows("select province_code, regency_code, regency_name, snapshot_date, teachers, "
               "teachers_completed, completion_rate, avg_module_progress, rank_in_province, "
               "previous_rank, rank_change from marts.pmm_regency_ranking "
               "order by snapshot_date, rank_in_province")
    jan, mar = D(2023, 1, 31), D(2023, 3, 31)
    assert got == [
        ("36", "3673", "Kota Serang", jan, 2, 1, 0.5, 1.0, 1, None, None),
        ("36", "3604", "Kabupaten Serang", jan, 2, 1, 0.5, pytest.approx((1 + 1 / 4 + 2 / 3) / 3),
         2, None, None),
        ("36", "3672", "Kota Cilegon", jan, 1, 0, 0.0, 0.0, 3, None, None),
        ("36", "3604", "Kabupaten Serang", mar, 2, 2, 1.0, 1.0, 1, 2, 1),
        ("36", "3673", "Kota Serang", mar, 2, 2, 1.0, 1.0, 2, 1, -1),
        ("36", "3672", "Kota Cilegon", mar, 2, 1, 0.5, pytest.approx((1 / 3 + 1) / 2), 3, 3, 0),
    ]


def test_cohort_completion_uses_the_corrected_reissue(built):
    got = rows("select programme, cohort, province_code, regency_code, role, participants, "
               "graduated, not_graduated, withdrawn, in_progress, completion_rate "
               "from marts.cohort_completion order by regency_code, role")
    assert got == [
        # T1 lulus, T2 tidak lulus (the re-issue), T3 withdrew, T4 active: 1 / (4 - 1)
        ("guru_penggerak", 9, "36", "3604", "cgp", 4, 1, 1, 1, 1, pytest.approx(1 / 3)),
        # T6 only, still active: nothing to complete yet
        ("guru_penggerak", 9, "36", "3672", "cgp", 1, 0, 0, 0, 1, None),
        ("guru_penggerak", 9, "36", "3673", "pengajar_praktik", 1, 1, 0, 0, 0, 1.0),
    ]


def test_training_coverage(built):
    got = rows("select regency_code, month, event_type, mode, events, attendances, "
               "unique_teachers, total_jp from marts.training_coverage order by event_type")
    assert got == [
        # T1, T2 and Ani (no NUPTK, counted by name and NPSN) attended; T3 excused; T4 spoke;
        # Ani's JP is missing and counts as 0
        ("3673", D(2023, 2, 1), "iht", "luring", 1, 3, 3, 16),
        ("3673", D(2023, 2, 1), "lokakarya", "daring", 1, 1, 1, 4),
    ]


def test_alumni_outcomes(built):
    got = rows("select npsn, graduation_year, competency, alumni_surveyed, bekerja, "
               "melanjutkan, wirausaha, belum_bekerja, bmw_rate, aligned_rate, "
               "median_wait_months from marts.alumni_outcomes")
    assert got == [("20600104", 2023, TKJ, 6, 3, 1, 1, 1, pytest.approx(5 / 6), 0.75, 4.0)]


def test_teacher_journey(built, lumbung_home):
    got = {r[0]: r[1:] for r in rows(
        "select teacher_key, is_guru_penggerak, first_cohort, trainings_attended, total_jp, "
        "latest_pmm_snapshot_date, pmm_topics_completed from marts.teacher_journey")}
    mar = D(2023, 3, 31)
    expected = {
        "T1": (True, 9, 2, 12, mar, 1),     # CGP lulus; IHT + lokakarya; 8 + 4 JP
        "T2": (False, 9, 1, 8, mar, 1),     # tidak lulus after the re-issue
        "T3": (False, 9, 0, 0, mar, 1),     # excused from the IHT
        "T4": (False, 9, 0, 0, mar, 1),     # narasumber, not peserta
        "T5": (False, 9, 0, 0, mar, 0),     # Pengajar Praktik, lulus: not a CGP
        "T6": (False, 9, 0, 0, mar, 1),
    }
    assert got == {key(NUPTK[t], lumbung_home): v for t, v in expected.items()}


def test_no_personal_data_in_marts(built):
    secrets = [*NUPTK.values(), *NIK.values(), *NISN.values(), *EMAILS,
               *NAMES.values(), *ALUMNI_NAMES.values(), "Ani Rahmawati"]
    with warehouse.connect() as conn:
        relations = conn.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts'").fetchall()
        assert relations
        for table, column in relations:
            hits = conn.execute(
                f'select count(*) from marts."{table}" where "{column}"::text = any(%s)',
                (secrets,)).fetchone()[0]
            assert hits == 0, (table, column)
        tables = {t for t, _ in relations}
        assert {"pmm_regency_ranking", "cohort_completion", "training_coverage",
                "alumni_outcomes", "teacher_journey", "dim_teacher"} <= tables
        # ... while the named follow-up lists keep them, in pii
        named = conn.execute("select teacher_name from pii.pmm_unfinished_teachers").fetchall()
        assert named == [(NAMES["T5"],)]


def _login(role: str, password: str) -> psycopg.Connection:
    url = warehouse.url()
    port = url.rsplit(":", 1)[1].split("/")[0]
    return psycopg.connect(f"postgresql://{role}:{password}@127.0.0.1:{port}/lumbung",
                           autocommit=True)


def test_roles_see_what_they_may(built, monkeypatch):
    for role in ("bi_reader", "ops_reader", "auditor"):
        monkeypatch.setenv(f"LUMBUNG_{role.upper()}_PASSWORD", f"pw-{role}")
    warehouse.init()
    with _login("bi_reader", "pw-bi_reader") as bi:
        assert bi.execute("select count(*) from marts.pmm_regency_ranking").fetchone()[0] == 6
        for forbidden in ("raw.pmm_progress", "pii.pmm_unfinished_teachers",
                          "quarantine.cohorts", "audit.loads", "staging.stg_cohorts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f"select 1 from {forbidden} limit 1")
    with _login("auditor", "pw-auditor") as auditor:
        for allowed in ("marts.cohort_completion", "audit.loads", "audit.validation_results",
                        "quarantine.cohorts"):
            auditor.execute(f"select 1 from {allowed} limit 1")
        for forbidden in ("raw.cohorts", "pii.alumni_not_resurveyed", "staging.stg_cohorts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                auditor.execute(f"select 1 from {forbidden} limit 1")
    with _login("ops_reader", "pw-ops_reader") as ops:
        assert ops.execute("select count(*) from pii.pmm_unfinished_teachers").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ops.execute("select 1 from raw.cohorts limit 1")


def _denied(conn, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute(statement)


def test_roles_write_only_where_spec_6_lets_them(built, monkeypatch):
    """The read roles write nothing; the loader writes raw, quarantine and audit but reads no
    mart; the transformer reads raw without changing it. Login roles log in; the service
    roles are taken on by the owner (`set role`), as the loader and dbt do."""
    for role in ("bi_reader", "ops_reader", "auditor"):
        monkeypatch.setenv(f"LUMBUNG_{role.upper()}_PASSWORD", f"pw-{role}")
    warehouse.init()
    with _login("bi_reader", "pw-bi_reader") as bi:
        _denied(bi, "delete from marts.pmm_regency_ranking")
        _denied(bi, "insert into marts.dim_region select * from marts.dim_region limit 1")
        _denied(bi, "create table marts.mine (x int)")
    with _login("auditor", "pw-auditor") as auditor:
        _denied(auditor, "update audit.loads set status = 'voided'")
        _denied(auditor, "delete from quarantine.cohorts")
        _denied(auditor, "truncate marts.cohort_completion")
    with _login("ops_reader", "pw-ops_reader") as ops:
        _denied(ops, "delete from pii.pmm_unfinished_teachers")
        _denied(ops, "select 1 from marts.dim_teacher limit 1")
    with warehouse.connect(autocommit=True) as owner:
        owner.execute("set role lumbung_loader")
        owner.execute("select 1 from raw.cohorts limit 1")
        owner.execute("select 1 from quarantine.cohorts limit 1")
        _denied(owner, "select 1 from marts.fct_pmm_progress limit 1")
        _denied(owner, "select 1 from pii.pmm_unfinished_teachers limit 1")
        _denied(owner, "drop table raw.cohorts")
        owner.execute("reset role")
        owner.execute("set role lumbung_transformer")
        owner.execute("select 1 from raw.pmm_progress limit 1")
        _denied(owner, "delete from raw.pmm_progress")
        _denied(owner, "insert into raw.cohorts (_load_id) values (-1)")
        _denied(owner, "delete from audit.loads")


def test_the_pseudonym_key_is_in_no_log_report_dbt_file_or_mart(built, lumbung_home):
    """SPEC 10: the key that pseudonymises NUPTKs and NISNs stays in its 0600 file."""
    key_file = lumbung_home / "pseudonym.key"
    key = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(key) >= 32
    scanned, leaks = 0, []
    for path in lumbung_home.rglob("*"):  # logs, reports, dbt's target and logs, GX, Airflow
        if path.is_file() and path != key_file and "pgdata" not in path.parts:
            scanned += 1
            if key.encode() in path.read_bytes():
                leaks.append(path)
    assert leaks == [] and scanned > 100
    assert {"reports", "dbt", "gx"} <= {p.name for p in lumbung_home.iterdir()}
    with warehouse.connect() as conn:  # and no text value of a mart or the pii lists holds it
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('marts', 'pii') and data_type = 'text'").fetchall()
        assert len(columns) > 20
        for schema, table, column in columns:
            found = conn.execute(f'select count(*) from {schema}."{table}" '
                                 f'where strpos("{column}", %s) > 0', (key,)).fetchone()[0]
            assert found == 0, (schema, table, column)


def test_trace_returns_the_rows_whose_teachers_were_counted(built):
    code, out, _ = run_cli("trace", "pmm_regency_ranking", "--where", "regency_code=3604",
                           "--where", "snapshot_date=2023-03-31", "--json")
    traced = json_lines(out)
    assert code == 0
    # pmm_mar.xlsx: two title rows, a blank row, the header on row 4; T1 and T2 on rows 5, 6
    assert traced == [{"source": "pmm_progress", "load_id": built["loads"]["pmm_mar.xlsx"],
                       "source_file": "pmm_mar.xlsx", "sheet": "PMM", "row_number": n}
                      for n in (5, 6)]
    code, out, _ = run_cli("trace", "cohort_completion", "--where", "regency_code=3604")
    assert code == 0 and "pgp9_perbaikan.xlsx" in out and "(4 spreadsheet rows)" in out
    assert "pgp9.xlsx " not in out   # the first issue's rows were all superseded


def test_dbt_docs_generate_and_every_column_is_documented(built, lumbung_home):
    import json

    from ingestion.transform import run_dbt

    result = run_dbt(["docs", "generate"])
    assert result.success
    catalog = result.result
    target = lumbung_home / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    undocumented = []
    for unique_id, node in catalog.nodes.items():
        documented = manifest["nodes"][unique_id]["columns"]
        for column in node.columns:
            if not documented.get(column, {}).get("description"):
                undocumented.append(f"{unique_id}.{column}")
    assert "model.lumbung.pmm_regency_ranking" in catalog.nodes
    assert len(catalog.nodes) > 30 and undocumented == []
    log = (lumbung_home / "dbt" / "logs" / "dbt.log").read_text()
    assert "[warn" not in log.lower()          # no warnings from any build of this session


def test_incremental_pmm_matches_a_full_refresh(built):
    """A new snapshot, then a voided one: the incremental tables, and everything built from
    them, equal a full rebuild."""
    fact = ("select snapshot_date, teacher_key, topic_code, modules_completed, _load_id "
            "from marts.fct_pmm_progress order by 1, 2, 3")
    # every table kept per snapshot date, and what reads them (less when each row was built)
    readers = {name: f"select to_jsonb(t) - '_built_at' from {name} as t" for name in (
        "intermediate.int_pmm_progress__current", "intermediate.int_pmm_snapshot_loads",
        "intermediate.int_pmm_teacher_snapshots", "intermediate.int_pmm_topic_snapshots",
        "intermediate.int_pmm_school_snapshots", "marts.dim_pmm_topic",
        "marts.pmm_regency_ranking", "pii.pmm_unfinished_teachers", "marts.dim_school",
        "marts.teacher_journey", "intermediate.int_teacher_latest")}
    may = samples.write_table(built["folder"] / "pmm_may.xlsx", {
        "PMM": pmm_file("31 Mei 2023", [r for r in MARCH if r[0] != "T6"])})
    assert json_lines(run_cli("ingest", "pmm_progress", may, "--json")[1])[0]["status"] == \
        "loaded"
    assert run_cli("transform")[0] == 0
    assert rows("select count(distinct snapshot_date) from marts.fct_pmm_progress") == [(3,)]
    assert run_cli("void", built["loads"]["pmm_mar.xlsx"], "--why", "salah kirim")[0] == 0
    assert run_cli("transform")[0] == 0
    incremental = rows(fact)
    assert D(2023, 3, 31) not in {r[0] for r in incremental}
    # May now compares with January, the latest earlier snapshot that still counts
    assert rows("select regency_code, previous_rank from marts.pmm_regency_ranking "
                "where snapshot_date = '2023-05-31' order by regency_code") == [
        ("3604", 2), ("3672", 3), ("3673", 1)]
    built_incrementally = {name: sorted(rows(query), key=repr) for name, query in readers.items()}
    assert run_cli("transform", "--full-refresh")[0] == 0
    assert rows(fact) == incremental
    assert {name: sorted(rows(query), key=repr)
            for name, query in readers.items()} == built_incrementally


def test_tests_and_the_pii_scan_read_what_the_latest_build_wrote(built):
    """In an incremental build, the data tests of a table kept per snapshot date read the rows
    its latest build wrote (every row of each rebuilt date), and the marts' PII scan the rows
    built since the last clean scan; a full refresh reads every row."""
    from ingestion.marts_check import validate_marts
    from ingestion.transform import run_dbt

    # a build that stopped half way left the fact without its latest date: the next
    # incremental build finds the date's (snapshot, load) pairs missing and rebuilds it alone
    with warehouse.connect() as conn:
        conn.execute("delete from marts.fct_pmm_progress where snapshot_date = "
                     "(select max(snapshot_date) from marts.fct_pmm_progress)")
    assert run_cli("transform")[0] == 0
    latest = "(select max(_built_at) from marts.fct_pmm_progress)"
    dates = rows(f"select distinct snapshot_date = (select max(snapshot_date) from "
                 f"marts.fct_pmm_progress), _built_at = {latest} from marts.fct_pmm_progress")
    assert (True, True) in dates and (False, False) in dates  # the last build rebuilt one date
    one = ("(select ctid from marts.fct_pmm_progress where _built_at {} " + latest +
           " order by teacher_key, topic_code limit 1)")
    test = ["test", "--select", "expression_is_true_fct_pmm_progress_modules_completed_"
            "modules_total"]
    try:
        with warehouse.connect() as conn:  # a row an earlier build wrote, made impossible
            conn.execute("update marts.fct_pmm_progress set modules_completed = 99, "
                         "_source_file = 'guru@guru.belajar.id' where ctid = " + one.format("<"))
        assert run_dbt(test).success                    # not read: its date was not rebuilt
        assert validate_marts().success                 # scanned clean before
        assert not validate_marts(everything=True).success
        with warehouse.connect() as conn:  # and one the latest build wrote
            conn.execute("update marts.fct_pmm_progress set modules_completed = 99, "
                         "_source_file = 'guru@guru.belajar.id', _built_at = now() "
                         "where ctid = " + one.format("="))
        assert not run_dbt(test).success
        assert not validate_marts().success
    finally:
        assert run_cli("transform", "--full-refresh")[0] == 0
    assert rows("select count(*) from marts.fct_pmm_progress where modules_completed = 99 "
                "or position('@' in _source_file) > 0") == [(0,)]


def test_mart_validations_are_stored_and_can_fail(built):
    from ingestion.marts_check import validate_marts

    stored = rows("select suite_name, success from audit.validation_results "
                  "where kind = 'marts' order by suite_name")
    assert ("marts_pmm_rank_groups", True) in stored and ("marts_personal_data", True) in stored
    with warehouse.connect() as conn:   # a rate above 1 and a NUPTK where a mart must not have one
        conn.execute("insert into marts.cohort_completion values ('guru_penggerak', 1, '36', "
                     "'3604', %s, 1, 1, 0, 0, 0, 1.5)", (NUPTK["T1"],))
    try:
        result = validate_marts()
    finally:
        with warehouse.connect() as conn:
            conn.execute("delete from marts.cohort_completion where cohort = 1")
    assert result.success is False
    failed = {(s["suite_name"], e["type"]) for s in result.suites
              for e in s["expectations"] if not e["success"]}
    assert failed == {("marts_cohort_completion", "ExpectColumnValuesToBeBetween"),
                      ("marts_personal_data", "ExpectColumnValuesToBeBetween")}


def test_void_and_replace_change_the_marts_as_spec_4_says(built, lumbung_home):
    """Runs last in this module: it changes the loads the other tests read."""
    # void the corrected re-issue: T2 is active again, so the Kab. Serang CGP group has one
    # graduate of 4 - 2 in progress
    reissue = built["loads"]["pgp9_perbaikan.xlsx"]
    code, out, _ = run_cli("void", reissue, "--why", "dikirim ke dinas yang salah")
    assert code == 0 and f"Voided load {reissue} (cohorts, pgp9_perbaikan.xlsx)" in out
    assert "its 6 rows" in out
    (voided_at, voided_by, why), = rows(
        "select voided_at, voided_by, void_reason from audit.loads where load_id = %s", reissue)
    assert voided_at is not None and voided_by and why == "dikirim ke dinas yang salah"
    # replace the tracer study with a file that no longer has A5: A5 stops counting
    first = built["loads"]["tracer.xlsx"]
    replacement = samples.write_table(built["folder"] / "tracer_revisi.csv", {"d": alumni_file(
        [r for r in ALUMNI_FIRST if r[0] != "A5"])})
    line = json_lines(run_cli("ingest", "alumni_surveys", replacement, "--replaces", first,
                              "--json")[1])[0]
    assert line["status"] == "loaded"
    assert rows("select replaced_by from audit.loads where load_id = %s", first) == [
        (line["load_id"],)]
    assert run_cli("transform")[0] == 0
    assert rows("select participants, graduated, not_graduated, withdrawn, in_progress, "
                "completion_rate from marts.cohort_completion where regency_code = '3604'") == [
        (4, 1, 0, 1, 2, 0.5)]
    # A5 is gone with the replaced load; A6's 2024 survey is in the replacement too, so it still
    # beats the older survey of the later file: A1, A2, A6 work, A3 runs a business, A4 studies;
    # aligned known among them: A1, A2, A4, A6 -> 3/4; waits 2, 3, 5, 6 -> median 4
    assert rows("select alumni_surveyed, bekerja, melanjutkan, wirausaha, belum_bekerja, "
                "bmw_rate, aligned_rate, median_wait_months from marts.alumni_outcomes") == [
        (5, 3, 1, 1, 0, 1.0, 0.75, 4.0)]
    # nothing was deleted: the voided and replaced rows are still in raw
    assert rows("select count(*) from raw.cohorts where _load_id = %s", reissue) == [(6,)]
    # a second void is refused in one sentence
    code, _, err = run_cli("void", reissue, "--why", "lagi")
    assert code == 2 and "already voided" in err
