"""Dashboard latency: the documented query of each owners' question (sql/dashboard/, the README's
"Metrics"), p50/p95 over repetitions.

Each repetition moves the month, the date range and the rep over the views' own values, so the
figures are not those of one cached plan for one literal. Filters are left open (NULL = all):
the whole company is what the aggregates answer slowest; the rep filter is a rep of the company.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIST_LIMIT = 50  # a dashboard page of jobs
# Queries whose date range is an optional filter: timed without it (every job is a candidate).
OPEN_DATES = {"date_from": None, "date_to": None}
OVERRIDES = {
    "pipeline_stalled_jobs": {**OPEN_DATES, "sales_rep_id": None},
    "pipeline_of_a_rep": OPEN_DATES,
    # the rep is an optional filter of these: timed over every rep
    "overdue_invoices": {"sales_rep_id": None},
    "estimate_funnel": {"sales_rep_id": None},
}


def queries() -> tuple[Any, ...]:
    """One per owners' question, as documented (imported late: the bench sets the environment
    gcc_pipeline reads before anything imports it)."""
    from gcc_pipeline.warehouse.queries import dashboard_queries

    return dashboard_queries()


def _months_back(month: date, n: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 - n, 12)
    return date(year, index + 1, 1)


def _params(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT max(day) FROM analytics.revenue_daily")
    latest = cur.fetchone()[0] or date.today()
    cur.execute("SELECT sales_rep_id FROM analytics.rep_performance ORDER BY revenue DESC")
    reps = [r[0] for r in cur.fetchall()] or ["(unassigned)"]
    now = datetime.now().astimezone()
    out = []
    for i in range(max(len(reps), 12)):
        today = latest - timedelta(days=30 * (i % 6))
        month = today.replace(day=1)
        out.append(
            {
                "today": today, "now": now, "month": month,
                "month_from": _months_back(month, 5), "month_to": month,
                "date_from": today - timedelta(days=89), "date_to": today,
                "record_type": None, "lead_source": None, "sales_rep_id": reps[i % len(reps)],
                "limit": LIST_LIMIT,
            }
        )  # fmt: skip
    return out


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(url: str, repetitions: int = 50) -> list[dict[str, Any]]:
    """p50/p95/max in milliseconds for every documented query (one warm-up run each)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    results = []
    with conn.cursor() as cur:
        params = _params(cur)
        for q in queries():

            def run(p: dict[str, Any], q: Any = q) -> int:
                p = {**p, **OVERRIDES.get(q.name, {})}
                cur.execute(q.sql, {k: p[k] for k in q.parameters})
                return len(cur.fetchall())

            run(params[0])
            samples = []
            rows = 0
            for i in range(repetitions):
                t = time.perf_counter()
                rows = run(params[i % len(params)])
                samples.append((time.perf_counter() - t) * 1000)
            results.append(
                {
                    "view": q.view,
                    "query": q.name,
                    "p50_ms": _pct(samples, 50),
                    "p95_ms": _pct(samples, 95),
                    "max_ms": max(samples),
                    "rows": rows,
                }
            )
    conn.close()
    return results


if __name__ == "__main__":  # python bench/dashboard.py URL [repetitions]: an existing warehouse
    for r in measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50):
        figures = f"p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  max {r['max_ms']:6.2f} ms"
        print(f"{r['query']:<28} {r['view']:<24} {figures}  {r['rows']} rows")
