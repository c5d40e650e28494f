"""The warehouse's own documentation, read back from it: every table and view of schemas public
and analytics with its COMMENT and its columns (in order, with type and COMMENT).

The SQL files are the one source (COMMENT ON ... beside each CREATE). `gcc_pipeline/catalog.json`
is a snapshot of what a freshly migrated database says, so the Dagster definitions can show each
table's columns without a database at load time; `docs/metrics.md` is rendered from the same
snapshot. Both are regenerated, never edited:

    GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_catalog.py
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from gcc_pipeline.settings import PROJECT_ROOT

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog.json"
METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
SCHEMAS = ("analytics", "public")

# Tables, views and materialized views with their comments; then their columns in order.
_RELATIONS = """
SELECT n.nspname, c.relname,
       CASE c.relkind WHEN 'm' THEN 'materialized view' WHEN 'v' THEN 'view' ELSE 'table' END,
       coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY array_position(%(schemas)s, n.nspname::text), c.relname
"""
_COLUMNS = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       coalesce(col_description(c.oid, a.attnum), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY n.nspname, c.relname, a.attnum
"""


def qualified(schema: str, name: str) -> str:
    """How the definitions and docs name a relation: public tables bare, others schema.name."""
    return name if schema == "public" else f"{schema}.{name}"


def read_catalog(conn: Any) -> dict[str, Any]:
    """Every table and view of public and analytics as the database describes it (what psql's
    \\d+ shows: obj_description and col_description). Empty comments are kept as '' so a
    missing one is visible in the snapshot and the test names it."""
    params = {"schemas": list(SCHEMAS)}
    with conn.cursor() as cur:
        cur.execute(_RELATIONS, params)
        relations = {
            (schema, name): {"kind": kind, "comment": comment, "columns": []}
            for schema, name, kind, comment in cur.fetchall()
        }
        cur.execute(_COLUMNS, params)
        for schema, name, column, type_, comment in cur.fetchall():
            relations[(schema, name)]["columns"].append(
                {"name": column, "type": type_, "comment": comment}
            )
    return {"relations": {qualified(*key): value for key, value in relations.items()}}


def dumps(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, ensure_ascii=False) + "\n"


@cache
def load_catalog(path: Path = CATALOG_PATH) -> dict[str, Any]:
    """The committed snapshot (no database needed); empty when the file is missing."""
    if not path.exists():
        return {"relations": {}}
    return json.loads(path.read_text())


def relation(name: str) -> dict[str, Any] | None:
    """A table or view of the snapshot by its qualified name (`jobs`, `analytics.jobs_current`)."""
    return load_catalog()["relations"].get(name)


def missing_comments(catalog: dict[str, Any]) -> list[str]:
    """Relations and columns without a COMMENT, by qualified name."""
    missing = []
    for name, rel in catalog["relations"].items():
        if not rel["comment"].strip():
            missing.append(f"{name} ({rel['kind']})")
        missing += [f"{name}.{c['name']}" for c in rel["columns"] if not c["comment"].strip()]
    return missing


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _section(name: str, rel: dict[str, Any]) -> list[str]:
    lines = [f"### `{name}`", "", _cell(rel["comment"]), "", "| column | type | definition |",
             "|---|---|---|"]  # fmt: skip
    lines += [f"| `{c['name']}` | {c['type']} | {_cell(c['comment'])} |" for c in rel["columns"]]
    return [*lines, ""]


def render_markdown(
    catalog: dict[str, Any], *, view_order: list[str], reader_tables: list[str]
) -> str:
    """docs/metrics.md: the analytics views (in their files' order, dependencies first), then the
    tables dashboards may read, then the pipeline's private tables; each its comment and a
    column table."""
    relations = catalog["relations"]
    views = [f"analytics.{v}" for v in view_order if f"analytics.{v}" in relations]
    views += sorted(n for n in relations if n.startswith("analytics.") and n not in views)
    readable = [t for t in reader_tables if t in relations]
    private = sorted(n for n in relations if n not in views and n not in readable)
    out = [
        "# Warehouse reference",
        "",
        "Generated from the database's own comments (`COMMENT ON` in `sql/` and `sql/views/`), "
        "the same text psql's `\\d+`, `information_schema` and the Dagster UI's Columns tab "
        "show. Do not edit: change the SQL, then run "
        "`GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_catalog.py`. The shared "
        "definitions (revenue, live job, won, rates) are in the README's Metrics section.",
        "",
        "Money is in dollars (numeric(14,2)); times are timestamptz; days and months are cut "
        "in the account time zone (`gcc_settings.timezone`).",
        "",
        "## Analytics views (schema `analytics`)",
        "",
    ]
    for name in views:
        out += _section(name, relations[name])
    out += ["## Tables dashboards read (schema `public`)", ""]
    for name in readable:
        out += _section(name, relations[name])
    out += ["## Pipeline tables (not granted to the reader role)", ""]
    for name in private:
        out += _section(name, relations[name])
    return "\n".join(out).rstrip() + "\n"


def metrics_markdown(catalog: dict[str, Any]) -> str:
    """docs/metrics.md of this project: views in sql/views order, the reader role's tables."""
    from gcc_pipeline.warehouse.migrate import view_files, view_name
    from gcc_pipeline.warehouse.roles import READABLE_TABLES

    return render_markdown(
        catalog,
        view_order=[view_name(p) for p in view_files()],
        reader_tables=list(READABLE_TABLES),
    )


def regenerate(conn: Any) -> dict[str, Any]:
    """Write catalog.json and docs/metrics.md from a freshly migrated database."""
    catalog = read_catalog(conn)
    CATALOG_PATH.write_text(dumps(catalog))
    METRICS_DOC.parent.mkdir(exist_ok=True)
    METRICS_DOC.write_text(metrics_markdown(catalog))
    load_catalog.cache_clear()
    return catalog
