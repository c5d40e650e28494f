"""Deletions and the weekly reconciliation asset: soft deletes (`is_active: false`) are stored as
such and left out of the analytics views; records the API stops listing are marked inactive, never
removed, and history keeps them; a record a date filter missed is reloaded; and reconciliation
refuses to mark more than half of a table.

Records are made to disappear with a second sandbox server over the same company whose list
queries skip some jnids (`HidingCompany` below); each test works on its own copy of one backfill.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import numpy as np
import psycopg2
import pytest

from gcc_pipeline.assets.analytics import VIEWS
from gcc_pipeline.assets.reconciliation import reconciliation
from gcc_pipeline.sandbox import SandboxServer
from gcc_pipeline.sandbox.records import State
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import API_KEY, full_backfill, resources, sandbox

# A live job, as the analytics views count jobs (legacy jobs included: issue 12).
LIVE = "is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test"


class _HidingState(State):
    """A clock snapshot whose sorted views (what every list query starts from) skip some records;
    single-record fetches and the company's own truth are unchanged."""

    def __init__(self, state: State, hidden: dict[str, np.ndarray]) -> None:
        super().__init__(state.co, state.now)
        self._hidden = hidden

    def view(self, r: str, field: str) -> tuple[np.ndarray, np.ndarray]:
        order, keys = super().view(r, field)
        if r not in self._hidden:
            return order, keys
        keep = ~np.isin(order, self._hidden[r])
        return order[keep], keys[keep]


class HidingCompany:
    """The same company, as an API that no longer lists the given jnids."""

    def __init__(self, company: Any, hidden: dict[str, list[str]]) -> None:
        self._company = company
        indices = {
            resource: np.array([company.parse_jnid(j)[1] for j in jnids], dtype=np.int64)
            for resource, jnids in hidden.items()
        }
        self._state = _HidingState(company.state(), indices)

    def state(self) -> State:
        return self._state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._company, name)


@dataclass
class Warehouse:
    url: str
    server: Any

    def rows(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        conn = psycopg2.connect(self.url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def ids(self, statement: str, params: tuple | dict = ()) -> set[str]:
        return {r[0] for r in self.rows(statement, params)}

    def refresh_views(self) -> None:
        for view in VIEWS:
            self.rows(f"REFRESH MATERIALIZED VIEW analytics.{view.name}")

    def reconcile(self, server: SandboxServer, **kwargs: Any) -> dg.ExecuteInProcessResult:
        return dg.materialize([reconciliation], resources=resources(server, self.url), **kwargs)


@pytest.fixture(scope="module")
def template(pg_server_url: str) -> Iterator[tuple[str, Any]]:
    """One backfilled company; tests get copies (CREATE DATABASE .. TEMPLATE) of it."""
    url = create_database(pg_server_url, prefix="gcc_tpl")
    migrate(url)
    try:
        with sandbox(jobs=200, seed=38, history_days=120) as server:
            assert full_backfill(server, url).success
            yield url, server
    finally:
        drop_database(pg_server_url, url)


@pytest.fixture
def wh(pg_server_url: str, template: tuple[str, Any]) -> Iterator[Warehouse]:
    url, server = template
    copy = create_database(pg_server_url, prefix="gcc_del", template=url)
    try:
        yield Warehouse(copy, server)
    finally:
        drop_database(pg_server_url, copy)


def _live_ids(wh: Warehouse, resource: str, count: int) -> list[str]:
    """`count` live records, spread over the table (jobs: ones with status history)."""
    if resource == "jobs":
        candidates = wh.rows(
            f"SELECT id FROM jobs j WHERE {LIVE} AND EXISTS "
            "(SELECT 1 FROM job_status_history h WHERE h.job_id = j.id) ORDER BY id"
        )
    else:
        table = "expenses" if resource in ("workorders", "materialorders") else resource
        where = f" AND source_entity = '{resource[:-1]}'" if table == "expenses" else ""
        candidates = wh.rows(
            f"SELECT id FROM {table} WHERE is_active IS NOT FALSE{where} ORDER BY id"
        )
    step = max(1, len(candidates) // count)
    return [c[0] for c in candidates[::step][:count]]


def test_soft_deletes_are_stored_inactive_and_left_out_of_the_views(wh: Warehouse) -> None:
    company = wh.server.company
    for resource in ("jobs", "payments"):
        deleted = {r["jnid"] for r in company.records(resource) if r.get("is_active") is False}
        assert deleted, f"the sandbox soft-deletes some {resource}"
        assert wh.ids(f"SELECT id FROM {resource} WHERE is_active = false") == deleted
    wh.refresh_views()

    inactive_jobs = wh.ids("SELECT id FROM jobs WHERE is_active = false")
    assert not inactive_jobs & wh.ids("SELECT job_id FROM analytics.job_profitability")
    assert wh.rows("SELECT sum(job_count) FROM analytics.pipeline_by_stage") == wh.rows(
        f"SELECT count(*) FROM jobs WHERE {LIVE}"
    )
    # revenue counts active payments only (a deleted payment's money is not revenue), net of
    # credits and refunds, legacy jobs included
    assert wh.rows("SELECT sum(revenue) FROM analytics.revenue_by_month") == wh.rows(
        """SELECT sum(p.net_amount - p.refunded_amount) FROM payments p
           LEFT JOIN jobs j ON j.id = p.job_id
           WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
             AND NOT coalesce(j.is_test, false)"""
    )
    deleted_payments = wh.rows(
        "SELECT count(*), sum(net_amount) FROM payments WHERE is_active = false"
    )[0]
    assert deleted_payments[0] > 0 and deleted_payments[1] > 0


def test_records_gone_from_the_api_are_marked_inactive_and_a_missed_change_is_reloaded(
    wh: Warehouse,
) -> None:
    company = wh.server.company
    hidden = {
        "jobs": _live_ids(wh, "jobs", 5),
        "payments": _live_ids(wh, "payments", 3),
        "contacts": _live_ids(wh, "contacts", 2),
        "workorders": _live_ids(wh, "workorders", 1),
    }
    wh.refresh_views()
    assert set(hidden["jobs"]) <= wh.ids("SELECT job_id FROM analytics.job_profitability")
    pipeline_before = wh.rows("SELECT sum(job_count) FROM analytics.pipeline_by_stage")[0][0]
    counts_before = wh.rows(
        "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM payments), "
        "(SELECT count(*) FROM contacts), (SELECT count(*) FROM expenses)"
    )
    history_before = wh.rows(
        "SELECT job_id, count(*) FROM job_status_history WHERE job_id = ANY(%s) GROUP BY 1",
        (hidden["jobs"],),
    )
    # A change the date filter missed: the warehouse holds an older version of one job ...
    stale = next(j for j in _live_ids(wh, "jobs", 40) if j not in hidden["jobs"])
    truth = next(j for j in company.records("jobs") if j["jnid"] == stale)
    wh.rows(
        "UPDATE jobs SET status_name = 'STALE', date_updated = date_updated - interval '3 days' "
        "WHERE id = %s",
        (stale,),
    )
    # ... and lacks one payment entirely.
    missing = next(p for p in _live_ids(wh, "payments", 20) if p not in hidden["payments"])
    wh.rows("DELETE FROM payments WHERE id = %s", (missing,))

    api = SandboxServer(HidingCompany(company, hidden), api_key=API_KEY).start()
    try:
        result = wh.reconcile(api)
    finally:
        api.stop()

    assert result.success
    gone = {i for ids in hidden.values() for i in ids}
    for table in ("jobs", "payments", "contacts", "expenses"):
        assert wh.ids(f"SELECT id FROM {table} WHERE id = ANY(%s) AND is_active = false",
                      (list(gone),)) == wh.ids(f"SELECT id FROM {table} WHERE id = ANY(%s)",
                                               (list(gone),))  # fmt: skip
    marked = wh.ids(
        "SELECT id FROM jobs WHERE is_active = false UNION ALL "
        "SELECT id FROM payments WHERE is_active = false UNION ALL "
        "SELECT id FROM contacts WHERE is_active = false UNION ALL "
        "SELECT id FROM expenses WHERE is_active = false"
    )
    soft_deleted = {
        r["jnid"]
        for resource in ("jobs", "payments")
        for r in company.records(resource)
        if r.get("is_active") is False
    }
    assert marked == gone | soft_deleted  # nothing else was touched
    counts_after = wh.rows(
        "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM payments), "
        "(SELECT count(*) FROM contacts), (SELECT count(*) FROM expenses)"
    )
    assert counts_after == counts_before  # marked, not removed (the deleted payment came back)
    assert (
        wh.rows(
            "SELECT job_id, count(*) FROM job_status_history WHERE job_id = ANY(%s) GROUP BY 1",
            (hidden["jobs"],),
        )
        == history_before
    )
    assert wh.rows(
        "SELECT status_name, extract(epoch FROM date_updated)::bigint FROM jobs WHERE id = %s",
        (stale,),
    ) == [(truth["status_name"], truth["date_updated"])]
    assert wh.rows("SELECT is_active FROM payments WHERE id = %s", (missing,)) == [(True,)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["marked_gone"].value == len(gone)
    assert metadata["reloaded"].value >= 2

    wh.refresh_views()
    assert not set(hidden["jobs"]) & wh.ids("SELECT job_id FROM analytics.job_profitability")
    assert wh.rows("SELECT sum(job_count) FROM analytics.pipeline_by_stage")[0][
        0
    ] == pipeline_before - len(hidden["jobs"])


def test_a_record_the_api_lists_again_is_active_again(wh: Warehouse) -> None:
    hidden = {"jobs": _live_ids(wh, "jobs", 3)}
    api = SandboxServer(HidingCompany(wh.server.company, hidden), api_key=API_KEY).start()
    try:
        assert wh.reconcile(api).success
    finally:
        api.stop()
    assert wh.rows(
        "SELECT count(*) FROM jobs WHERE id = ANY(%s) AND is_active = false", (hidden["jobs"],)
    ) == [(3,)]

    assert wh.reconcile(wh.server).success  # the API lists them again, unchanged

    assert wh.rows(
        "SELECT count(*) FROM jobs WHERE id = ANY(%s) AND is_active", (hidden["jobs"],)
    ) == [(3,)]


def test_reconciliation_refuses_to_mark_more_than_half_of_a_table(wh: Warehouse) -> None:
    active = [i for (i,) in wh.rows("SELECT id FROM jobs WHERE is_active IS NOT FALSE")]
    hidden = {"jobs": active[: int(len(active) * 0.6)]}
    before = wh.rows("SELECT id, is_active, updated_at FROM jobs ORDER BY id")

    api = SandboxServer(HidingCompany(wh.server.company, hidden), api_key=API_KEY).start()
    try:
        result = wh.reconcile(api, raise_on_error=False)
    finally:
        api.stop()

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.cause.message  # type: ignore[union-attr]
    assert "refusing" in message and "jobs" in message
    assert wh.rows("SELECT id, is_active, updated_at FROM jobs ORDER BY id") == before
