"""Ingestion assets against the sandbox over HTTP: the warehouse equals the sandbox's own truth,
reruns change nothing, incremental runs pick up exactly the changes, partitions converge in any
order, and bad records are quarantined without losing their neighbours."""

import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg2
import pytest

from gcc_pipeline.jobnimbus.records import linked_id
from gcc_pipeline.partitions import month_key
from gcc_pipeline.stage_mapping import load_mapping, lookup_rows, status_key
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import (
    ANCHOR,
    catch_up,
    first_day,
    full_backfill,
    materialize_range,
    sandbox,
)
from gcc_pipeline_tests.warehouse_state import table_checksums

HISTORY_DAYS = 120


def scalar(conn, sql: str, params: tuple = ()) -> object:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def status_changes(company) -> list[dict]:
    """Status changes of jobs (a contact's own status changes are not job history)."""
    return [
        a
        for a in company.records("activities")
        if a.get("is_status_change") and (a.get("primary") or {}).get("type") == "job"
    ]


@pytest.fixture(scope="module")
def loaded(pg_server_url: str) -> Iterator[tuple[object, str, object]]:
    """A 250-job company backfilled once; tests that change it use their own."""
    url = create_database(pg_server_url)
    migrate(url)
    with sandbox(jobs=250, seed=5, history_days=HISTORY_DAYS) as server:
        result = full_backfill(server, url)
        yield server, url, result
    drop_database(pg_server_url, url)


@pytest.fixture
def conn_of(loaded) -> Iterator[object]:
    conn = psycopg2.connect(loaded[1])
    conn.autocommit = True
    yield conn
    conn.close()


def test_a_full_backfill_loads_every_record_of_the_sandbox(loaded, conn_of) -> None:
    company = loaded[0].company

    assert scalar(conn_of, "SELECT count(*) FROM contacts") == company.count("contacts")
    assert scalar(conn_of, "SELECT count(*) FROM jobs") == company.count("jobs")
    assert scalar(conn_of, "SELECT count(*) FROM payments") == company.count("payments")
    assert scalar(conn_of, "SELECT count(*) FROM expenses") == (
        company.count("workorders") + company.count("materialorders")
    )
    raw = company.count("contacts") + company.count("jobs") + company.count("activities")
    assert scalar(conn_of, "SELECT count(*) FROM jobnimbus_raw_events") >= raw


def test_net_revenue_equals_the_sandbox_payments(loaded, conn_of) -> None:
    expected = sum(
        Decimal(str(p["total"])) - Decimal(str(p.get("credit") or 0))
        for p in loaded[0].company.records("payments")
    )
    assert scalar(conn_of, "SELECT sum(net_amount) FROM payments") == expected.quantize(
        Decimal("0.01")
    )


def test_every_job_has_the_stage_its_record_type_and_status_name_map_to(loaded, conn_of) -> None:
    company = loaded[0].company
    lookup = {
        (r.record_type_id, status_key(r.status_name)): r.stage
        for r in lookup_rows(load_mapping(), company.settings())
    }
    expected = {
        j["jnid"]: lookup.get((j["record_type"], status_key(j["status_name"])))
        for j in company.records("jobs")
    }
    with conn_of.cursor() as cur:
        cur.execute("SELECT id, stage FROM jobs")
        actual = dict(cur.fetchall())
    assert actual == expected
    assert Counter(expected.values())["Lost"] > 0


def test_history_has_one_row_per_status_change_and_one_per_job_creation(loaded, conn_of) -> None:
    company = loaded[0].company
    changes = status_changes(company)

    with conn_of.cursor() as cur:
        cur.execute("SELECT job_id, changed_at, status_name FROM job_status_history")
        rows = cur.fetchall()
    assert len(rows) == len(changes) + company.count("jobs")
    assert len(set(rows)) == len(rows)
    assert scalar(conn_of, "SELECT count(*) FROM job_status_history WHERE stage IS NULL") == 0


def test_date_sold_is_the_first_entry_into_sold_or_later(loaded, conn_of) -> None:
    with conn_of.cursor() as cur:
        cur.execute(
            """SELECT count(*) FILTER (WHERE is_won AND date_sold IS NULL),
                      count(*) FILTER (WHERE stage = 'Completed' AND date_completed IS NULL),
                      count(*) FILTER (WHERE stage_order <= 2 AND date_sold IS NOT NULL)
               FROM jobs"""
        )
        assert cur.fetchone() == (0, 0, 0)


def test_payments_whose_primary_is_an_invoice_link_to_their_job(loaded, conn_of) -> None:
    invoice_primary = [
        p
        for p in loaded[0].company.records("payments")
        if (p.get("primary") or {}).get("type") == "invoice"
    ]
    assert invoice_primary, "the sandbox serves invoice-primary payments"
    with conn_of.cursor() as cur:
        cur.execute(
            "SELECT id, job_id FROM payments WHERE id = ANY(%s)",
            ([p["jnid"] for p in invoice_primary],),
        )
        linked = dict(cur.fetchall())
    for payment in invoice_primary:
        assert linked[payment["jnid"]] == linked_id(payment, "job", prefer_related=True)
        assert linked[payment["jnid"]] is not None


def test_test_and_legacy_records_are_kept_but_flagged(loaded, conn_of) -> None:
    assert scalar(conn_of, "SELECT count(*) FROM contacts WHERE is_test") >= 1
    legacy = sum(1 for j in loaded[0].company.records("jobs") if "Legacy" in j["record_type_name"])
    assert scalar(conn_of, "SELECT count(*) FROM jobs WHERE is_legacy") == legacy


def test_each_month_reports_its_own_records_and_windows_follow_the_records(loaded) -> None:
    result = loaded[2]
    jobs = {
        e.materialization.partition: e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "jobs"
    }
    assert len(jobs) > 3  # one materialization per month of the range
    served = list(loaded[0].company.records("jobs"))
    per_month = Counter(month_key(datetime.fromtimestamp(j["date_updated"], UTC)) for j in served)
    for month, metadata in jobs.items():
        assert {"windows", "fetched", "dagster/row_count"} <= set(metadata), month
        assert metadata["dagster/row_count"].value == len(served)
        assert metadata["fetched"].value == per_month.get(month, 0)  # the month's own records
    assert {m["run_fetched"].value for m in jobs.values()} == {len(served)}
    # Pages are full where the records allow: windows follow the records, not the calendar.
    requests = next(iter(jobs.values()))["run_requests"].value
    assert requests <= math.ceil(len(served) / 1000) + 3


def test_a_rerun_changes_nothing(loaded, conn_of) -> None:
    server, url, _ = loaded
    before = table_checksums(conn_of)
    raw_before = scalar(conn_of, "SELECT count(*) FROM jobnimbus_raw_events")

    full_backfill(server, url)

    assert table_checksums(conn_of) == before
    assert scalar(conn_of, "SELECT count(*) FROM jobnimbus_raw_events") == raw_before
    with conn_of.cursor() as cur:
        cur.execute(
            """SELECT sum(inserted), sum(updated) FROM jobnimbus_ingestion_log
               WHERE run_id = (SELECT run_id FROM jobnimbus_ingestion_log
                               ORDER BY id DESC LIMIT 1)"""
        )
        assert cur.fetchone() == (0, 0)


def test_an_incremental_run_picks_up_exactly_the_changes(warehouse_url: str) -> None:
    with sandbox(jobs=200, seed=8, history_days=HISTORY_DAYS) as server:
        company = server.company
        full_backfill(server, warehouse_url)
        conn = psycopg2.connect(warehouse_url)
        conn.autocommit = True
        history_before = scalar(conn, "SELECT count(*) FROM job_status_history")
        changes_before = len(status_changes(company))
        jobs_before = company.count("jobs")

        company.advance(days=3)
        catch_up(server, warehouse_url)

        jobs_now = {j["jnid"]: j for j in company.records("jobs")}
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, status_name, extract(epoch FROM date_updated)::bigint FROM jobs"
            )
            stored = {i: (s, u) for i, s, u in cur.fetchall()}
        assert stored == {i: (j["status_name"], j["date_updated"]) for i, j in jobs_now.items()}
        new_changes = len(status_changes(company)) - changes_before
        new_jobs = company.count("jobs") - jobs_before  # each with its creation row
        assert new_changes > 0
        assert scalar(conn, "SELECT count(*) FROM job_status_history") == (
            history_before + new_changes + new_jobs
        )
        assert scalar(conn, "SELECT count(*) FROM payments") == company.count("payments")
        conn.close()


def test_backfilling_an_old_partition_after_newer_ones_regresses_nothing(
    warehouse_url: str,
) -> None:
    with sandbox(jobs=150, seed=9, history_days=HISTORY_DAYS) as server:
        company = server.company
        company.advance(days=2)
        full_backfill(server, warehouse_url)
        conn = psycopg2.connect(warehouse_url)
        before = table_checksums(conn)

        start = first_day(server)  # its month and the next, reloaded whole
        materialize_range(server, warehouse_url, start, start + timedelta(days=31))

        assert table_checksums(conn) == before
        conn.close()


def checksums_of(urls: list[str]) -> list[dict]:
    """The table checksums of each warehouse, in order."""
    sums = []
    for url in urls:
        with psycopg2.connect(url) as conn:
            sums.append(table_checksums(conn))
    return sums


def test_partitions_loaded_newest_first_converge_to_the_same_tables(
    pg_server_url: str,
) -> None:
    urls = [create_database(pg_server_url), create_database(pg_server_url)]
    try:
        with sandbox(jobs=120, seed=12, history_days=HISTORY_DAYS) as server:
            first = first_day(server)
            middle = ANCHOR.date() - timedelta(days=HISTORY_DAYS // 2)
            for url in urls:
                migrate(url)
            full_backfill(server, urls[0])
            materialize_range(server, urls[1], middle, ANCHOR.date())
            materialize_range(server, urls[1], first, middle)
        sums = checksums_of(urls)
        assert sums[0] == sums[1]
    finally:
        for url in urls:
            drop_database(pg_server_url, url)


def test_malformed_records_are_quarantined_and_their_neighbours_load(warehouse_url: str) -> None:
    with sandbox(jobs=150, seed=4, history_days=HISTORY_DAYS, hostile=True) as server:
        company = server.company
        result = full_backfill(server, warehouse_url)
        hostile = company.hostile_ids()
        conn = psycopg2.connect(warehouse_url)
        with conn.cursor() as cur:
            cur.execute("SELECT entity_type, reason FROM jobnimbus_quarantine")
            reasons = cur.fetchall()
            cur.execute("SELECT count(*) FROM jobs WHERE NOT (id LIKE 'hostile%%')")
        assert result.success
        assert len(reasons) >= 5
        assert any("jnid" in r for _, r in reasons)
        assert any("NaN" in r or "finite" in r for _, r in reasons)
        good_jobs = [
            j
            for j in company.records("jobs")
            if isinstance(j.get("jnid"), str) and j["jnid"] not in set(hostile.get("jobs", []))
        ]
        stored = set(r[0] for r in _rows(conn, "SELECT id FROM jobs"))
        assert {j["jnid"] for j in good_jobs} <= stored
        quarantined_meta = [
            e.materialization.metadata["run_quarantined"].value
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key.to_user_string() in ("jobs", "payments")
        ]
        assert max(quarantined_meta) > 0
        conn.close()


def _rows(conn, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def fetched(result) -> int:
    """Records a run fetched, from its tables' materialization metadata."""
    return sum(
        m["fetched"].value
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() != "jobnimbus_raw_events"
        and "fetched" in (m := e.materialization.metadata)
    )


def test_a_catch_up_after_the_company_changed_equals_a_fresh_full_load(pg_server_url: str) -> None:
    """Whole months first, then the clock moves on (new leads, status moves, payments, edits,
    deletes) and an incremental run catches up: the same tables as a fresh load of the result."""
    urls = [create_database(pg_server_url), create_database(pg_server_url)]
    try:
        for url in urls:
            migrate(url)
        with sandbox(jobs=180, seed=14, history_days=HISTORY_DAYS) as server:
            full_backfill(server, urls[0])
            changed = server.company.advance(days=9)
            assert sum(changed.values()) > 20
            first = catch_up(server, urls[0])
            again = catch_up(server, urls[0])  # nothing changed since
            full_backfill(server, urls[1])
        # the changes (and the overlap), no more; then only the overlap of the new mark
        assert 0 < fetched(first) <= 3 * sum(changed.values())
        assert fetched(again) <= sum(changed.values()) // 10
        sums = checksums_of(urls)
        assert sums[0] == sums[1]
    finally:
        for url in urls:
            drop_database(pg_server_url, url)


@pytest.mark.parametrize("bound", [1, 3])
def test_windows_are_fetched_concurrently_within_the_bound(warehouse_url: str, bound: int) -> None:
    """The sandbox counts the requests it is answering at once: exactly the bound, never more."""
    with sandbox(jobs=120, seed=16, history_days=HISTORY_DAYS, latency_ms=40) as server:
        server.reset_stats()
        assert full_backfill(server, warehouse_url, max_concurrency=bound).success
        assert server.max_in_flight == bound
