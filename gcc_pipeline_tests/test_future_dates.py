"""Records dated ahead of the pipeline's clock (an API clock running fast, a date typed a year
wrong) are kept and warned about, and never freeze a stream's high-water mark: the next catch-up
still fetches everything that changed, and the warehouse equals a fresh load."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from gcc_pipeline import clock
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import ANCHOR, catch_up, full_backfill, sandbox
from gcc_pipeline_tests.warehouse_state import table_checksums

FUTURE_CHECK = "jobnimbus_raw_events:dates_not_ahead_of_the_load"


@pytest.fixture
def two_warehouses(pg_server_url: str) -> Iterator[list[str]]:
    urls = [create_database(pg_server_url) for _ in range(2)]
    for url in urls:
        migrate(url)
    yield urls
    for url in urls:
        drop_database(pg_server_url, url)


def checks(result) -> dict[str, object]:
    return {e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def marks(url: str) -> dict[str, datetime]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT stream, high_water_mark FROM jobnimbus_sync_state")
        found = {s: m for s, m in cur.fetchall() if m is not None}
    conn.close()
    return found


def checksums(url: str) -> dict:
    conn = psycopg2.connect(url)
    try:
        return table_checksums(conn)
    finally:
        conn.close()


def test_an_api_clock_two_days_ahead_is_caught_up_by_the_next_run(two_warehouses) -> None:
    caught_up, fresh = two_warehouses
    with sandbox(jobs=150, seed=9, history_days=60) as server:  # its clock: ANCHOR
        with clock.pinned(ANCHOR - timedelta(days=2)) as ours:
            first = full_backfill(server, caught_up)
            future = checks(first)[FUTURE_CHECK]
            assert not future.passed and future.severity.value == "WARN"
            assert future.metadata["future_dated"].value > 0
            assert max(marks(caught_up).values()) <= ours  # never past the load's start

        changed = server.company.advance(days=1)
        assert sum(changed.values()) > 0
        with clock.pinned(ANCHOR - timedelta(days=1)):
            catch_up(server, caught_up)
            full_backfill(server, fresh)

    assert checksums(caught_up) == checksums(fresh)


def test_a_record_dated_a_year_ahead_neither_freezes_the_mark_nor_is_lost(two_warehouses) -> None:
    caught_up, fresh = two_warehouses
    with sandbox(jobs=80, seed=4, history_days=60, hostile=True) as server:
        with clock.pinned(ANCHOR + timedelta(hours=1)) as ours:
            first = full_backfill(server, caught_up)
            future = checks(first)[FUTURE_CHECK]
            assert not future.passed
            assert future.metadata["future_dated"].value == 1  # the hostile jHOSTILEFUTURE
            assert marks(caught_up)["jobs"] <= ours

        server.company.advance(days=2)
        with clock.pinned(ANCHOR + timedelta(days=2, hours=1)):
            second = catch_up(server, caught_up)
            full_backfill(server, fresh)

    assert checks(second)[FUTURE_CHECK].metadata["future_dated"].value == 1  # still warned
    with psycopg2.connect(caught_up) as conn, conn.cursor() as cur:
        cur.execute("SELECT date_updated FROM jobs WHERE id = 'jHOSTILEFUTURE'")
        assert cur.fetchone()[0] > datetime.fromtimestamp(server.company.now, UTC)  # kept
    conn.close()
    assert checksums(caught_up) == checksums(fresh)
