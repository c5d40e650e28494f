"""The warehouse schema: every table of the design, applied once, re-applied as a no-op."""

from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.stage_mapping import STAGES
from gcc_pipeline.warehouse.migrate import migrate, migration_files

DESIGN_TABLES = {
    "jobnimbus_raw_events",
    "sales_reps",
    "contacts",
    "jobs",
    "payments",
    "expenses",
    "workflow_status_lookup",
    "job_status_history",
    "jobnimbus_ingestion_log",
    "jobnimbus_quarantine",
}

CATALOG_SNAPSHOT = """
SELECT table_schema, table_name, column_name, data_type, coalesce(numeric_precision, 0),
       coalesce(numeric_scale, 0)
FROM information_schema.columns WHERE table_schema IN ('public', 'analytics')
UNION ALL
SELECT schemaname, tablename, indexname, indexdef, 0, 0 FROM pg_indexes
WHERE schemaname IN ('public', 'analytics')
UNION ALL
SELECT schemaname, matviewname, 'matview', definition, 0, 0 FROM pg_matviews
ORDER BY 1, 2, 3
"""


def snapshot(url: str) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(CATALOG_SNAPSHOT)
        return cur.fetchall()


def test_schema_applies_to_an_empty_database_with_every_design_table(empty_db_url: str) -> None:
    result = migrate(empty_db_url)

    assert result.applied == [p.name for p in migration_files()]
    with psycopg2.connect(empty_db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
        tables = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'analytics'")
        assert cur.fetchone() is not None
    assert tables >= DESIGN_TABLES


def test_reapplying_the_schema_changes_nothing(empty_db_url: str) -> None:
    migrate(empty_db_url)
    before = snapshot(empty_db_url)

    second = migrate(empty_db_url)

    assert second.applied == []
    assert snapshot(empty_db_url) == before


def test_an_existing_database_only_gets_the_files_it_lacks(empty_db_url: str, tmp_path) -> None:
    files = migration_files()
    partial = tmp_path / "sql"
    partial.mkdir()
    for path in files[:1]:
        (partial / path.name).write_text(path.read_text())
    assert migrate(empty_db_url, partial).applied == [files[0].name]

    assert migrate(empty_db_url).applied == [p.name for p in files[1:]]


def test_a_failing_file_leaves_nothing_applied_and_its_error_names_it(
    empty_db_url: str, tmp_path
) -> None:
    broken = tmp_path / "sql"
    broken.mkdir()
    for path in migration_files():
        (broken / path.name).write_text(path.read_text())
    (broken / "999_broken.sql").write_text("ALTER TABLE jobs ADD COLUMN ghost no_such_type;\n")
    with pytest.raises(psycopg2.Error) as raised:
        migrate(empty_db_url, broken)
    assert "while applying sql/999_broken.sql" in raised.value.__notes__
    with psycopg2.connect(empty_db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('jobs'), to_regclass('gcc_schema_migrations')")
        assert cur.fetchone() == (None, None)  # every file shared the transaction that failed
    assert "999_broken.sql" not in migrate(empty_db_url).applied


def test_money_is_numeric_14_2_times_are_timestamptz_and_payloads_jsonb(warehouse_url: str) -> None:
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT table_name, column_name, data_type, numeric_precision, numeric_scale
               FROM information_schema.columns WHERE table_schema = 'public'"""
        )
        columns = {(t, c): (d, p, s) for t, c, d, p, s in cur.fetchall()}
    for money in [("payments", "amount"), ("payments", "net_amount"), ("expenses", "amount")]:
        assert columns[money] == ("numeric", 14, 2)
    for moment in [("jobs", "date_created"), ("payments", "date_payment")]:
        assert columns[moment][0] == "timestamp with time zone"
    assert columns[("jobnimbus_raw_events", "payload")][0] == "jsonb"


def test_a_changed_migration_file_is_refused_not_silently_skipped(
    empty_db_url: str, tmp_path
) -> None:
    from gcc_pipeline.settings import ConfigError

    first = migration_files()[0]
    copy = tmp_path / "sql"
    copy.mkdir()
    (copy / first.name).write_text(first.read_text())
    migrate(empty_db_url, copy)
    (copy / first.name).write_text(first.read_text() + "\n-- edited\n")

    with pytest.raises(ConfigError, match="changed after it was applied"):
        migrate(empty_db_url, copy)


def test_status_names_match_after_normalizing_apostrophes_and_whitespace(db) -> None:
    with db.cursor() as cur:
        cur.execute(
            "SELECT gcc_status_key(%s), gcc_status_key(%s)",
            ("Bob\u2019s  Collection ", "bob's collection"),
        )
        left, right = cur.fetchone()
    assert left == right == "bob's collection"


def test_sql_knows_the_same_stages_in_the_same_order_as_the_mapping(db) -> None:
    with db.cursor() as cur:
        cur.execute("SELECT gcc_stages(), gcc_stage_order('Lead'), gcc_stage_order('None'), "
                    "gcc_stage_order('Unknown')")  # fmt: skip
        stages, lead, none, unknown = cur.fetchone()
        cur.execute("SELECT stage, stage_order FROM gcc_funnel_stages() ORDER BY stage_order")
        funnel = cur.fetchall()
    assert tuple(stages) == STAGES
    assert (lead, none, unknown) == (1, len(STAGES), None)
    assert funnel == [(s, i) for i, s in enumerate(STAGES[: STAGES.index("Completed") + 1], 1)]


# ---------------------------------------------------------------- view files (repeatable)


def _copy_sql(tmp_path: Path) -> Path:
    from gcc_pipeline.warehouse.migrate import view_files

    copy = tmp_path / "sql"
    (copy / "views").mkdir(parents=True)
    for path in migration_files():
        (copy / path.name).write_text(path.read_text())
    for path in view_files():
        (copy / "views" / path.name).write_text(path.read_text())
    return copy


def _view_oids(url: str) -> dict[str, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT matviewname, (quote_ident(schemaname) || '.' || "
                    "quote_ident(matviewname))::regclass::oid FROM pg_matviews "
                    "WHERE schemaname = 'analytics'")  # fmt: skip
        return dict(cur.fetchall())


def test_a_changed_view_file_recreates_its_view_and_the_later_ones_only(
    empty_db_url: str, tmp_path
) -> None:
    from gcc_pipeline.warehouse.migrate import view_files, view_name

    sql_dir = _copy_sql(tmp_path)
    files = view_files(sql_dir)
    first = migrate(empty_db_url, sql_dir)
    assert first.views_applied == tuple(f"views/{p.name}" for p in files)
    before = _view_oids(empty_db_url)
    assert set(before) == {view_name(p) for p in files}

    changed = files[3]
    changed.write_text(changed.read_text() + "\n-- a comment changes the checksum\n")
    second = migrate(empty_db_url, sql_dir)

    assert second.applied == [] and second.views_applied == tuple(
        f"views/{p.name}" for p in files[3:]
    )
    after = _view_oids(empty_db_url)
    assert set(after) == set(before)
    for path in files:
        name = view_name(path)
        assert (after[name] == before[name]) is (path in files[:3]), name
    assert migrate(empty_db_url, sql_dir).views_applied == ()


def test_a_removed_view_file_drops_its_view(empty_db_url: str, tmp_path) -> None:
    from gcc_pipeline.warehouse.migrate import view_files, view_name

    sql_dir = _copy_sql(tmp_path)
    migrate(empty_db_url, sql_dir)
    last = view_files(sql_dir)[-1]
    last.unlink()

    result = migrate(empty_db_url, sql_dir)

    assert result.views_dropped == (f"views/{last.name}",) and result.views_applied == ()
    assert view_name(last) not in _view_oids(empty_db_url)
    with psycopg2.connect(empty_db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM gcc_schema_migrations WHERE filename = %s",
                    (f"views/{last.name}",))  # fmt: skip
        assert cur.fetchone() == (0,)
