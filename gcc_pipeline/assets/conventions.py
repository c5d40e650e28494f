"""What every asset carries: kinds, owners, the tags a platform team filters on, and for a table
or view its description and column schema, read from the warehouse's own comments
(gcc_pipeline/catalog.json, a snapshot of the SQL's COMMENT ON statements)."""

from dagster import AssetSpec, MetadataValue, TableColumn, TableSchema

from gcc_pipeline.warehouse.catalog import relation

KINDS = {"python", "postgres"}
OWNERS = ["team:growth-data"]


def tags(layer: str) -> dict[str, str]:
    """source: where the data comes from; layer: raw, normalized, history, reference, analytics."""
    return {"source": "jobnimbus", "layer": layer}


def column_schema(table_name: str) -> TableSchema | None:
    """The columns of a table or view with their comments; None when the catalog lacks it (a
    table added since the catalog was regenerated: test_catalog.py says so)."""
    rel = relation(table_name)
    if rel is None:
        return None
    return TableSchema(
        columns=[
            TableColumn(name=c["name"], type=c["type"], description=c["comment"] or None)
            for c in rel["columns"]
        ]
    )


def table_spec(
    name: str,
    *,
    group: str,
    layer: str,
    schema: str = "public",
    description: str = "",
    note: str = "",
    deps: list[str] | None = None,
    kinds: set[str] | None = None,
    **kw: object,
) -> AssetSpec:
    """The spec of an asset named after its warehouse table (or view of `schema`). Its
    description is the table's COMMENT, then `note` (what the asset does beyond the table);
    `description` is shown only while the catalog lacks the table."""
    table_name = name if schema == "public" else f"{schema}.{name}"
    rel = relation(table_name)
    text = (rel["comment"] if rel and rel["comment"] else description).strip()
    columns = column_schema(table_name)
    return AssetSpec(
        name,
        group_name=group,
        kinds=kinds or KINDS,
        owners=OWNERS,
        tags=tags(layer),
        deps=deps or [],
        description="\n\n".join(t for t in (text, note.strip()) if t) or None,
        metadata={"dagster/table_name": table_name}
        | ({"dagster/column_schema": MetadataValue.table_schema(columns)} if columns else {}),
        **kw,  # type: ignore[arg-type]
    )
