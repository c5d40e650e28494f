"""Asset jobs the schedules and sensors launch."""

from dagster import AssetSelection, define_asset_job

from gcc_pipeline.partitions import daily_partitions

INGESTION_GROUPS = ("raw", "normalized", "history")

# Ingestion: raw -> normalized -> history for a range of daily partitions (plus the unpartitioned
# lookup and sales reps, which are cheap: one request each).
ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.groups(*INGESTION_GROUPS) - AssetSelection.keys("reconciliation"),
    partitions_def=daily_partitions,
    description="Fetch a range of daily windows, land raw, upsert tables, extend status history.",
)

# Nightly: the same, then every analytics view (blocked by a failed blocking check).
nightly_job = define_asset_job(
    "nightly_job",
    selection=(AssetSelection.groups(*INGESTION_GROUPS, "analytics"))
    - AssetSelection.keys("reconciliation"),
    partitions_def=daily_partitions,
    description="Ingest the latest days, then refresh every analytics view.",
)

reconciliation_job = define_asset_job(
    "reconciliation_job",
    selection=AssetSelection.keys("reconciliation"),
    description="Compare ids and date_updated with the API; reload what filters missed, "
    "mark what disappeared.",
)
