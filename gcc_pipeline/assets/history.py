"""Job status history: rebuilt from status-change activities and from changes seen by polling."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from gcc_pipeline.assets.windows import IngestConfig, fetch_window
from gcc_pipeline.partitions import backfill_policy, daily_partitions
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource


@asset(
    group_name="history",
    kinds={"postgres"},
    deps=["jobnimbus_status_changes", "raw_jobs", "workflow_status_lookup"],
    partitions_def=daily_partitions,
    backfill_policy=backfill_policy,
    metadata={"dagster/table_name": "job_status_history"},
)
def job_status_history(
    context: AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    """Append-only, one row per status change (unique on job, time, status), each with its stage
    and source: 'activity' (from the notes "Status: A => B" / "Status changed from A to B"),
    'created' (the job's first status at its creation, which accounts do not log; corrected when
    the first change arrives) or 'poll' (a job's status differs from its last known one). Also
    derives jobs' date_sold, date_completed and date_lost.

    It depends on raw_jobs (written in the same step as `jobs`) rather than on `jobs`, so that a
    failed blocking check on `jobs` (unmapped statuses) stops the analytics views but never leaves
    a hole in the append-only history."""
    start, end = fetch_window(context, config)
    window = {"all": False, "start": start, "end": end}
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        cur.execute(query("jobs_write_lock"))
        cur.execute(query("history_from_activities"), window)
        from_activities = cur.rowcount
        cur.execute(query("history_created"), window)
        created = cur.rowcount
        cur.execute(query("history_from_polls"), window)
        from_polls = cur.rowcount
        cur.execute(query("history_stages"), {"all": False})
        cur.execute(query("derive_job_dates"), {"all": False, **window})
        jobs_dated = cur.rowcount
        cur.execute("SELECT count(*) FROM job_status_history")
        total = cur.fetchone()[0]
    return MaterializeResult(
        metadata={
            "window": f"[{start.isoformat()}, {end.isoformat()})",
            "appended_from_activities": from_activities,
            "creation_rows_written": created,
            "appended_from_polls": from_polls,
            "jobs_dates_derived": jobs_dated,
            "dagster/row_count": total,
        }
    )
