"""Analytics views, checked against numbers computed in Python from the sandbox's own records.

One warehouse is loaded for the module (a 300-job sandbox, 5% of jobs in statuses the mapping
lacks, through the real ingestion, then every analytics asset materialized with the account time
zone America/Denver); the expected values are aggregated here from the payloads the sandbox
serves, never from the warehouse's SQL. Cases the sandbox never produces (payments of unknown
jobs, NULL-stage rows inside a stage run, a job without rep or source) use hand-made rows.
"""

import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from statistics import mean, median
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS, AUTOMATION, VIEWS
from gcc_pipeline.jobnimbus.records import (
    parse_contact,
    parse_job,
    parse_materialorder,
    parse_payment,
    parse_workorder,
)
from gcc_pipeline.stage_mapping import STAGES, load_mapping, status_key
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import full_backfill, resources, sandbox

TZ = "America/Denver"
ORDER = {stage: i + 1 for i, stage in enumerate(STAGES)}
FUNNEL = STAGES[:6]  # Lead .. Completed
ZERO = Decimal("0.00")
STATUS_NOTES = (
    re.compile(r"^\s*Status:\s*(.*\S)\s*=>\s*(.*\S)\s*$"),
    re.compile(r"^\s*Status changed from\s+(.*\S)\s+to\s+(.*\S)\s*$"),
)


def _month(ts: datetime, tz: str = TZ) -> date:
    return ts.astimezone(ZoneInfo(tz)).date().replace(day=1)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def _live(row: dict[str, Any]) -> bool:
    return row["is_active"] is not False and row["is_archived"] is not True


@dataclass
class Company:
    """The sandbox company as parsed rows, plus the stage and status history of each job."""

    jobs: dict[str, dict[str, Any]]
    contacts: dict[str, dict[str, Any]]
    payments: list[dict[str, Any]]
    expenses: list[dict[str, Any]]
    users: dict[str, str]
    history: dict[str, list[tuple[datetime, str | None]]] = field(default_factory=dict)

    @classmethod
    def build(cls, company: Any) -> "Company":
        mapping = load_mapping()
        workflow = {int(rt["id"]): rt["workflow"] for rt in mapping["record_types"]}
        stage_of = {
            wf: {status_key(name): stage for stage, names in stages.items() for name in names}
            for wf, stages in mapping["workflows"].items()
        }

        def stage(job: dict[str, Any], status: str | None) -> str | None:
            flow = stage_of.get(workflow.get(job["record_type_id"]), {})
            return flow.get(status_key(status)) if status else None

        jobs = {}
        for payload in company.records("jobs"):
            job = parse_job(payload)
            job["stage"] = stage(job, job["status_name"])
            job["live"] = _live(job) and not job["is_test"] and not job["is_legacy"]
            jobs[job["id"]] = job
        history: dict[str, set[tuple[datetime, str]]] = defaultdict(set)
        for act in company.records("activities"):
            if act.get("is_status_change") is not True:
                continue
            match = next(filter(None, (p.match(act.get("note") or "") for p in STATUS_NOTES)), None)
            links = [*(act.get("related") or []), act.get("primary") or {}]
            job_id = next((x["id"] for x in links if x and x.get("type") == "job"), None)
            if match and job_id in jobs:
                changed = datetime.fromtimestamp(act["date_created"], tz=ZoneInfo("UTC"))
                history[job_id].add((changed, match[2]))
        expenses = [parse_workorder(p) for p in company.records("workorders")]
        expenses += [parse_materialorder(p) for p in company.records("materialorders")]
        return cls(
            jobs=jobs,
            contacts={c["id"]: c for c in map(parse_contact, company.records("contacts"))},
            payments=[parse_payment(p) for p in company.records("payments")],
            expenses=expenses,
            users={u["id"]: u["name"] for u in company.users()},
            history={
                job_id: sorted((t, stage(jobs[job_id], s)) for t, s in rows)
                for job_id, rows in history.items()
            },
        )

    def live_jobs(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs.values() if j["live"]]

    def won(self, job: dict[str, Any]) -> bool:
        return job["stage"] is not None and 3 <= ORDER[job["stage"]] <= 6

    def live_payments(self) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        for p in self.payments:
            job = self.jobs.get(p["job_id"])
            if _live(p) and (job is None or not (job["is_test"] or job["is_legacy"])):
                yield p, job

    def revenue_of(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for p, job in self.live_payments():
            if job is not None:
                out[job["id"]] += p["net_amount"]
        return out

    def stage_entries(self, job_id: str) -> list[tuple[datetime, str]]:
        entries: list[tuple[datetime, str]] = []
        for t, stage in self.history.get(job_id, []):
            if stage is not None and (not entries or entries[-1][1] != stage):
                entries.append((t, stage))
        return entries

    def date_sold(self, job_id: str) -> datetime | None:
        sold = [t for t, s in self.history.get(job_id, []) if s and 3 <= ORDER[s] <= 6]
        return min(sold, default=None)


@dataclass
class Loaded:
    url: str
    result: dg.ExecuteInProcessResult
    company: Company

    def rows(self, view: str, key: int | tuple[int, ...]) -> dict[Any, dict[str, Any]]:
        """The view's rows as dicts, keyed by the column(s) at `key`."""
        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM analytics.{view}")
                names = [d.name for d in cur.description]
                out = {}
                for row in cur.fetchall():
                    k = row[key] if isinstance(key, int) else tuple(row[i] for i in key)
                    out[k] = dict(zip(names, row, strict=True))
                return out
        finally:
            conn.close()


@pytest.fixture(scope="module")
def loaded(pg_server_url: str) -> Iterator[Loaded]:
    url = create_database(pg_server_url)
    migrate(url)
    try:
        with sandbox(jobs=300, seed=11, unmapped_status_share=0.05) as server:
            full_backfill(server, url)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("GCC_TIMEZONE", TZ)
                result = dg.materialize(ANALYTICS_ASSETS, resources=resources(server, url))
            yield Loaded(url, result, Company.build(server.company))
    finally:
        drop_database(pg_server_url, url)


def _close(actual: Decimal | float | None, expected: float | None, tol: float) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) <= tol


# ---------------------------------------------------------------- definitions


def test_assets_are_one_per_view_with_their_tables_as_deps() -> None:
    assert [a.key.path[-1] for a in ANALYTICS_ASSETS] == [v.name for v in VIEWS]
    for a, view in zip(ANALYTICS_ASSETS, VIEWS, strict=True):
        assert a.group_names_by_key[a.key] == "analytics"
        assert {k.path[-1] for k in a.asset_deps[a.key]} == set(view.deps)
        assert a.automation_conditions_by_key[a.key] == AUTOMATION
        assert not a.partitions_def
        assert a.descriptions_by_key[a.key]
        assert "postgres" in a.specs_by_key[a.key].kinds


# ---------------------------------------------------------------- views vs the sandbox


def test_revenue_by_month_per_record_type(loaded: Loaded) -> None:
    co = loaded.company
    revenue: dict[tuple[date, str], Decimal] = defaultdict(lambda: ZERO)
    count: dict[tuple[date, str], int] = defaultdict(int)
    for p, job in co.live_payments():
        rt = "(unknown job)" if job is None else job["record_type_name"] or "(none)"
        key = (_month(p["date_payment"] or p["date_created"]), rt)
        revenue[key] += p["net_amount"]
        count[key] += 1
    rows = loaded.rows("revenue_by_month", (0, 1))
    assert len(revenue) > 20
    assert {k: (r["revenue"], r["payment_count"]) for k, r in rows.items()} == {
        k: (revenue[k], count[k]) for k in revenue
    }
    # archived, inactive and test-job payments exist in the sandbox and were left out
    assert len(list(co.live_payments())) < len(co.payments)


def test_pipeline_by_stage_counts(loaded: Loaded) -> None:
    expected: dict[tuple[str, str], list] = defaultdict(lambda: [None, 0, ZERO])
    for job in loaded.company.live_jobs():
        entry = expected[(job["record_type_name"] or "(none)", job["stage"] or "(unmapped)")]
        entry[0] = ORDER.get(job["stage"])
        entry[1] += 1
        entry[2] += job["approved_estimate_total"] or ZERO
    rows = loaded.rows("pipeline_by_stage", (0, 1))
    actual = {k: [r["stage_order"], r["job_count"], r["estimate_value"]] for k, r in rows.items()}
    assert actual == dict(expected)
    assert sum(r["job_count"] for r in rows.values()) == len(loaded.company.live_jobs())
    assert any(stage == "(unmapped)" for _, stage in rows)


def test_job_profitability_for_every_live_job(loaded: Loaded) -> None:
    co = loaded.company
    revenue = co.revenue_of()
    cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in co.expenses:
        if _live(e) and e["amount"] is not None:
            cost[e["job_id"]] += e["amount"]
    rows = loaded.rows("job_profitability", 0)
    assert set(rows) == {j["id"] for j in co.live_jobs()}
    for job in co.live_jobs():
        row, rev, exp = rows[job["id"]], revenue[job["id"]], cost[job["id"]]
        assert (row["record_type_name"], row["revenue"], row["expenses"], row["gross_profit"]) == (
            job["record_type_name"],
            rev,
            exp,
            rev - exp,
        ), job["id"]
        margin = float((rev - exp) / rev) if rev else None
        assert _close(row["gross_margin"], margin, 0.00006), job["id"]
    assert any(r["expenses"] > 0 and r["revenue"] > 0 for r in rows.values())


def test_cash_flow_by_month(loaded: Loaded) -> None:
    co = loaded.company
    cash_in: dict[date, Decimal] = defaultdict(lambda: ZERO)
    cash_out: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for p, _ in co.live_payments():
        cash_in[_month(p["date_payment"] or p["date_created"])] += p["net_amount"]
    for e in co.expenses:
        job = co.jobs.get(e["job_id"])
        if _live(e) and (job is None or not (job["is_test"] or job["is_legacy"])):
            cash_out[_month(e["date_expense"])] += e["amount"] or ZERO
    rows = loaded.rows("cash_flow_by_month", 0)
    months = set(cash_in) | set(cash_out)
    assert set(rows) == months
    for m in months:
        assert (rows[m]["cash_in"], rows[m]["cash_out"], rows[m]["net"]) == (
            cash_in[m],
            cash_out[m],
            cash_in[m] - cash_out[m],
        ), m


def test_rep_performance(loaded: Loaded) -> None:
    co = loaded.company
    revenue = co.revenue_of()
    reps: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"leads": 0, "won": 0, "lost": 0, "revenue": ZERO, "pipeline_value": ZERO}
    )
    for job in co.live_jobs():
        rep = reps[job["sales_rep_id"] or "(none)"]
        rep["leads"] += 1
        rep["won"] += co.won(job)
        rep["lost"] += job["stage"] == "Lost"
        rep["revenue"] += revenue[job["id"]]
        if not co.won(job) and job["stage"] != "Lost":
            rep["pipeline_value"] += job["approved_estimate_total"] or ZERO
    rows = loaded.rows("rep_performance", 0)
    assert set(rows) == set(reps)
    for rep_id, exp in reps.items():
        row = rows[rep_id]
        assert {k: row[k] for k in exp} == exp, rep_id
        decided = exp["won"] + exp["lost"]
        assert _close(row["conversion_rate"], exp["won"] / decided if decided else None, 6e-5)
        names = {j["sales_rep_name"] for j in co.live_jobs() if j["sales_rep_id"] == rep_id}
        assert row["sales_rep_name"] == co.users.get(rep_id) or row["sales_rep_name"] in names


def test_lead_source_performance(loaded: Loaded) -> None:
    co = loaded.company
    revenue = co.revenue_of()
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in co.live_jobs():
        contact = co.contacts.get(job["primary_contact_id"]) or {}
        by_source[job["source_name"] or contact.get("lead_source") or "(none)"].append(job)
    rows = loaded.rows("lead_source_performance", 0)
    assert set(rows) == set(by_source)
    for source, jobs in by_source.items():
        row, won = rows[source], [j for j in jobs if co.won(j)]
        assert (row["leads"], row["won"]) == (len(jobs), len(won)), source
        assert row["revenue"] == sum((revenue[j["id"]] for j in jobs), ZERO), source
        assert _close(row["conversion_rate"], len(won) / len(jobs), 6e-5), source
        days = [
            _days(sold, j["date_created"])
            for j in won
            if (sold := co.date_sold(j["id"])) and j["date_created"]
        ]
        assert _close(row["avg_days_to_sale"], mean(days) if days else None, 0.006), source


def test_stage_velocity(loaded: Loaded) -> None:
    co = loaded.company
    days: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for job in co.live_jobs():
        entries = co.stage_entries(job["id"])
        for (t1, s1), (t2, s2) in pairwise(entries):
            days[(job["record_type_name"], s1, s2)].append(_days(t2, t1))
    rows = loaded.rows("stage_velocity", (0, 1, 2))
    assert set(rows) == set(days)
    for key, values in days.items():
        row = rows[key]
        assert row["transitions"] == len(values), key
        assert _close(row["avg_days"], mean(values), 0.006), key
        assert _close(row["median_days"], median(values), 0.006), key
    # spot check: the Lead -> Estimating move is the commonest first step of the funnel
    assert any(k[1:] == ("Lead", "Estimating") and r["transitions"] > 5 for k, r in rows.items())


def test_stage_conversion(loaded: Loaded) -> None:
    co = loaded.company
    furthest: dict[str, list[int]] = defaultdict(list)
    for job in co.live_jobs():
        orders = [ORDER[s] for _, s in co.stage_entries(job["id"]) if ORDER[s] <= 6]
        furthest[job["record_type_name"]].append(max(orders, default=0))
    rows = loaded.rows("stage_conversion", (0, 1))
    assert set(rows) == {(rt, s) for rt in furthest for s in FUNNEL}
    for (rt, stage), row in rows.items():
        order = ORDER[stage]
        reached = sum(m >= order for m in furthest[rt])
        converted = sum(m >= order + 1 for m in furthest[rt]) if order < 6 else 0
        assert (row["stage_order"], row["reached"], row["converted_to_next"]) == (
            order,
            reached,
            converted,
        ), (rt, stage)
        rate = converted / reached if reached and order < 6 else None
        assert _close(row["conversion_rate"], rate, 6e-5), (rt, stage)


# ---------------------------------------------------------------- materialization metadata


def test_each_materialization_reports_row_count_and_preview(loaded: Loaded) -> None:
    events = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in loaded.result.get_asset_materialization_events()
    }
    assert set(events) == {v.name for v in VIEWS}
    for view in VIEWS:
        meta = events[view.name]
        rows = loaded.rows(view.name, tuple(range(3)))
        assert meta["dagster/row_count"].value == len(rows) > 0, view.name
        assert meta["refresh_seconds"].value >= 0
        preview = meta["preview"]
        assert isinstance(preview, dg.MarkdownMetadataValue)
        lines = preview.md_str.splitlines()
        assert len(lines) == 2 + min(10, len(rows)), view.name
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        assert header == list(next(iter(rows.values()))), view.name
        assert meta["timezone"].value == TZ


# ---------------------------------------------------------------- refresh concurrency


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # ok: polling with a deadline, not a timing assertion


def _waiting_on_lock(monitor: Any, pid: int) -> bool:
    with monitor.cursor() as cur:
        cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = cur.fetchone()
    return row is not None and row[0] == "Lock"


def _autocommit(url: str) -> Any:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _refresh_in_thread(url: str, sql: str) -> tuple[threading.Thread, int, list[BaseException]]:
    conn = _autocommit(url)
    pid = conn.get_backend_pid()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, pid, errors


def test_concurrent_refresh_never_blocks_or_empties_readers(loaded: Loaded) -> None:
    """The refresh is held mid-way (its input table `payments` is locked by a third session, so
    it waits while holding its lock on the view); a reader meanwhile queries the view over and
    over, and gets every row each time. A plain REFRESH in the same position blocks readers."""
    view = "analytics.job_profitability"
    monitor, reader, locker = (_autocommit(loaded.url) for _ in range(3))
    try:
        with monitor.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {view}")
            expected = cur.fetchone()[0]
        assert expected > 0
        locker.autocommit = False
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE payments IN ACCESS EXCLUSIVE MODE")
        thread, pid, errors = _refresh_in_thread(
            loaded.url, f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"
        )
        _wait_for(lambda: _waiting_on_lock(monitor, pid), "the refresh to wait on payments")
        counts = []
        with reader.cursor() as cur:
            cur.execute("SET lock_timeout = '2s'")  # a blocked reader fails instead of hanging
            for _ in range(25):
                cur.execute(f"SELECT count(*) FROM {view}")
                counts.append(cur.fetchone()[0])
        assert thread.is_alive() and _waiting_on_lock(monitor, pid)  # all reads were mid-refresh
        assert counts == [expected] * 25
        locker.rollback()  # let the refresh finish
        thread.join(30)
        assert not thread.is_alive() and not errors
        with reader.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {view}")
            assert cur.fetchone()[0] == expected

        # contrast: a non-concurrent refresh in the same position locks readers out
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE payments IN ACCESS EXCLUSIVE MODE")
        thread, pid, errors = _refresh_in_thread(loaded.url, f"REFRESH MATERIALIZED VIEW {view}")
        _wait_for(lambda: _waiting_on_lock(monitor, pid), "the plain refresh to wait")
        with reader.cursor() as cur:
            cur.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cur.execute(f"SELECT count(*) FROM {view}")
        locker.rollback()
        thread.join(30)
        assert not errors
    finally:
        for conn in (monitor, reader, locker):
            conn.close()


def test_readers_see_full_views_during_repeated_concurrent_refreshes(loaded: Loaded) -> None:
    """A reader thread polls a view while it is refreshed several times: never an empty view."""
    view = "analytics.revenue_by_month"
    reader = _autocommit(loaded.url)
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        with reader.cursor() as cur:
            while not done.is_set():
                cur.execute(f"SELECT count(*) FROM {view}")
                seen.append(cur.fetchone()[0])

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    refresher = _autocommit(loaded.url)
    try:
        with refresher.cursor() as cur:
            _wait_for(lambda: len(seen) > 0, "the reader to start")
            for _ in range(5):
                cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
            _wait_for(lambda: len(seen) > 10, "more reads")
    finally:
        done.set()
        thread.join(10)
        reader.close()
        refresher.close()
    assert seen and min(seen) == max(seen) > 0


# ---------------------------------------------------------------- time zone


def _insert_payment_and_expense(url: str) -> None:
    """A job, a payment at 03:30 UTC on 1 March (21:30 on 28 February in Chicago) and an
    expense at 02:00 UTC the same night."""
    conn = _autocommit(url)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO jobs (id, record_type_name, is_active, is_archived) "
            "VALUES ('j-tz', 'Roof Replacement', true, false)"
        )
        cur.execute(
            "INSERT INTO payments (id, job_id, amount, net_amount, date_payment, is_active, "
            "is_archived) VALUES ('p-tz', 'j-tz', 100, 100, '2026-03-01 03:30:00+00', true, false)"
        )
        cur.execute(
            "INSERT INTO expenses (id, job_id, amount, date_expense, source_entity, is_active, "
            "is_archived) VALUES ('e-tz', 'j-tz', 40, '2026-03-01 02:00:00+00', 'workorder', "
            "true, false)"
        )
    conn.close()


def test_months_follow_the_account_time_zone(
    warehouse_url: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _insert_payment_and_expense(warehouse_url)
    by_name = {a.key.path[-1]: a for a in ANALYTICS_ASSETS}
    warehouse = {"warehouse": WarehouseResource(url=warehouse_url)}

    def months() -> tuple[list, list]:
        with db.cursor() as cur:
            cur.execute("SELECT month, record_type_name, revenue FROM analytics.revenue_by_month")
            revenue = cur.fetchall()
            cur.execute("SELECT month, cash_in, cash_out FROM analytics.cash_flow_by_month")
            return revenue, cur.fetchall()

    monkeypatch.setenv("GCC_TIMEZONE", "America/Chicago")
    result = dg.materialize(
        [by_name["revenue_by_month"], by_name["cash_flow_by_month"]], resources=warehouse
    )
    feb = date(2026, 2, 1)
    assert months() == (
        [(feb, "Roof Replacement", Decimal("100.00"))],
        [(feb, Decimal("100.00"), Decimal("40.00"))],
    )
    changed = {
        e.asset_key.path[-1]: e.materialization.metadata["timezone_changed"].value
        for e in result.get_asset_materialization_events()
    }
    assert sorted(changed.values()) == [False, True]  # the first one stored the new zone

    # back to UTC, materializing one view: the other month view is refreshed with it
    monkeypatch.setenv("GCC_TIMEZONE", "UTC")
    dg.materialize([by_name["revenue_by_month"]], resources=warehouse)
    mar = date(2026, 3, 1)
    assert months() == (
        [(mar, "Roof Replacement", Decimal("100.00"))],
        [(mar, Decimal("100.00"), Decimal("40.00"))],
    )
    with db.cursor() as cur:
        cur.execute("SELECT value FROM gcc_settings WHERE key = 'timezone'")
        assert cur.fetchone() == ("UTC",)


def test_an_unknown_time_zone_is_not_stored(db: Any) -> None:
    with db.cursor() as cur:
        with pytest.raises(psycopg2.Error):
            cur.execute(query("analytics_set_timezone"), {"timezone": "Mars/Olympus_Mons"})
        cur.execute("SELECT value FROM gcc_settings WHERE key = 'timezone'")
        assert cur.fetchone() == ("UTC",)


def test_edge_cases_the_sandbox_lacks(db: Any) -> None:
    """Unknown-job and test-job payments, NULL stages inside a run of one stage, a job with no
    rep and no source of its own (its contact's lead source is used)."""
    with db.cursor() as cur:
        cur.execute(
            """
            INSERT INTO contacts (id, lead_source) VALUES ('c1', 'Referral');
            INSERT INTO jobs (id, record_type_name, stage, is_won, is_test, primary_contact_id,
                              date_created, date_sold)
            VALUES ('j1', 'Repairs', 'Sold', true, false, 'c1',
                    '2026-01-01 00:00+00', '2026-01-11 12:00+00'),
                   ('jt', 'Repairs', 'Lead', false, true, NULL, NULL, NULL);
            INSERT INTO payments (id, job_id, net_amount, date_payment, is_active, is_archived)
            VALUES ('p1', 'j1', 10, '2026-01-15 12:00+00', true, false),
                   ('p2', 'nowhere', 7, '2026-01-20 12:00+00', true, false),
                   ('p3', NULL, 5, '2026-01-21 12:00+00', NULL, NULL),
                   ('p4', 'jt', 1000, '2026-01-22 12:00+00', true, false),
                   ('p5', 'j1', 2000, '2026-01-23 12:00+00', true, true);
            INSERT INTO job_status_history (job_id, status_name, stage, changed_at, source)
            VALUES ('j1', 'New Lead', 'Lead', '2026-01-01 00:00+00', 'activity'),
                   ('j1', 'Mystery', NULL, '2026-01-02 00:00+00', 'activity'),
                   ('j1', 'Contacting', 'Lead', '2026-01-03 00:00+00', 'activity'),
                   ('j1', 'Signed Contract', 'Sold', '2026-01-11 12:00+00', 'activity');
            """
        )
        for view in VIEWS:
            cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view.name}")
        cur.execute(
            "SELECT record_type_name, revenue, payment_count FROM analytics.revenue_by_month"
        )
        assert sorted(cur.fetchall()) == [
            ("(unknown job)", Decimal("12.00"), 2),
            ("Repairs", Decimal("10.00"), 1),
        ]
        cur.execute(
            "SELECT from_stage, to_stage, transitions, avg_days FROM analytics.stage_velocity"
        )
        assert cur.fetchall() == [("Lead", "Sold", 1, Decimal("10.50"))]
        cur.execute(
            "SELECT sales_rep_id, sales_rep_name, leads, won, revenue, conversion_rate "
            "FROM analytics.rep_performance"
        )
        assert cur.fetchall() == [("(none)", "(none)", 1, 1, Decimal("10.00"), Decimal("1.0000"))]
        cur.execute(
            "SELECT lead_source, leads, avg_days_to_sale FROM analytics.lead_source_performance"
        )
        assert cur.fetchall() == [("Referral", 1, Decimal("10.50"))]
        cur.execute(
            "SELECT stage, reached, converted_to_next, conversion_rate "
            "FROM analytics.stage_conversion ORDER BY stage_order"
        )
        assert cur.fetchall() == [
            ("Lead", 1, 1, Decimal("1.0000")),
            ("Estimating", 1, 1, Decimal("1.0000")),
            ("Sold", 1, 0, Decimal("0.0000")),
            ("In Production", 0, 0, None),
            ("Accounts Receivable", 0, 0, None),
            ("Completed", 0, 0, None),
        ]
        cur.execute("SELECT month, cash_in, cash_out FROM analytics.cash_flow_by_month")
        assert cur.fetchall() == [(date(2026, 1, 1), Decimal("22.00"), Decimal("0.00"))]
