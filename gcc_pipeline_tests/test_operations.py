"""Invoices, estimates and tasks (issue 21): the operations questions, checked against figures
computed in Python from the sandbox's own payloads (parsed with the project's parsers, every
metric computed here from the README's definitions, never from the warehouse's SQL).

One warehouse is loaded for the module: a 300-job sandbox through the real ingestion (HTTP, a
real Dagster run), then every analytics view, with the account time zone America/Denver.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS
from gcc_pipeline.checks import CHECKS, CheckInputs
from gcc_pipeline.jobnimbus.records import parse_estimate, parse_invoice, parse_task
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.queries import dashboard_queries
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.metrics_truth import UNASSIGNED, ZERO, Truth, live
from gcc_pipeline_tests.pipeline import full_backfill, resources, sandbox
from gcc_pipeline_tests.warehouse_state import select_rows

TZ = "America/Denver"
NEW_TABLES = ("invoices", "estimates", "tasks")


@dataclass
class Loaded:
    url: str
    truth: Truth
    counts: dict[str, int]  # records the sandbox serves per new stream
    checks: dict[str, dg.AssetCheckEvaluation]

    def select(self, statement: str, params: dict | tuple = ()) -> list[dict[str, Any]]:
        return select_rows(self.url, statement, params)

    @property
    def today(self) -> date:
        return self.truth.local_date(self.truth.now)

    def ask(self, name: str, **override: Any) -> list[dict[str, Any]]:
        today = self.today
        month = today.replace(day=1)
        params = {
            "today": today, "now": self.truth.now, "month": month,
            "month_from": date(month.year - 1, month.month, 1), "month_to": month,
            "record_type": None, "sales_rep_id": None, "lead_source": None, "limit": 100_000,
            **override,
        }  # fmt: skip
        (q,) = [q for q in dashboard_queries() if q.name == name]
        return self.select(q.sql, {k: params[k] for k in q.parameters})

    # ------------------------------------------------------------ truth from the payloads

    def is_test(self, record: dict[str, Any]) -> bool:
        """A test record through its job when the warehouse knows the job, else its contact."""
        job = self.truth.all_jobs.get(record["job_id"])
        if job is not None:
            return job["is_test"]
        return bool((self.truth.contacts.get(record["contact_id"]) or {}).get("is_test"))

    def counting_invoices(self) -> list[dict[str, Any]]:
        rows = map(parse_invoice, self.truth.raw["invoices"])
        return [
            i for i in rows
            if live(i) and (i["status_name"] or "").lower() not in ("void", "voided", "draft")
            and not self.is_test(i)
        ]  # fmt: skip

    def job_of(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.truth.all_jobs.get(record["job_id"]) or {}

    def rep_of(self, record: dict[str, Any]) -> str:
        return self.job_of(record).get("sales_rep_id") or record["sales_rep_id"] or UNASSIGNED

    def type_of(self, record: dict[str, Any]) -> str:
        return self.job_of(record).get("record_type_name") or UNASSIGNED


@pytest.fixture(scope="module")
def loaded(pg_server_url: str) -> Iterator[Loaded]:
    url = create_database(pg_server_url)
    migrate(url)
    try:
        with sandbox(jobs=300, seed=21) as server:
            full_backfill(server, url)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("GCC_TIMEZONE", TZ)
                result = dg.materialize(ANALYTICS_ASSETS, resources=resources(server, url))
            checks = {
                e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()
            }
            counts = {t: server.company.count(t) for t in NEW_TABLES}
            yield Loaded(url, Truth.of(server.company, TZ), counts, checks)
    finally:
        drop_database(pg_server_url, url)


def test_a_load_fills_the_three_tables_with_every_record_the_sandbox_serves(loaded) -> None:
    for table in NEW_TABLES:
        (row,) = loaded.select(f"SELECT count(*) AS n FROM {table}")  # a constant of the module
        assert row["n"] == loaded.counts[table] > 0, table
    (row,) = loaded.select("SELECT count(*) AS n FROM jobnimbus_quarantine")
    assert row["n"] == 0


def test_the_sandbox_is_as_awkward_as_a_real_account(loaded) -> None:
    invoices = [parse_invoice(p) for p in loaded.truth.raw["invoices"]]
    statuses = {i["status_name"] for i in invoices}
    assert {"Paid", "Partially Paid", "Void"} <= statuses
    assert any(i["total"] == 0 for i in invoices)
    assert any(i["job_id"] is None for i in invoices)
    assert any(i["is_archived"] for i in invoices)
    today = loaded.today
    assert any(i["due"] == 0 and loaded.truth.local_date(i["date_due"]) < today for i in invoices)
    estimates = [parse_estimate(p) for p in loaded.truth.raw["estimates"]]
    versions = defaultdict(int)
    for e in estimates:
        versions[e["job_id"]] += 1
    assert max(versions.values()) >= 3
    assert {"Approved", "Declined", "Sent"} <= {e["status_name"] for e in estimates}
    tasks = [parse_task(p) for p in loaded.truth.raw["tasks"]]
    assert any(t["date_end"] is None for t in tasks)
    assert any(t["assignee_id"] is None for t in tasks)
    assert any(t["is_archived"] or t["is_active"] is False for t in tasks)
    assert any(not t["is_completed"] for t in tasks) and any(t["is_completed"] for t in tasks)


def test_overdue_invoices_are_those_due_more_than_7_days_ago_oldest_first(loaded) -> None:
    today = loaded.today
    expected = sorted(

            (loaded.truth.local_date(i["date_due"]), i["id"], i["due"], loaded.rep_of(i),
             loaded.type_of(i))
            for i in loaded.counting_invoices()
            if i["due"] > 0 and (today - loaded.truth.local_date(i["date_due"])).days > 7

    )  # fmt: skip
    assert expected, "the sandbox has overdue invoices at the anchor"
    rows = loaded.ask("overdue_invoices")
    assert [
        (r["due_day"], r["invoice_id"], r["due"], r["sales_rep_id"], r["record_type_name"])
        for r in rows
    ] == expected
    assert all(r["days_overdue"] == (today - r["due_day"]).days > 7 for r in rows)
    rep = expected[0][3]
    assert {r["invoice_id"] for r in loaded.ask("overdue_invoices", sales_rep_id=rep)} == {
        e[1] for e in expected if e[3] == rep
    }


def test_pending_payments_are_the_open_balances_by_age_since_the_invoice_date(loaded) -> None:
    today = loaded.today
    buckets: dict[str, list] = defaultdict(lambda: [0, ZERO])
    for i in loaded.counting_invoices():
        if i["due"] > 0:
            age = (today - loaded.truth.local_date(i["date_invoice"] or i["date_created"])).days
            bucket = (
                "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "90+"
            )
            buckets[bucket][0] += 1
            buckets[bucket][1] += i["due"]
    assert len(buckets) >= 2
    rows = loaded.ask("pending_payments")
    assert [(r["bucket"], r["invoices"], r["due"]) for r in rows] == [
        (b, *buckets[b]) for b in sorted(buckets)
    ]


def test_receivables_from_invoices_agree_with_the_job_roll_up_and_the_check_says_so(
    loaded,
) -> None:
    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in loaded.truth.payments:
        if p.job_id:
            revenue[p.job_id] += p.revenue
    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for i in loaded.counting_invoices():
        if i["job_id"] in loaded.truth.jobs:
            owed[i["job_id"]] += i["due"]
    expected = sorted(((-d, j) for j, d in owed.items() if d > 0))
    assert expected
    rows = loaded.ask("receivables_from_invoices")
    assert [(-r["receivable"], r["job_id"]) for r in rows] == expected
    for r in rows:
        job = loaded.truth.jobs[r["job_id"]].row
        rollup = (job["approved_invoice_total"] or ZERO) - revenue[r["job_id"]]
        assert r["rollup_receivable"] == rollup == r["receivable"], r["job_id"]
        assert r["difference"] == 0
    check = loaded.checks["job_receivables:receivables_match_invoices"]
    assert check.passed and check.metadata["jobs_disagreeing"].value == 0


def _receivables_check_with(
    loaded: Loaded, invoice_id: str, due_change: int, window_from: Any = None
) -> dg.AssetCheckResult:
    """The receivables check evaluated with one invoice's due changed (and, given window_from,
    the invoices' window starting then), the warehouse restored afterwards."""
    (check,) = [c for c in CHECKS if c.name == "receivables_match_invoices"]
    conn = psycopg2.connect(loaded.url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT covered_from FROM jobnimbus_sync_state WHERE stream = 'invoices'")
            (covered_from,) = cur.fetchone()

            def change(since: Any, due: int) -> None:
                cur.execute("UPDATE jobnimbus_sync_state SET covered_from = %s"
                            " WHERE stream = 'invoices'", (since,))  # fmt: skip
                cur.execute("UPDATE invoices SET due = due + %s WHERE id = %s",
                            (due, invoice_id))  # fmt: skip
                for view in ("invoice_balances", "job_receivables"):
                    cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view}")

            change(window_from or covered_from, due_change)
            try:
                return check.evaluate(CheckInputs(cur, "test", frozenset(), 48.0, False))
            finally:
                change(covered_from, -due_change)
    finally:
        conn.close()


def test_the_check_warns_naming_a_job_whose_invoices_disagree_with_its_roll_up(loaded) -> None:
    (row,) = loaded.select(
        "SELECT job_id, invoice_id FROM analytics.invoice_balances WHERE job_id IS NOT NULL"
        " AND due > 0 ORDER BY invoice_id LIMIT 1"
    )
    result = _receivables_check_with(loaded, row["invoice_id"], 10)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["jobs_disagreeing"].value == 1
    assert row["job_id"] in str(result.metadata["examples"])


def test_the_check_does_not_judge_jobs_created_before_the_invoices_window(loaded) -> None:
    """A job created before GCC_START_DATE can be in the warehouse (it changed since) while
    its invoices, last updated before that date, were never fetched: counted, not judged."""
    (row,) = loaded.select(
        "SELECT b.job_id, b.invoice_id, j.date_created FROM analytics.invoice_balances b"
        " JOIN jobs j ON j.id = b.job_id WHERE b.due > 0 ORDER BY b.invoice_id LIMIT 1"
    )
    after_its_creation = row["date_created"] + timedelta(seconds=1)
    result = _receivables_check_with(loaded, row["invoice_id"], 10, after_its_creation)
    assert result.passed, result.metadata
    assert result.metadata["jobs_before_window"].value >= 1
    assert row["job_id"] not in str(result.metadata["examples"])


def _estimate_truth(
    loaded: Loaded, only_rep: str | None = None
) -> dict[tuple[str, str | None, str | None], dict[str, Any]]:
    """Jobs whose first estimate was sent in the last 13 months: per rep, per job type and in
    all, keyed (breakdown, rep, job type) as the query's rows are."""
    truth = loaded.truth
    units: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in map(parse_estimate, truth.raw["estimates"]):
        if live(e) and (e["status_name"] or "").lower() != "draft" and not loaded.is_test(e):
            units[e["job_id"] or e["id"]].append(e)
    month = loaded.today.replace(day=1)
    first_month = date(month.year - 1, month.month, 1)
    out: dict[tuple[str, str | None, str | None], dict[str, Any]] = defaultdict(
        lambda: {
            "sent": 0,
            "sent_value": ZERO,
            "approved": 0,
            "approved_value": ZERO,
            "declined": 0,
            "declined_value": ZERO,
            "days": 0.0,
        }
    )
    for versions in units.values():
        versions.sort(key=lambda e: (e["date_estimate"], e["id"]))
        first, latest = versions[0], versions[-1]
        if not first_month <= truth.month(first["date_estimate"]) <= month:
            continue
        job = loaded.job_of(first)
        rep = job.get("sales_rep_id") or latest["sales_rep_id"] or UNASSIGNED
        record_type = job.get("record_type_name") or UNASSIGNED
        if only_rep is not None and rep != only_rep:
            continue
        approved = [e for e in versions if e["status_name"] == "Approved"]
        declined = not approved and all(e["status_name"] == "Declined" for e in versions)
        for key in (("rep", rep, None), ("job type", None, record_type), ("all", None, None)):
            f = out[key]
            f["sent"] += 1
            f["sent_value"] += latest["total"]
            if approved:
                won = min(approved, key=lambda e: (e["date_status_change"], e["id"]))
                f["approved"] += 1
                f["approved_value"] += won["total"]
                f["days"] += (won["date_status_change"] - first["date_estimate"]).total_seconds()
            elif declined:
                f["declined"] += 1
                f["declined_value"] += latest["total"]
    return out


@pytest.mark.parametrize("filtered", [False, True], ids=["every rep", "one rep"])
def test_the_estimate_funnel_counts_jobs_not_versions_by_rep_and_job_type(
    loaded, filtered: bool
) -> None:
    rep = None
    if filtered:  # the rep with the most jobs sent: the query reads the finest rows then
        reps = _estimate_truth(loaded)
        rep = max(
            (k[1] for k in reps if k[0] == "rep"), key=lambda r: reps[("rep", r, None)]["sent"]
        )
    expected = _estimate_truth(loaded, rep)
    rows = loaded.ask("estimate_funnel", sales_rep_id=rep)
    got = {(r["breakdown"], r["sales_rep_id"], r["record_type_name"]): r for r in rows}
    assert set(got) == set(expected)
    assert [r["breakdown"] for r in rows] == sorted((r["breakdown"] for r in rows), reverse=True)
    assert expected[("all", None, None)]["approved"] > 0
    assert expected[("all", None, None)]["declined"] > 0
    for key, f in expected.items():
        r = got[key]
        assert (r["sent"], r["approved"], r["declined"]) == (
            f["sent"],
            f["approved"],
            f["declined"],
        )
        assert (r["sent_value"], r["approved_value"], r["declined_value"]) == (
            f["sent_value"], f["approved_value"], f["declined_value"],
        )  # fmt: skip
        assert r["open"] == f["sent"] - f["approved"] - f["declined"]
        if f["approved"]:
            days = f["days"] / 86400 / f["approved"]
            assert abs(float(r["avg_days_to_approval"]) - days) < 0.01
    if rep:
        assert got[("rep", rep, None)]["sales_rep_name"] == loaded.truth.rep_name(rep)


def test_open_and_overdue_tasks_per_assignee(loaded) -> None:
    today = loaded.today
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for t in map(parse_task, loaded.truth.raw["tasks"]):
        if not live(t) or t["is_completed"] or loaded.is_test(t):
            continue
        due = t["date_end"] or t["date_start"]
        entry = expected[t["assignee_id"] or UNASSIGNED]
        entry[0] += 1
        entry[1] += due is not None and loaded.truth.local_date(due) < today
        entry[2] += due is None
    assert UNASSIGNED in expected and sum(e[1] for e in expected.values()) > 0
    rows = loaded.ask("tasks_per_assignee")
    assert {r["assignee_id"]: [r["open_tasks"], r["overdue_tasks"], r["undated_tasks"]]
            for r in rows} == dict(expected)  # fmt: skip
    assert [r["overdue_tasks"] for r in rows] == sorted(
        (r["overdue_tasks"] for r in rows), reverse=True
    )
    names = {r["assignee_id"]: r["assignee_name"] for r in rows}
    assert all(names[a] == loaded.truth.rep_name(a) for a in names)


def test_jobs_missing_required_fields_are_listed_with_counts(loaded) -> None:
    missing = {}
    for job in loaded.truth.jobs.values():
        row = job.row
        flags = (row["sales_rep_id"] is None, row["source_name"] is None,
                 row["primary_contact_id"] is None, row["address_line1"] is None)  # fmt: skip
        if any(flags):
            missing[row["id"]] = flags
    assert missing, "the sandbox has a job without a contact"
    rows = loaded.ask("jobs_missing_fields")
    assert {r["job_id"]: (r["missing_rep"], r["missing_source"], r["missing_contact"],
                          r["missing_address"]) for r in rows} == missing  # fmt: skip
    for r in rows:
        assert r["jobs_missing_any"] == len(missing)
        assert r["jobs_missing_contact"] == sum(f[2] for f in missing.values())


def test_every_new_query_answers_with_one_view_and_the_reader_sees_the_new_tables(loaded) -> None:
    from gcc_pipeline.warehouse import roles

    assert set(NEW_TABLES) <= set(roles.READABLE_TABLES)
    names = ("overdue_invoices", "pending_payments", "receivables_from_invoices",
             "estimate_funnel", "tasks_per_assignee", "jobs_missing_fields")  # fmt: skip
    for name in names:
        assert loaded.ask(name), name
    assert all(loaded.checks[k].passed for k in loaded.checks if "receivable" in k)


def test_overdue_follows_the_today_parameter_not_the_last_refresh(loaded) -> None:
    """'Today' lives in the queries (a parameter), so a view never goes stale overnight."""
    later = loaded.today + timedelta(days=400)
    rows = loaded.ask("overdue_invoices", today=later)
    assert {r["invoice_id"] for r in rows} == {
        i["id"] for i in loaded.counting_invoices() if i["due"] > 0 and i["date_due"] is not None
    }


def test_the_new_views_refresh_concurrently_over_their_own_rows(loaded) -> None:
    """Dashboards keep reading during a refresh: each view has a unique index that admits its
    rows (open_tasks keys tasks without a date by a NULL day)."""
    views = ("invoice_balances", "open_invoices_by_day", "job_receivables", "estimate_funnel",
             "open_tasks", "jobs_missing_fields")  # fmt: skip
    before = {v: loaded.select(f"SELECT count(*) AS n FROM analytics.{v}")[0]["n"] for v in views}
    assert loaded.select("SELECT count(*) AS n FROM analytics.open_tasks WHERE due_day IS NULL")[0][
        "n"
    ]
    conn = psycopg2.connect(loaded.url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for v in views:
                cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{v}")
    finally:
        conn.close()
    assert {
        v: loaded.select(f"SELECT count(*) AS n FROM analytics.{v}")[0]["n"] for v in views
    } == before
