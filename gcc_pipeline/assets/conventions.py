"""What every asset carries: kinds, owners and the tags a platform team filters on."""

from dagster import AssetSpec

KINDS = {"python", "postgres"}
OWNERS = ["team:growth-data"]


def tags(layer: str) -> dict[str, str]:
    """source: where the data comes from; layer: raw, normalized, history, reference, analytics."""
    return {"source": "jobnimbus", "layer": layer}


def table_spec(
    name: str,
    *,
    group: str,
    layer: str,
    description: str,
    deps: list[str] | None = None,
    kinds: set[str] | None = None,
    **kw: object,
) -> AssetSpec:
    """The spec of an asset named after its warehouse table."""
    return AssetSpec(
        name,
        group_name=group,
        kinds=kinds or KINDS,
        owners=OWNERS,
        tags=tags(layer),
        deps=deps or [],
        description=description,
        metadata={"dagster/table_name": name},
        **kw,  # type: ignore[arg-type]
    )
