"""Analytics views, checked against the owners' metrics computed in Python from the sandbox's own
payloads (gcc_pipeline_tests/metrics_truth.py), never from the warehouse's SQL.

One warehouse is loaded for the module (a 300-job sandbox, 5% of jobs in statuses the mapping
lacks, through the real ingestion, then every analytics asset materialized with the account time
zone America/Denver). Cases the sandbox never produces (payments without a known job, NULL-stage
rows inside a stage run, a job without rep or source of its own) use hand-made rows.
"""

import hashlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import mean, median
from typing import Any

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS, AUTOMATION, VIEWS
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.queries import dashboard_queries, query
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.metrics_truth import (
    FUNNEL,
    ORDER,
    PIPELINE_STAGES,
    UNASSIGNED,
    ZERO,
    Truth,
    ratio,
)
from gcc_pipeline_tests.pipeline import full_backfill, resources, sandbox
from gcc_pipeline_tests.warehouse_state import select_rows

TZ = "America/Denver"
STAGE_KEYS = ("lead", "estimating", "sold", "production", "receivable")


@dataclass
class Loaded:
    url: str
    result: dg.ExecuteInProcessResult
    truth: Truth

    def select(self, statement: str, params: dict | tuple = ()) -> list[dict[str, Any]]:
        return select_rows(self.url, statement, params)

    def rows(self, view: str, *key: str) -> dict[Any, dict[str, Any]]:
        """The view's rows as dicts, keyed by the given column(s)."""
        out = {}
        for row in self.select(f"SELECT * FROM analytics.{view}"):
            k = row[key[0]] if len(key) == 1 else tuple(row[c] for c in key)
            assert k not in out, (view, k)
            out[k] = row
        return out


@pytest.fixture(scope="module")
def loaded(pg_server_url: str) -> Iterator[Loaded]:
    url = create_database(pg_server_url)
    migrate(url)
    try:
        with sandbox(jobs=300, seed=11, unmapped_status_share=0.05, legacy_share=0.06) as server:
            full_backfill(server, url)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("GCC_TIMEZONE", TZ)
                result = dg.materialize(ANALYTICS_ASSETS, resources=resources(server, url))
            yield Loaded(url, result, Truth.of(server.company, TZ))
    finally:
        drop_database(pg_server_url, url)


def close(actual: Decimal | float | None, expected: float | Decimal | None, tol: float) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= tol


# ---------------------------------------------------------------- definitions


def test_assets_are_one_per_view_file_with_its_inputs_as_deps_and_its_hash_as_version() -> None:
    from gcc_pipeline.warehouse.migrate import view_files, view_name

    assert [v.name for v in VIEWS] == [view_name(p) for p in view_files()]
    (a,) = ANALYTICS_ASSETS  # one step refreshes any selection of them, in file order
    assert {k.path[-1] for k in a.keys} == {v.name for v in VIEWS}
    assert a.can_subset and not a.partitions_def
    for view in VIEWS:
        key = dg.AssetKey(view.name)
        assert a.group_names_by_key[key] == "analytics"
        assert {k.path[-1] for k in a.asset_deps[key]} == set(view.deps)
        assert a.automation_conditions_by_key[key] == AUTOMATION
        assert a.descriptions_by_key[key]
        assert "postgres" in a.specs_by_key[key].kinds
        digest = hashlib.sha256(view.path.read_bytes()).hexdigest()[:16]
        assert a.code_versions_by_key[key] == digest
        for dep in view.deps:  # a view read by another comes first in the file order
            if dep in {v.name for v in VIEWS}:
                assert [v.name for v in VIEWS].index(dep) < VIEWS.index(view)


# ---------------------------------------------------------------- defects of issue 12


def test_defect_1_legacy_jobs_are_in_every_money_figure_with_an_is_legacy_column(
    loaded: Loaded,
) -> None:
    truth = loaded.truth
    legacy_revenue = truth.revenue(is_legacy=True)
    assert legacy_revenue > 0, "the sandbox has legacy jobs with payments"
    by_month = loaded.select(
        "SELECT is_legacy, sum(revenue) AS revenue FROM analytics.revenue_by_month GROUP BY 1"
    )
    assert {r["is_legacy"]: r["revenue"] for r in by_month} == {
        True: legacy_revenue,
        False: truth.revenue(is_legacy=False),
    }
    legacy_jobs = {j.id for j in truth.jobs.values() if j.row["is_legacy"]}
    assert legacy_jobs
    current = loaded.rows("jobs_current", "job_id")
    assert {i for i, r in current.items() if r["is_legacy"]} == legacy_jobs
    costs = loaded.select(
        "SELECT sum(costs) AS costs FROM analytics.job_type_monthly WHERE is_legacy"
    )
    assert costs[0]["costs"] == sum(
        (e["amount"] or ZERO for e, job in truth.costs if job and job["is_legacy"]), ZERO
    )


def test_defect_6_rep_pipeline_value_is_estimating_sold_and_in_production(loaded: Loaded) -> None:
    truth = loaded.truth
    expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for job in truth.jobs.values():
        expected[job.rep] += job.pipeline_value
    reps = loaded.rows("rep_performance", "sales_rep_id")
    assert {r: reps[r]["pipeline_value"] for r in expected} == dict(expected)
    assert any(j.stage in ("Sold", "In Production") and j.estimate for j in truth.jobs.values())
    assert any(j.stage not in PIPELINE_STAGES and j.estimate for j in truth.jobs.values())


def test_defect_7_every_revenue_breakdown_adds_up_to_the_total(loaded: Loaded) -> None:
    """Payments without a rep, source or known job land in '(unassigned)', never nowhere."""
    total = loaded.truth.revenue()
    assert total > 0
    sums = {
        "revenue_payments": "SELECT sum(revenue) FROM analytics.revenue_payments",
        "revenue_daily": "SELECT sum(revenue) FROM analytics.revenue_daily",
        "revenue_by_month": "SELECT sum(revenue) FROM analytics.revenue_by_month",
        "rep_monthly": "SELECT sum(revenue) FROM analytics.rep_monthly",
        "rep_performance": "SELECT sum(revenue) FROM analytics.rep_performance",
        "lead_source_performance": "SELECT sum(revenue) FROM analytics.lead_source_performance",
        "job_type_monthly": "SELECT sum(revenue) FROM analytics.job_type_monthly",
        "cash_flow_by_month": "SELECT sum(cash_in) FROM analytics.cash_flow_by_month",
    }
    got = {name: next(iter(loaded.select(sql)[0].values())) for name, sql in sums.items()}
    assert got == dict.fromkeys(sums, total)


def test_defect_8_lead_source_leads_are_contacts_created(loaded: Loaded) -> None:
    truth = loaded.truth
    leads = Counter(c["lead_source"] or UNASSIGNED for c in truth.leads())
    rows = loaded.rows("lead_source_performance", "lead_source")
    assert {s: r["leads"] for s, r in rows.items() if r["leads"]} == dict(leads)
    assert dict(leads) != dict(Counter(j.source for j in truth.jobs.values()))  # not jobs


def test_defect_9_win_rate_and_lead_to_sold_rate_are_defined_once(loaded: Loaded) -> None:
    columns = loaded.select(
        """SELECT c.relname AS view, a.attname AS column
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'analytics' AND c.relkind = 'm' AND a.attnum > 0"""
    )
    names = {r["column"] for r in columns}
    assert "conversion_rate" not in names
    assert {"win_rate", "lead_to_sold_rate"} <= names
    truth = loaded.truth
    reps = loaded.rows("rep_performance", "sales_rep_id")
    for rep, row in reps.items():
        jobs = [j for j in truth.jobs.values() if j.rep == rep]
        won, lost = sum(j.won for j in jobs), sum(j.lost for j in jobs)
        assert close(row["win_rate"], ratio(won, won + lost), 6e-5), rep
        assert close(row["lead_to_sold_rate"], ratio(won, len(jobs)), 6e-5), rep


def test_defect_10_refunds_and_credits_are_not_revenue(loaded: Loaded) -> None:
    truth = loaded.truth
    refunded = [p for p in truth.payments if p.gross - p.revenue > 0]
    assert any(r.revenue == 0 for r in refunded), "a payment refunded in full"
    rows = loaded.rows("revenue_payments", "payment_id")
    for p in refunded:
        assert rows[p.id]["revenue"] == p.revenue < p.gross, p.id
    gross = loaded.select(
        "SELECT sum(gross_amount) - sum(revenue) AS off FROM analytics.revenue_daily"
    )
    assert gross[0]["off"] == sum((p.gross - p.revenue for p in truth.payments), ZERO) > 0


def test_defect_11_draft_and_cancelled_material_orders_are_not_costs(loaded: Loaded) -> None:
    truth = loaded.truth
    drafts = [m for m in truth.raw["materialorders"] if m["status_name"] in ("Draft", "Cancelled")]
    assert drafts
    draft_ids = {m["jnid"] for m in drafts}
    assert not draft_ids & {e["id"] for e, _ in truth.costs}
    expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e, job in truth.costs:
        if job is not None:
            expected[job["id"]] += e["amount"] or ZERO
    rows = loaded.rows("job_profitability", "job_id")
    assert {j: r["expenses"] for j, r in rows.items()} == {j: expected[j] for j in truth.jobs}


def test_defect_14_test_records_in_any_spelling_are_left_out(loaded: Loaded) -> None:
    truth = loaded.truth
    test_jobs = {i for i, j in truth.all_jobs.items() if j["is_test"]}
    names = {truth.all_jobs[i]["name"].split(" - ")[0] for i in test_jobs}
    assert {"Jane Tester", "jane  TESTER", "Jane Tester Jr"} <= names
    assert not test_jobs & set(loaded.rows("jobs_current", "job_id"))
    paid = {r["job_id"] for r in loaded.select("SELECT job_id FROM analytics.revenue_payments")}
    assert not test_jobs & paid


# ---------------------------------------------------------------- revenue facts


def test_revenue_payments_are_the_payments_that_count_with_their_dimensions(
    loaded: Loaded,
) -> None:
    fields = ("day", "record_type_name", "is_legacy", "sales_rep_id", "payment_method",
              "lead_source", "revenue", "job_id")  # fmt: skip
    expected = {p.id: tuple(getattr(p, f) for f in fields) for p in loaded.truth.payments}
    rows = loaded.rows("revenue_payments", "payment_id")
    assert {i: tuple(r[f] for f in fields) for i, r in rows.items()} == expected
    all_payments = loaded.truth.raw["payments"]
    assert len(expected) < len(all_payments)  # archived, deleted and test payments left out


def test_revenue_daily_and_by_month_sum_the_payments(loaded: Loaded) -> None:
    truth = loaded.truth
    grains = {
        "revenue_daily": ("day", "record_type_name", "is_legacy", "payment_method"),
        "revenue_by_month": ("month", "record_type_name", "is_legacy", "payment_method",
                             "lead_source"),
    }  # fmt: skip
    for view, grain in grains.items():
        expected: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
        for p in truth.payments:
            key = tuple(getattr(p, column) for column in grain)
            expected[key][0] += 1
            expected[key][1] += p.revenue
        rows = loaded.rows(view, *grain)
        actual = {k: [r["payment_count"], r["revenue"]] for k, r in rows.items()}
        assert actual == dict(expected), view
    months = {p.month for p in truth.payments}
    assert len(months) > 12


# ---------------------------------------------------------------- jobs


def test_jobs_current_is_each_live_job_as_it_stands(loaded: Loaded) -> None:
    truth = loaded.truth
    rows = loaded.rows("jobs_current", "job_id")
    assert set(rows) == set(truth.jobs)
    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in truth.payments:
        revenue[p.job_id] += p.revenue
    subcontracted = {job["id"] for e, job in truth.costs if job and e["expense_type"] ==
                     "subcontractor"}  # fmt: skip
    for job_id, job in truth.jobs.items():
        row = rows[job_id]
        invoice = job.row["approved_invoice_total"] or ZERO
        assert (
            row["stage"], row["stage_entered_at"], row["sales_rep_id"], row["lead_source"],
            row["is_won"], row["is_lost"], row["date_sold"], row["date_lost"],
            row["date_completed"], row["pipeline_value"], row["revenue"],
            row["outstanding_receivable"], row["has_subcontractor"], row["is_legacy"],
        ) == (
            job.stage or "(unmapped)", job.stage_entered_at, job.rep, job.source,
            job.won, job.lost, job.date_sold, job.date_lost,
            job.date_completed, job.pipeline_value, revenue[job_id],
            invoice - revenue[job_id], job_id in subcontracted, job.row["is_legacy"],
        ), job_id  # fmt: skip
        for key, stage in zip(STAGE_KEYS, FUNNEL[:5], strict=True):
            assert close(row[f"days_in_{key}"], job.days_in(stage), 1e-6), (job_id, stage)
        assert close(row["days_to_close"], job.days_to_close, 1e-4), job_id
    assert any(r["is_open"] for r in rows.values())
    assert any(r["stage"] == "(unmapped)" for r in rows.values())


def test_pipeline_by_stage_groups_the_live_jobs(loaded: Loaded) -> None:
    truth = loaded.truth
    expected: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, 0])
    for job in truth.jobs.values():
        key = (job.row["record_type_name"], job.row["is_legacy"], job.source,
               job.month_of(job.row["date_created"]), job.stage or "(unmapped)")  # fmt: skip
        entry = expected[key]
        entry[0] += 1
        entry[1] += job.estimate
        entry[2] += job.pipeline_value
        entry[3] += job.won
    rows = loaded.rows("pipeline_by_stage", "record_type_name", "is_legacy", "lead_source",
                       "created_month", "stage")  # fmt: skip
    actual = {
        k: [r["job_count"], r["estimate_value"], r["pipeline_value"], r["won_count"]]
        for k, r in rows.items()
    }
    assert actual == dict(expected)


def test_stage_velocity_from_creation_through_each_stage_entry(loaded: Loaded) -> None:
    velocity = loaded.truth.velocity()
    rows = loaded.rows("stage_velocity", "record_type_name", "is_legacy", "from_stage",
                       "to_stage")  # fmt: skip
    assert set(rows) == set(velocity)
    for key, values in velocity.items():
        row = rows[key]
        assert row["transitions"] == len(values), key
        assert close(row["total_days"], sum(values), 0.0006), key
        assert close(row["avg_days"], mean(values), 0.006), key
        assert close(row["median_days"], median(values), 0.006), key
    # the creation row makes Lead -> Estimating measurable from the job's first day
    assert any(k[2:] == ("Lead", "Estimating") and r["transitions"] > 5 for k, r in rows.items())


def test_stage_conversion_counts_jobs_reaching_each_funnel_stage(loaded: Loaded) -> None:
    furthest: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for job in loaded.truth.jobs.values():
        orders = [ORDER[s] for _, s in job.entries() if ORDER[s] <= 6]
        furthest[(job.row["record_type_name"], job.row["is_legacy"])].append(max(orders, default=0))
    rows = loaded.rows("stage_conversion", "record_type_name", "is_legacy", "stage")
    assert set(rows) == {(*k, s) for k in furthest for s in FUNNEL}
    for (rt, legacy, stage), row in rows.items():
        order = ORDER[stage]
        reached = sum(m >= order for m in furthest[(rt, legacy)])
        converted = sum(m >= order + 1 for m in furthest[(rt, legacy)]) if order < 6 else 0
        assert (row["reached"], row["converted_to_next"]) == (reached, converted), (rt, stage)
        rate = ratio(converted, reached) if order < 6 else None
        assert close(row["next_stage_rate"], rate, 6e-5), (rt, stage)


# ---------------------------------------------------------------- reps, sources, job types


def test_rep_monthly_is_every_rep_every_month_with_the_previous_month(loaded: Loaded) -> None:
    truth = loaded.truth
    measures: dict[tuple[date, str], Counter] = defaultdict(Counter)
    for p in truth.payments:
        measures[(p.month, p.sales_rep_id)]["revenue"] += p.revenue
        measures[(p.month, p.sales_rep_id)]["payment_count"] += 1
    for job in truth.jobs.values():
        measures[(job.month_of(job.row["date_created"]), job.rep)]["leads"] += 1
        if job.won:
            measures[(job.month_of(job.date_sold), job.rep)]["jobs_won"] += 1
            measures[(job.month_of(job.date_sold), job.rep)]["won_value"] += job.estimate
        if job.lost:
            measures[(job.month_of(job.date_lost), job.rep)]["jobs_lost"] += 1
    pipeline: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for job in truth.jobs.values():
        pipeline[job.rep] += job.pipeline_value
    rows = loaded.rows("rep_monthly", "month", "sales_rep_id")
    reps = {rep for _, rep in measures}
    months = sorted({m for m, _ in rows})
    assert set(rows) == {(m, r) for m in months for r in reps}
    assert months[0] == min(m for m, _ in measures)
    for (month, rep), row in rows.items():
        got = measures.get((month, rep), Counter())
        prev = measures.get((months[months.index(month) - 1], rep), Counter()) if months.index(
            month
        ) else Counter()  # fmt: skip
        assert (
            row["revenue"], row["payment_count"], row["leads"], row["jobs_won"], row["jobs_lost"],
            row["won_value"], row["pipeline_value"], row["revenue_prev_month"],
            row["jobs_won_prev_month"], row["sales_rep_name"],
        ) == (
            got["revenue"] or ZERO, got["payment_count"], got["leads"], got["jobs_won"],
            got["jobs_lost"], got["won_value"] or ZERO, pipeline[rep], prev["revenue"] or ZERO,
            prev["jobs_won"], truth.rep_name(rep),
        ), (month, rep)  # fmt: skip
        won, lost = got["jobs_won"], got["jobs_lost"]
        assert close(row["win_rate"], ratio(won, won + lost), 6e-5)
        assert close(row["avg_job_value"], ratio(got["won_value"], won), 0.006)


def test_rep_performance_per_rep_over_all_time(loaded: Loaded) -> None:
    truth = loaded.truth
    rows = loaded.rows("rep_performance", "sales_rep_id")
    reps = {j.rep for j in truth.jobs.values()} | {p.sales_rep_id for p in truth.payments}
    assert set(rows) == reps
    for rep, row in rows.items():
        jobs = [j for j in truth.jobs.values() if j.rep == rep]
        won = [j for j in jobs if j.won]
        assert (row["leads"], row["won"], row["lost"], row["revenue"], row["sales_rep_name"]) == (
            len(jobs), len(won), sum(j.lost for j in jobs), truth.revenue(sales_rep_id=rep),
            truth.rep_name(rep),
        ), rep  # fmt: skip
        avg = mean(j.estimate for j in won) if won else None
        assert close(row["avg_job_value"], avg, 0.006), rep


def test_lead_source_performance_per_source(loaded: Loaded) -> None:
    truth = loaded.truth
    sold_contacts = {j.row["primary_contact_id"] for j in truth.jobs.values() if j.won}
    rows = loaded.rows("lead_source_performance", "lead_source")
    for source, row in rows.items():
        leads = [c for c in truth.leads() if (c["lead_source"] or UNASSIGNED) == source]
        sold = [c for c in leads if c["id"] in sold_contacts]
        won = [j for j in truth.jobs.values() if j.won and j.source == source]
        assert (row["leads"], row["sold_leads"], row["won"], row["revenue"]) == (
            len(leads), len(sold), len(won), truth.revenue(lead_source=source),
        ), source  # fmt: skip
        assert close(row["lead_to_sold_rate"], ratio(len(sold), len(leads)), 6e-5), source
        assert close(row["avg_job_value"], mean(j.estimate for j in won) if won else None, 0.006)
        closing = [j.days_to_close for j in won if j.days_to_close is not None]
        assert close(row["avg_days_to_sale"], mean(closing) if closing else None, 0.006), source


def test_job_type_monthly_per_type_and_month(loaded: Loaded) -> None:
    truth = loaded.truth
    measures: dict[tuple, Counter] = defaultdict(Counter)
    for p in truth.payments:
        measures[(p.month, p.record_type_name, p.is_legacy)]["revenue"] += p.revenue
    for job in truth.jobs.values():
        rt = (job.row["record_type_name"], job.row["is_legacy"])
        measures[(job.month_of(job.row["date_created"]), *rt)]["leads"] += 1
        if job.won:
            measures[(job.month_of(job.date_sold), *rt)]["jobs_won"] += 1
            measures[(job.month_of(job.date_sold), *rt)]["won_value"] += job.estimate
        if job.lost:
            measures[(job.month_of(job.date_lost), *rt)]["jobs_lost"] += 1
    for e, job in truth.costs:
        rt = (job["record_type_name"], job["is_legacy"]) if job else (UNASSIGNED, False)
        measures[(truth.cost_month(e), *rt)]["costs"] += e["amount"] or ZERO
    rows = loaded.rows("job_type_monthly", "month", "record_type_name", "is_legacy")
    assert set(rows) == set(measures)
    for key, row in rows.items():
        got = measures[key]
        assert (row["revenue"], row["leads"], row["jobs_won"], row["jobs_lost"],
                row["won_value"], row["costs"]) == (
            got["revenue"] or ZERO, got["leads"], got["jobs_won"], got["jobs_lost"],
            got["won_value"] or ZERO, got["costs"] or ZERO,
        ), key  # fmt: skip
        margin = ratio(got["revenue"] - got["costs"], got["revenue"])
        assert close(row["gross_margin"], margin, 6e-5), key


def test_job_profitability_and_cash_flow(loaded: Loaded) -> None:
    truth = loaded.truth
    rows = loaded.rows("job_profitability", "job_id")
    current = loaded.rows("jobs_current", "job_id")
    for job_id, row in rows.items():
        rev, exp = current[job_id]["revenue"], current[job_id]["expenses"]
        assert (row["revenue"], row["expenses"], row["gross_profit"]) == (rev, exp, rev - exp)
        assert close(row["gross_margin"], ratio(rev - exp, rev), 6e-5)
    cash_in: dict[date, Decimal] = defaultdict(lambda: ZERO)
    cash_out: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for p in truth.payments:
        cash_in[p.month] += p.revenue
    for e, _ in truth.costs:
        cash_out[truth.cost_month(e)] += e["amount"] or ZERO
    flow = loaded.rows("cash_flow_by_month", "month")
    assert {m: (r["cash_in"], r["cash_out"], r["net"]) for m, r in flow.items()} == {
        m: (cash_in[m], cash_out[m], cash_in[m] - cash_out[m]) for m in set(cash_in) | set(cash_out)
    }


# ---------------------------------------------------------------- materialization metadata


def test_each_materialization_reports_row_count_and_preview(loaded: Loaded) -> None:
    events = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in loaded.result.get_asset_materialization_events()
    }
    assert set(events) == {v.name for v in VIEWS}
    for view in VIEWS:
        meta = events[view.name]
        rows = loaded.select(f"SELECT * FROM analytics.{view.name}")
        assert meta["dagster/row_count"].value == len(rows) > 0, view.name
        assert meta["refresh_seconds"].value >= 0
        preview = meta["preview"]
        assert isinstance(preview, dg.MarkdownMetadataValue)
        lines = preview.md_str.splitlines()
        assert len(lines) == 2 + min(10, len(rows)), view.name
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        assert header == list(rows[0]), view.name
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
    """The refresh is held mid-way (its input table `jobs` is locked by a third session, so it
    waits while holding its lock on the view); a reader meanwhile queries the view over and
    over, and gets every row each time. A plain REFRESH in the same position blocks readers."""
    view = "analytics.jobs_current"
    monitor, reader, locker = (_autocommit(loaded.url) for _ in range(3))
    try:
        with monitor.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {view}")
            expected = cur.fetchone()[0]
        assert expected > 0
        locker.autocommit = False
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        thread, pid, errors = _refresh_in_thread(
            loaded.url, f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"
        )
        _wait_for(lambda: _waiting_on_lock(monitor, pid), "the refresh to wait on jobs")
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
            cur.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
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


def test_months_follow_the_account_time_zone(warehouse_url: str, db: Any) -> None:
    _insert_payment_and_expense(warehouse_url)

    def refresh(timezone: str, *views: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            ANALYTICS_ASSETS, selection=list(views),
            resources={"warehouse": WarehouseResource(url=warehouse_url),
                       "account": AccountResource(start_date="2024-01-01", timezone=timezone)},
        )  # fmt: skip

    def months() -> tuple[list, list]:
        with db.cursor() as cur:
            cur.execute(
                "SELECT month, record_type_name, sum(revenue) FROM analytics.revenue_by_month "
                "GROUP BY 1, 2"
            )
            revenue = cur.fetchall()
            cur.execute("SELECT month, cash_in, cash_out FROM analytics.cash_flow_by_month")
            return revenue, cur.fetchall()

    result = refresh("America/Chicago", "revenue_by_month", "cash_flow_by_month")
    feb = date(2026, 2, 1)
    assert months() == (
        [(feb, "Roof Replacement", Decimal("100.00"))],
        [(feb, Decimal("100.00"), Decimal("40.00"))],
    )
    changed = {
        e.asset_key.path[-1]: e.materialization.metadata["timezone_changed"].value
        for e in result.get_asset_materialization_events()
    }
    assert changed == {"revenue_by_month": True, "cash_flow_by_month": True}  # one step

    # back to UTC, materializing one view: every view is refreshed with it, in file order
    refresh("UTC", "revenue_by_month")
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
    """Payments without a known job (unassigned, yet in the total), a test-job payment, an
    archived payment, a refund; NULL stages inside a run of one stage; a job with no rep and no
    source of its own (its contact's source is used); a draft material order."""
    with db.cursor() as cur:
        cur.execute(
            """
            INSERT INTO contacts (id, lead_source) VALUES ('c1', 'Referral');
            INSERT INTO jobs (id, record_type_name, stage, is_test, primary_contact_id,
                              status_name, date_created, date_sold, is_active)
            VALUES ('j1', 'Repairs', 'Sold', false, 'c1', 'Signed Contract',
                    '2026-01-01 00:00+00', '2026-01-11 12:00+00', true),
                   ('jt', 'Repairs', 'Lead', true, NULL, 'Lead', NULL, NULL, true);
            INSERT INTO payments (id, job_id, amount, credit, refunded_amount, date_payment,
                                  is_active, is_archived, payment_method)
            VALUES ('p1', 'j1', 10, 0, 0, '2026-01-15 12:00+00', true, false, 'Check'),
                   ('p2', 'nowhere', 7, 0, 0, '2026-01-20 12:00+00', true, false, NULL),
                   ('p3', NULL, 5, 0, 0, '2026-01-21 12:00+00', NULL, NULL, 'Check'),
                   ('p4', 'jt', 1000, 0, 0, '2026-01-22 12:00+00', true, false, 'Check'),
                   ('p5', 'j1', 2000, 0, 0, '2026-01-23 12:00+00', true, true, 'Check'),
                   ('p6', 'j1', 50, 5, 45, '2026-01-24 12:00+00', true, false, 'Check');
            INSERT INTO expenses (id, job_id, amount, date_expense, source_entity, status_name,
                                  is_active, is_archived)
            VALUES ('m1', 'j1', 3, '2026-01-05 00:00+00', 'materialorder', 'Submitted', true,
                    false),
                   ('m2', 'j1', 300, '2026-01-05 00:00+00', 'materialorder', 'Draft', true, false);
            INSERT INTO job_status_history (job_id, status_name, stage, changed_at, source)
            VALUES ('j1', 'New Lead', 'Lead', '2026-01-01 00:00+00', 'created'),
                   ('j1', 'Mystery', NULL, '2026-01-02 00:00+00', 'activity'),
                   ('j1', 'Contacting', 'Lead', '2026-01-03 00:00+00', 'activity'),
                   ('j1', 'Signed Contract', 'Sold', '2026-01-11 12:00+00', 'activity');
            """
        )
        for view in VIEWS:
            cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view.name}")
        cur.execute(
            "SELECT record_type_name, sales_rep_id, payment_method, lead_source, sum(revenue) "
            "FROM analytics.revenue_payments GROUP BY 1, 2, 3, 4 ORDER BY 1, 3"
        )
        assert cur.fetchall() == [
            ("(unassigned)", "(unassigned)", "(unassigned)", "(unassigned)", Decimal("7.00")),
            ("(unassigned)", "(unassigned)", "Check", "(unassigned)", Decimal("5.00")),
            ("Repairs", "(unassigned)", "Check", "Referral", Decimal("10.00")),
        ]
        cur.execute("SELECT sum(revenue) FROM analytics.rep_performance")
        assert cur.fetchone() == (Decimal("22.00"),)
        cur.execute(
            "SELECT from_stage, to_stage, transitions, avg_days FROM analytics.stage_velocity"
        )
        assert cur.fetchall() == [("Lead", "Sold", 1, Decimal("10.50"))]
        cur.execute(
            "SELECT sales_rep_id, sales_rep_name, leads, won, revenue, win_rate "
            "FROM analytics.rep_performance"
        )
        assert cur.fetchall() == [
            ("(unassigned)", "(unassigned)", 1, 1, Decimal("22.00"), Decimal("1.0000"))
        ]
        cur.execute(
            "SELECT lead_source, won, revenue, avg_days_to_sale "
            "FROM analytics.lead_source_performance ORDER BY 1"
        )
        assert cur.fetchall() == [
            ("(unassigned)", 0, Decimal("12.00"), None),
            ("Referral", 1, Decimal("10.00"), Decimal("10.50")),
        ]
        cur.execute(
            "SELECT stage, reached, converted_to_next, next_stage_rate "
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
        assert cur.fetchall() == [(date(2026, 1, 1), Decimal("22.00"), Decimal("3.00"))]
        cur.execute(
            "SELECT stage_entered_at::text, revenue, expenses, days_in_lead, left_lead "
            "FROM analytics.jobs_current"
        )
        assert cur.fetchall() == [
            ("2026-01-11 12:00:00+00", Decimal("10.00"), Decimal("3.00"), Decimal("10.5"), 1)
        ]


# ---------------------------------------------------------------- the owners' questions


def _months_back(month: date, n: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 - n, 12)
    return date(year, index + 1, 1)


@dataclass
class Asked:
    """The documented queries (sql/dashboard/), run with parameters a dashboard would send."""

    loaded: Loaded

    @property
    def truth(self) -> Truth:
        return self.loaded.truth

    def params(self, **override: Any) -> dict[str, Any]:
        now = self.truth.now
        today = self.truth.local_date(now)
        month = today.replace(day=1)
        base = {
            "today": today, "now": now, "month": month,
            "month_from": _months_back(month, 5), "month_to": month,
            "date_from": today - timedelta(days=89), "date_to": today,
            "record_type": None, "sales_rep_id": None, "lead_source": None, "limit": 100_000,
        }  # fmt: skip
        return {**base, **override}

    def __call__(self, name: str, **override: Any) -> list[dict[str, Any]]:
        (q,) = [q for q in dashboard_queries() if q.name == name]
        params = self.params(**override)
        return self.loaded.select(q.sql, {k: params[k] for k in q.parameters})


@pytest.fixture(scope="module")
def ask(loaded: Loaded) -> Asked:
    return Asked(loaded)


def test_every_dashboard_query_is_documented_in_the_readme_and_reads_one_view() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    queries = dashboard_queries()
    assert len(queries) >= 18
    for q in queries:
        assert f"```sql\n{q.sql}\n```" in readme, q.name
        assert q.view in {v.name for v in VIEWS}, q.name


def test_revenue_this_month_last_month_year_to_date_and_change(ask: Asked) -> None:
    truth = ask.truth
    month = ask.params()["month"]
    last = _months_back(month, 1)

    def month_total(m: date) -> tuple[Decimal, int]:
        paid = [p for p in truth.payments if p.month == m]
        return sum((p.revenue for p in paid), ZERO), len(paid)

    assert month_total(month)[0] > 0 and month_total(last)[0] > 0
    this_month, last_month = month_total(month), month_total(last)
    assert [tuple(r.values()) for r in ask("revenue_this_month")] == [this_month]
    assert [tuple(r.values()) for r in ask("revenue_last_month")] == [last_month]
    ytd = [p for p in truth.payments if p.month.year == month.year and p.month <= month]
    assert [tuple(r.values()) for r in ask("revenue_year_to_date")] == [
        (sum((p.revenue for p in ytd), ZERO), len(ytd))
    ]
    (mom,) = ask("revenue_month_over_month")
    change = (100 * (this_month[0] - last_month[0]) / last_month[0]).quantize(Decimal("0.1"))
    assert (mom["this_month"], mom["last_month"], mom["change_pct"]) == (
        this_month[0],
        last_month[0],
        change,
    )


@pytest.mark.parametrize(
    ("name", "dimension"),
    [("revenue_by_job_type", ("record_type_name", "is_legacy")),
     ("revenue_by_rep", ("sales_rep_id",)), ("revenue_by_payment_method", ("payment_method",)),
     ("revenue_by_lead_source", ("lead_source",))],
)  # fmt: skip
def test_revenue_breakdowns_for_a_range_of_months(
    ask: Asked, name: str, dimension: tuple[str, ...]
) -> None:
    params = ask.params()
    expected: dict[tuple, list] = defaultdict(lambda: [ZERO, 0])
    for p in ask.truth.select():
        if params["month_from"] <= p.month <= params["month_to"]:
            entry = expected[tuple(getattr(p, d) for d in dimension)]
            entry[0] += p.revenue
            entry[1] += 1
    rows = ask(name)
    assert {tuple(r[d] for d in dimension): [r["revenue"], r["payments"]] for r in rows} == dict(
        expected
    )
    assert [r["revenue"] for r in rows] == sorted((r["revenue"] for r in rows), reverse=True)
    if name == "revenue_by_rep":
        assert all(r["sales_rep_name"] == ask.truth.rep_name(r["sales_rep_id"]) for r in rows)


def test_revenue_daily_trend_lists_every_day_of_the_range(ask: Asked) -> None:
    params = ask.params()
    for record_type in (None, "Roof Replacement"):
        rows = ask("revenue_daily_trend", record_type=record_type)
        days_ = [params["date_from"] + timedelta(days=i) for i in range(90)]
        extra = {"record_type_name": record_type} if record_type else {}
        assert [(r["day"], r["revenue"]) for r in rows] == [
            (d, ask.truth.revenue(day_from=d, day_to=d, **extra)) for d in days_
        ]
        assert sum(r["revenue"] > 0 for r in rows) > (10 if record_type is None else 0)


def _filtered_jobs(ask: Asked, **params: Any) -> list[Any]:
    p = ask.params(**params)
    out = []
    for job in ask.truth.jobs.values():
        created = job.month_of(job.row["date_created"])
        if p["record_type"] and job.row["record_type_name"] != p["record_type"]:
            continue
        if p["lead_source"] and job.source != p["lead_source"]:
            continue
        if p["month_from"] and not (created and p["month_from"] <= created <= p["month_to"]):
            continue
        out.append(job)
    return out


PIPELINE_FILTERS = [
    {"month_from": None, "month_to": None},
    {"record_type": "Insurance", "month_from": None, "month_to": None},
    {"lead_source": "Google"},
]


@pytest.mark.parametrize("filters", PIPELINE_FILTERS)
def test_pipeline_value_funnel_and_lead_to_sold(ask: Asked, filters: dict[str, Any]) -> None:
    jobs = _filtered_jobs(ask, **filters)
    assert jobs
    (value,) = ask("pipeline_value", **filters)
    in_pipeline = [j for j in jobs if j.stage in PIPELINE_STAGES]
    assert (value["pipeline_value"], value["jobs"]) == (
        sum((j.pipeline_value for j in jobs), ZERO),
        len(in_pipeline),
    )
    funnel = Counter(j.stage or "(unmapped)" for j in jobs)
    rows = ask("pipeline_funnel", **filters)
    assert {r["stage"]: r["jobs"] for r in rows} == dict(funnel)
    assert [r["stage_order"] for r in rows] == sorted(
        (r["stage_order"] for r in rows), key=lambda o: (o is None, o)
    )
    (conversion,) = ask("pipeline_lead_to_sold", **filters)
    sold = sum(j.won for j in jobs)
    assert (conversion["leads"], conversion["sold"]) == (len(jobs), sold)
    assert close(conversion["lead_to_sold_rate"], ratio(sold, len(jobs)), 6e-5)


def test_average_days_per_stage(ask: Asked) -> None:
    for filters in PIPELINE_FILTERS:
        jobs = _filtered_jobs(ask, **filters)
        (row,) = ask("pipeline_days_per_stage", **filters)
        for column, stage in zip(
            ("lead", "estimating", "sold", "in_production", "accounts_receivable"),
            FUNNEL[:5],
            strict=True,
        ):
            spent = sum(j.days_in(stage) or 0 for j in jobs)
            visits = sum(j.left(stage) for j in jobs)
            assert close(row[column], ratio(spent, visits), 0.006), (filters, stage)


def test_stalled_jobs_with_their_stage_entry_time(ask: Asked) -> None:
    now = ask.truth.now
    every = {"date_from": None, "date_to": None}
    rep = Counter(j.rep for j in ask.truth.jobs.values()).most_common(1)[0][0]
    for filters in (every, {**every, "record_type": "Insurance"}, {**every, "sales_rep_id": rep}):
        p = ask.params(**filters)
        stalled = sorted(
            (j.stage_entered_at, j.id)
            for j in ask.truth.jobs.values()
            if j.is_open and j.stage_entered_at < now - timedelta(days=30)
            and (not p["record_type"] or j.row["record_type_name"] == p["record_type"])
            and (not p["sales_rep_id"] or j.rep == p["sales_rep_id"])
        )  # fmt: skip
        rows = ask("pipeline_stalled_jobs", **filters)
        assert [(r["stage_entered_at"], r["job_id"]) for r in rows] == stalled, filters
    assert len(ask("pipeline_stalled_jobs", **every)) > 5


def test_the_pipeline_of_one_rep(ask: Asked) -> None:
    rep = Counter(j.rep for j in ask.truth.jobs.values()).most_common(1)[0][0]
    jobs = [j for j in ask.truth.jobs.values() if j.rep == rep]
    rows = ask("pipeline_of_a_rep", sales_rep_id=rep, date_from=None, date_to=None)
    by_stage: dict[str, list] = defaultdict(lambda: [0, ZERO, 0])
    for j in jobs:
        by_stage[j.stage or "(unmapped)"][0] += 1
        by_stage[j.stage or "(unmapped)"][1] += j.pipeline_value
        by_stage[j.stage or "(unmapped)"][2] += j.won
    assert {r["stage"]: [r["jobs"], r["pipeline_value"], r["sold"]] for r in rows} == dict(by_stage)
    assert {r["leads"] for r in rows} == {len(jobs)}
    assert close(rows[0]["lead_to_sold_rate"], ratio(sum(j.won for j in jobs), len(jobs)), 6e-5)


def test_rep_leaderboard_for_a_month_with_the_change_against_the_previous(ask: Asked) -> None:
    truth = ask.truth
    month = _months_back(ask.params()["month"], 1)
    prev = _months_back(month, 1)
    rows = ask("rep_leaderboard", month=month)
    assert [r["revenue"] for r in rows] == sorted((r["revenue"] for r in rows), reverse=True)
    for row in rows:
        rep = row["sales_rep_id"]
        jobs = [j for j in truth.jobs.values() if j.rep == rep]
        won = [j for j in jobs if j.won and j.month_of(j.date_sold) == month]
        lost = [j for j in jobs if j.lost and j.month_of(j.date_lost) == month]
        won_before = [j for j in jobs if j.won and j.month_of(j.date_sold) == prev]
        revenue = sum((p.revenue for p in truth.select(sales_rep_id=rep) if p.month == month), ZERO)
        revenue_before = sum(
            (p.revenue for p in truth.select(sales_rep_id=rep) if p.month == prev), ZERO
        )
        assert (row["revenue"], row["revenue_change"], row["jobs_won"], row["jobs_won_change"],
                row["pipeline_value"]) == (
            revenue, revenue - revenue_before, len(won), len(won) - len(won_before),
            sum((j.pipeline_value for j in jobs), ZERO),
        ), rep  # fmt: skip
        assert close(row["win_rate"], ratio(len(won), len(won) + len(lost)), 6e-5)
        value = mean(j.estimate for j in won) if won else None
        assert close(row["avg_job_value"], value, 0.006)
        pct = ratio(100 * (revenue - revenue_before), revenue_before)
        assert close(row["revenue_change_pct"], pct, 0.06)
    assert sum(r["revenue"] for r in rows) == truth.revenue(day_from=month, day_to=_months_back(
        month, -1) - timedelta(days=1))  # fmt: skip


def test_job_type_analysis_for_a_range_of_months(ask: Asked) -> None:
    truth = ask.truth
    p = ask.params(month_from=_months_back(ask.params()["month"], 11))
    rows = {(r["record_type_name"], r["is_legacy"]): r for r in ask("job_type_analysis", **p)}

    def within(moment: Any, job: Any) -> bool:
        return moment is not None and p["month_from"] <= job.month_of(moment) <= p["month_to"]

    for (rt, legacy), row in rows.items():
        jobs = [j for j in truth.jobs.values()
                if (j.row["record_type_name"], j.row["is_legacy"]) == (rt, legacy)]  # fmt: skip
        won = [j for j in jobs if j.won and within(j.date_sold, j)]
        lost = [j for j in jobs if j.lost and within(j.date_lost, j)]
        revenue = sum(
            (x.revenue for x in truth.select(record_type_name=rt, is_legacy=legacy)
             if p["month_from"] <= x.month <= p["month_to"]), ZERO
        )  # fmt: skip
        costs = sum(
            (e["amount"] or ZERO for e, job in truth.costs
             if ((job["record_type_name"], job["is_legacy"]) if job else (UNASSIGNED, False))
             == (rt, legacy) and p["month_from"] <= truth.cost_month(e) <= p["month_to"]),
            ZERO,
        )  # fmt: skip
        created = [j for j in jobs if within(j.row["date_created"], j)]
        assert (row["revenue"], row["jobs"], row["jobs_won"]) == (revenue, len(created), len(won))
        assert close(row["win_rate"], ratio(len(won), len(won) + len(lost)), 6e-5), rt
        assert close(row["avg_job_value"], mean(j.estimate for j in won) if won else None, 0.006)
        closing = [j.days_to_close for j in won]
        assert close(row["avg_days_to_close"], mean(closing) if closing else None, 0.006), rt
        margin = ratio(100 * (revenue - costs), revenue)
        assert close(row["gross_margin_pct"], margin, 0.06), rt
    assert {"Roof Replacement", "Insurance", "Legacy (Bob's Workflow)"} <= {rt for rt, _ in rows}


def test_lead_source_question(ask: Asked) -> None:
    table = {r["lead_source"]: r for r in ask.loaded.select(
        "SELECT * FROM analytics.lead_source_performance")}  # fmt: skip
    rows = ask("lead_source_performance")
    assert [r["lead_source"] for r in rows] == sorted(table, key=lambda s: (-table[s]["leads"], s))
    for row in rows:
        assert all(row[k] == table[row["lead_source"]][k] for k in row)


def test_operations_production_receivables_and_subcontractors(ask: Asked) -> None:
    truth = ask.truth
    current = ask.loaded.rows("jobs_current", "job_id")
    production = sorted(
        (j.stage_entered_at, j.id) for j in truth.jobs.values() if j.stage == "In Production"
    )
    assert [(r["stage_entered_at"], r["job_id"]) for r in ask("jobs_in_production")] == production
    owed = sorted(
        ((-r["outstanding_receivable"], i) for i, r in current.items()
         if r["outstanding_receivable"] > 0)
    )  # fmt: skip
    rows = ask("outstanding_receivables")
    assert [(-r["outstanding_receivable"], r["job_id"]) for r in rows] == owed
    for r in rows:
        job = truth.jobs[r["job_id"]]
        assert r["outstanding_receivable"] == (job.row["approved_invoice_total"] or ZERO) - r[
            "received"
        ]  # fmt: skip
    subcontracted = {job["id"] for e, job in truth.costs
                     if job and e["expense_type"] == "subcontractor"}  # fmt: skip
    rows = ask("jobs_with_subcontractors")
    assert {r["job_id"] for r in rows} == {
        i for i in subcontracted if i in truth.jobs and truth.jobs[i].is_open
    }
    assert rows and production and owed


def test_views_refreshed_at_the_same_time_never_read_each_other() -> None:
    from gcc_pipeline.assets.analytics import VIEWS, waves

    done: set[str] = set()
    names = {v.name for v in VIEWS}
    for wave in waves(VIEWS):
        assert all(d in done for v in wave for d in v.deps if d in names)
        done |= {v.name for v in wave}
    assert done == names and len(waves(VIEWS)) < len(VIEWS)
