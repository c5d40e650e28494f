"""Dashboard latency: typical queries on each analytics view, p50/p95 over repetitions.

Each repetition picks the next record type, sales rep and month range from the view's own
values, so the figures are not those of one cached plan for one literal.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg2

# (view, label, SQL with named parameters)
QUERIES: tuple[tuple[str, str, str], ...] = (
    ("revenue_by_month", "record type, 6-month range",
     "SELECT month, revenue, payment_count FROM analytics.revenue_by_month "
     "WHERE record_type_name = %(rt)s AND month BETWEEN %(m0)s AND %(m1)s ORDER BY month"),
    ("revenue_by_month", "all types, 12 months",
     "SELECT month, sum(revenue), sum(payment_count) FROM analytics.revenue_by_month "
     "WHERE month BETWEEN %(y0)s AND %(m1)s GROUP BY month ORDER BY month"),
    ("pipeline_by_stage", "record type",
     "SELECT stage, job_count, estimate_value FROM analytics.pipeline_by_stage "
     "WHERE record_type_name = %(rt)s ORDER BY stage_order NULLS LAST, stage"),
    ("stage_velocity", "record type",
     "SELECT from_stage, to_stage, transitions, avg_days, median_days "
     "FROM analytics.stage_velocity WHERE record_type_name = %(rt)s "
     "ORDER BY from_stage_order, to_stage_order"),
    ("stage_conversion", "record type",
     "SELECT stage, reached, converted_to_next, conversion_rate FROM analytics.stage_conversion "
     "WHERE record_type_name = %(rt)s ORDER BY stage_order"),
    ("rep_performance", "one rep",
     "SELECT * FROM analytics.rep_performance WHERE sales_rep_id = %(rep)s"),
    ("rep_performance", "leaderboard top 10",
     "SELECT sales_rep_name, leads, won, conversion_rate, revenue FROM analytics.rep_performance "
     "ORDER BY revenue DESC LIMIT 10"),
    ("lead_source_performance", "top 20 sources",
     "SELECT * FROM analytics.lead_source_performance ORDER BY leads DESC LIMIT 20"),
    ("job_profitability", "record type, top 50",
     "SELECT job_id, revenue, expenses, gross_profit, gross_margin "
     "FROM analytics.job_profitability WHERE record_type_name = %(rt)s "
     "ORDER BY gross_profit DESC LIMIT 50"),
    ("job_profitability", "summary by record type",
     "SELECT record_type_name, count(*), sum(revenue), sum(expenses), avg(gross_margin) "
     "FROM analytics.job_profitability GROUP BY record_type_name"),
    ("cash_flow_by_month", "12-month range",
     "SELECT month, cash_in, cash_out, net FROM analytics.cash_flow_by_month "
     "WHERE month BETWEEN %(y0)s AND %(m1)s ORDER BY month"),
)  # fmt: skip


def _params(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT DISTINCT record_type_name FROM analytics.pipeline_by_stage ORDER BY 1")
    types = [r[0] for r in cur.fetchall()] or ["(none)"]
    cur.execute("SELECT sales_rep_id FROM analytics.rep_performance ORDER BY 1")
    reps = [r[0] for r in cur.fetchall()] or ["(none)"]
    cur.execute("SELECT DISTINCT month FROM analytics.revenue_by_month ORDER BY 1")
    months = [r[0] for r in cur.fetchall()]
    out = []
    for i in range(max(len(types), len(reps), len(months), 1)):
        if months:
            m1 = months[-1 - i % min(len(months), 6)]
            k = months.index(m1)
            m0 = months[max(0, k - 5)]
            y0 = months[max(0, k - 11)]
        else:
            m0 = m1 = y0 = None
        out.append(
            {"rt": types[i % len(types)], "rep": reps[i % len(reps)], "m0": m0, "m1": m1, "y0": y0}
        )
    return out


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(url: str, repetitions: int = 50) -> list[dict[str, Any]]:
    """p50/p95/max in milliseconds for every query of QUERIES (one warm-up run each)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    results = []
    with conn.cursor() as cur:
        params = _params(cur)
        for view, label, sql in QUERIES:
            cur.execute(sql, params[0])
            cur.fetchall()
            samples = []
            rows = 0
            for i in range(repetitions):
                p = params[i % len(params)]
                t = time.perf_counter()
                cur.execute(sql, p)
                rows = len(cur.fetchall())
                samples.append((time.perf_counter() - t) * 1000)
            results.append(
                {
                    "view": view,
                    "query": label,
                    "p50_ms": _pct(samples, 50),
                    "p95_ms": _pct(samples, 95),
                    "max_ms": max(samples),
                    "rows": rows,
                }
            )
    conn.close()
    return results
