"""A catch-up that changed nothing records nothing: no table is materialized, and the steps after
the load (history, sales reps, the views and their checks) are skipped, so an hourly run on a
quiet account stores a few dozen Dagster events instead of hundreds. Unless they still owe
something from an earlier run: then the run records every table and they run."""

from collections.abc import Iterator

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline.assets.downstream import owed
from gcc_pipeline.settings import load_settings
from gcc_pipeline_tests.pipeline import catch_up, full_backfill, sandbox

ZONE = load_settings().timezone  # the account's, as the runs' resources have it
OTHER_ZONE = "Pacific/Auckland" if ZONE != "Pacific/Auckland" else "UTC"
SKIPPED_AFTER_THE_LOAD = {"job_status_history", "sales_reps", "analytics"}


def every_asset() -> list[object]:
    from gcc_pipeline.definitions import defs

    return [a for a in defs.assets if dg.AssetKey("reconciliation") not in getattr(a, "keys", ())]


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def steps(result: dg.ExecuteInProcessResult, kind: str) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == kind}


@pytest.fixture
def loaded(warehouse_url: str) -> Iterator[tuple[object, dg.DagsterInstance]]:
    """A company loaded whole, then caught up once, in one instance (as `gcc run` keeps it)."""
    instance = dg.DagsterInstance.ephemeral()
    with sandbox(jobs=60, seed=21, history_days=60) as server:
        full_backfill(server, warehouse_url, assets=every_asset(), instance=instance)
        yield server, instance


def test_a_catch_up_that_changed_nothing_records_no_table_and_skips_what_follows(
    loaded, warehouse_url: str
) -> None:
    server, instance = loaded
    result = catch_up(server, warehouse_url, assets=every_asset(), instance=instance)
    assert result.success
    assert materialized(result) == {"workflow_status_lookup"}  # it asked account/settings
    assert steps(result, "STEP_SKIPPED") >= SKIPPED_AFTER_THE_LOAD
    checks = {(e.asset_key.to_user_string(), e.check_name) for e in
              result.get_asset_check_evaluations()}  # fmt: skip
    assert ("jobs", "jobs_fresh") in checks  # freshness is judged every run
    with psycopg2.connect(warehouse_url) as conn:
        assert owed(conn, ZONE) == []


def test_a_catch_up_after_changes_records_the_tables_and_runs_what_follows(
    loaded, warehouse_url: str
) -> None:
    server, instance = loaded
    server.company.advance(days=2)
    result = catch_up(server, warehouse_url, assets=every_asset(), instance=instance)
    assert {"jobs", "jobnimbus_raw_events", "job_status_history"} <= materialized(result)
    assert steps(result, "STEP_SUCCESS") >= SKIPPED_AFTER_THE_LOAD


def test_a_change_a_failed_run_left_unread_is_read_by_the_next_catch_up(
    loaded, warehouse_url: str
) -> None:
    """A run that landed jobs and failed before its history build (marked here as that run
    would have) leaves history owing: the next catch-up records every table though nothing new
    arrived, and history and the views run; then nothing is owed."""
    server, instance = loaded
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO gcc_table_changes (table_name, changed_at, run_id) "
            "VALUES ('jobs', clock_timestamp(), 'a-run-that-failed') "
            "ON CONFLICT (table_name) DO UPDATE SET changed_at = EXCLUDED.changed_at, "
            "run_id = EXCLUDED.run_id"
        )
    with psycopg2.connect(warehouse_url) as conn:
        assert any("job_status_history" in r for r in owed(conn, ZONE))
    result = catch_up(server, warehouse_url, assets=every_asset(), instance=instance)
    assert "jobs" in materialized(result)
    assert steps(result, "STEP_SUCCESS") >= SKIPPED_AFTER_THE_LOAD
    with psycopg2.connect(warehouse_url) as conn:
        assert owed(conn, ZONE) == []
    again = catch_up(server, warehouse_url, assets=every_asset(), instance=instance)
    assert materialized(again) == {"workflow_status_lookup"}


def test_views_whose_file_changed_or_zone_moved_are_owed(loaded, warehouse_url: str) -> None:
    with psycopg2.connect(warehouse_url) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE gcc_view_refreshes SET code_version = 'older' "
                "WHERE view_name = 'revenue_daily'"
            )
        assert any("revenue_daily" in r for r in owed(conn, ZONE))
        assert any("time zone" in r for r in owed(conn, OTHER_ZONE))


def test_sales_reps_are_read_again_after_a_day_even_on_a_quiet_account(
    loaded, warehouse_url: str
) -> None:
    with psycopg2.connect(warehouse_url) as conn:
        conn.autocommit = True
        assert owed(conn, ZONE) == []
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE gcc_cursors SET position = position - interval '25 hours' "
                "WHERE name = 'sales_reps'"
            )
        assert any("account/users" in r for r in owed(conn, ZONE))
