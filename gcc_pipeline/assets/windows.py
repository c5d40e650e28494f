"""The fetch window of a partitioned run: its partitions plus a small overlap before them."""

from datetime import datetime, timedelta

from dagster import AssetExecutionContext, Config


class IngestConfig(Config):
    """Run configuration of the ingestion assets (editable in the launchpad)."""

    overlap_minutes: int = 60  # re-read the end of the previous window: date filters may lag


def fetch_window(context: AssetExecutionContext, config: IngestConfig) -> tuple[datetime, datetime]:
    """[start - overlap, end): partition_time_window spans a whole range run, across DST."""
    window = context.partition_time_window
    return window.start - timedelta(minutes=config.overlap_minutes), window.end


def partition_label(context: AssetExecutionContext) -> str:
    keys = context.partition_key_range
    return keys.start if keys.start == keys.end else f"{keys.start}..{keys.end}"
