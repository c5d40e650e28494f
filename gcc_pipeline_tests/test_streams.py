"""The stream registry is the single source: every list the code derives from it covers every
stream, so adding a JobNimbus resource is an entry, a parser, a migration, a sandbox generator
and tests (README: "Adding a JobNimbus resource"). Configuration is read in one place."""

import json
import re
import urllib.request
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline import checks, pipeline_run, streams
from gcc_pipeline.assets import ingestion, reconciliation
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.sandbox.records import _RENDER
from gcc_pipeline.streams import STREAMS, all_tables, stream_tables
from gcc_pipeline.warehouse import roles
from gcc_pipeline.warehouse.landing import create_staging
from gcc_pipeline.warehouse.queries import stream_statement

PACKAGE = Path(streams.__file__).resolve().parent


def test_every_stream_has_a_table_spec_and_the_raw_events_spec() -> None:
    keys = {k.to_user_string() for k in ingestion.jobnimbus.keys}
    assert keys == {ingestion.RAW_EVENTS, *(t.name for t in stream_tables())}
    for s in STREAMS:
        assert s in ingestion.selected_streams({dg.AssetKey(s.table.name)})
    assert ingestion.selected_streams({dg.AssetKey(ingestion.RAW_EVENTS)}) == STREAMS


def test_every_table_has_a_key_check_and_every_reconciled_stream_a_raw_check() -> None:
    built = {(c.asset, c.name) for c in checks.CHECKS}
    for table in all_tables():
        assert (table.name, "key_unique_not_null") in built, table.name
    for s in STREAMS:
        if s.reconciled:
            assert (s.table.name, "raw_reconciled") in built, s.name
            assert s in reconciliation.RECONCILED


def test_reader_grants_and_the_run_summary_cover_every_table() -> None:
    visible = {t.name for t in all_tables() if t.reader_visible}
    assert set(roles.READABLE_TABLES) == visible
    assert {t.name for t in all_tables()} - visible <= set(roles.PRIVATE_TABLES)
    counted = str(pipeline_run._counts_statement())
    for table in all_tables():
        assert f"Identifier('{table.name}')" in counted, table.name


def test_every_table_exists_with_its_keys_and_stages_where_landing_expects(db) -> None:
    create_staging(db)
    with db.cursor() as cur:
        for table in all_tables():
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (table.name,),
            )
            columns = {c for (c,) in cur.fetchall()}
            assert set(table.key) <= columns, table.name
            assert {column for column, _ in table.references} <= columns, table.name
        cur.execute("SELECT to_regclass('pg_temp.stage_landing')")
        assert cur.fetchone()[0] is not None  # rows of every table travel through it as JSON
        for table in stream_tables():
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (table.name,),
            )
            columns = {c for (c,) in cur.fetchall()}
            assert {table.version, table.touched, "payload_hash"} <= columns, table.name
            assert ("raw" in columns) is table.keeps_raw, table.name
            if table.discriminator:
                assert table.discriminator in columns


def test_the_sandbox_serves_every_stream_and_every_parser_fits_its_table(db) -> None:
    server = start_sandbox(jobs=30, seed=2, api_key="registry-key")
    try:
        for s in STREAMS:
            assert s.name in _RENDER, f"no sandbox generator for {s.name}"
            request = urllib.request.Request(
                f"{server.base_url}{s.path}?size=5",
                headers={"Authorization": "Bearer registry-key"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                page = json.load(response)
            assert page["count"] > 0 and page[s.list_key], s.name
            rows = [r for r in map(s.parse, page[s.list_key]) if r is not None]
            with db.cursor() as cur:
                cur.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                    (s.table.name,),
                )
                columns = {c for (c,) in cur.fetchall()}
            for row in rows:
                assert set(row) <= columns, (s.name, set(row) - columns)
    finally:
        server.stop()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_only_settings_reads_the_environment(path: Path) -> None:
    if path.name == "settings.py" and path.parent == PACKAGE:
        return
    source = path.read_text()
    assert not re.search(r"\bos\.(environ|getenv|putenv)\b", source), (
        f"{path.relative_to(PACKAGE.parent)} reads the environment: do it in settings.py"
    )


def test_the_client_knows_paths_not_resources() -> None:
    client = (PACKAGE / "jobnimbus" / "client.py").read_text()
    for s in STREAMS:
        assert f'"{s.path}"' not in client and f"'{s.name}'" not in client


def test_a_stream_table_is_reconciled_against_its_own_stream_only(db) -> None:
    """Several streams feeding one table (expenses) are told apart by its discriminator."""
    shared = [t for t in stream_tables() if len(streams.streams_of(t)) > 1]
    assert shared and all(t.discriminator for t in shared)
    for s in STREAMS:
        if s.table in shared:
            statement = stream_statement("reconcile_local_count", s).as_string(db)
            assert f"'{s.entity_type}'" in statement


def test_staging_is_created_once_per_connection_in_one_round_trip(db) -> None:
    statements = []

    class Counting(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            statements.append(query)
            return super().execute(query, vars)

    conn = psycopg2.connect(db.dsn, cursor_factory=Counting)
    try:
        create_staging(conn)
    finally:
        conn.close()
    assert len(statements) == 1


def test_the_sandbox_models_every_stream_in_one_generator_entry_each() -> None:
    """company.py's arrays, records.py's GENERATORS, the hostile corpus and the sandbox's counts
    all follow the registry: a stream without a generator fails here, not at a request."""
    from gcc_pipeline.sandbox import RESOURCES, Company, CompanyConfig
    from gcc_pipeline.sandbox.records import GENERATORS

    assert set(GENERATORS) == set(RESOURCES) == {s.name for s in STREAMS}
    company = Company(CompanyConfig(jobs=40, seed=5, hostile=True))
    assert set(company.hostile) == set(RESOURCES)
    state = company.state()
    for name, generator in GENERATORS.items():
        created = generator.created(company)
        assert len(generator.updated(state)) == len(created), name
        if generator.job is not None:
            assert len(generator.job(company)) == len(created), name
        assert company.count(name) > 0, name


def test_the_bench_peer_copies_the_registrys_endpoints() -> None:
    pytest.importorskip("dlt")  # ok: the dlt peer is optional (the bench extra)
    from bench.peer_dlt import registry_streams

    assert [
        (s["name"], "/" + s["path"], s["list_key"], s["field"]) for s in registry_streams()
    ] == [(s.name, s.path, s.list_key, s.window_field) for s in STREAMS]
