"""Job status history, built incrementally from whatever landed since the last build.

Not partitioned: its input is what was written, however it arrived (a month reloaded from the UI,
a catch-up, the weekly reconciliation), found by two cursors on the warehouse's own write times.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dagster import (
    AssetExecutionContext,
    Backoff,
    Config,
    MaterializeResult,
    RetryPolicy,
    multi_asset,
)

from gcc_pipeline.assets.conventions import table_spec
from gcc_pipeline.checks import checks_on, evaluate
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.warehouse.queries import code_version, query
from gcc_pipeline.warehouse.resource import WarehouseResource

CURSORS = ("history:status_changes", "history:jobs")
STATEMENTS = ("history_scope", "history_from_activities", "history_created",
              "history_from_polls", "history_stages", "derive_job_dates")  # fmt: skip
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
CHECKS = checks_on(["job_status_history"])


class HistoryConfig(Config):
    rebuild: bool = False  # look at every job again, not only those written since the last build


@multi_asset(
    name="job_status_history",
    specs=[
        table_spec(
            "job_status_history",
            group="history",
            layer="history",
            # raw events (the raw jobs), not `jobs`: a failed blocking check on `jobs` must hold
            # back the analytics views only, never leave a hole in the append-only history.
            deps=["jobnimbus_status_changes", "jobnimbus_raw_events", "workflow_status_lookup"],
            note="The 'created' row is corrected when the job's first change arrives. Also "
            "derives jobs' date_sold, date_completed and date_lost.",
            code_version=code_version(*STATEMENTS),
        )
    ],
    check_specs=[c.spec() for c in CHECKS],
    can_subset=True,
    retry_policy=RetryPolicy(max_retries=1, delay=10, backoff=Backoff.EXPONENTIAL),
)
def job_status_history(
    context: AssetExecutionContext,
    config: HistoryConfig,
    warehouse: WarehouseResource,
    account: AccountResource,
) -> Iterator[Any]:
    with warehouse.connection() as conn:
        changed = None  # its checks executed alone: evaluated
        if context.selected_asset_keys:
            result = _build(context, conn, rebuild=config.rebuild)
            touched = ("appended_from_activities", "creation_rows_written", "appended_from_polls",
                       "jobs_dates_derived")  # fmt: skip
            moved = any(result.metadata[k] for k in touched) or config.rebuild
            changed = {"job_status_history"} if moved else set()
            yield result
        yield from evaluate(
            context, conn, CHECKS, freshness_hours=account.freshness_hours, changed=changed
        )


def _build(context: AssetExecutionContext, conn, *, rebuild: bool) -> MaterializeResult:
    counts = dict.fromkeys(STATEMENTS[1:4], 0)
    dated = 0
    with conn, conn.cursor() as cur:
        cursors = {"changes_cursor": CURSORS[0], "jobs_cursor": CURSORS[1]}
        cur.execute(query("history_start"), cursors)
        now, changes_since, jobs_since, total = cur.fetchone()
        params = {
            "rebuild": rebuild,
            "changes_since": changes_since or EPOCH,
            "jobs_since": jobs_since or EPOCH,
        }
        cur.execute(query("history_scope"), params)
        (in_scope,) = cur.fetchone()
        if in_scope:  # else nothing was written since the last build
            for statement in STATEMENTS[1:4]:
                cur.execute(query(statement))
                counts[statement] = cur.rowcount
            cur.execute(query("history_stages"), {"all": False})
            cur.execute(query("derive_job_dates"), {"all": False})
            dated = cur.rowcount
            run_id = context.run.run_id
            changed = (["job_status_history"] if sum(counts.values()) else []) + (
                ["jobs"] if dated else []
            )
            if changed:
                cur.execute(query("mark_changed"), {"tables": changed, "run_id": run_id})
            cur.execute("SELECT count(*) FROM job_status_history")
            (total,) = cur.fetchone()
        # The cursors move even when nothing was in scope (everything written before `now` has
        # been read), so what an earlier run changed is known as read (assets/downstream.py).
        moves = [cur.mogrify(query("cursor_write"), {"name": name, "position": now,
                                                     "run_id": context.run.run_id})
                 for name in CURSORS]  # fmt: skip
        cur.execute(b"\n;\n".join(moves))
    context.log.info(
        f"history: {in_scope} jobs looked at, {sum(counts.values())} rows appended, "
        f"{dated} jobs' dates derived"
    )
    return MaterializeResult(
        asset_key="job_status_history",
        metadata={
            "jobs_looked_at": in_scope,
            "since": "everything (rebuild)" if rebuild else params["changes_since"].isoformat(),
            "appended_from_activities": counts["history_from_activities"],
            "creation_rows_written": counts["history_created"],
            "appended_from_polls": counts["history_from_polls"],
            "jobs_dates_derived": dated,
            "dagster/row_count": total,
        },
    )
