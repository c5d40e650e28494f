"""Render the bench's results (the JSON bench/run.py saves) as a Markdown table with targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gcc_pipeline.markdown import md_table

# issue 11's targets, and the earlier ones the table keeps
VS_DLT_LOOPBACK = 1.5  # gcc run at least this many times as fast as dlt
VS_DLT_API = 2.5
FIVE_YEARS_EARLIER = 1.2  # at most this many times the time of the 3-year load
SECOND_RUN_TIME = 0.10  # of the first run's time
SECOND_RUN_RECORDS = 0.02  # of the first run's records fetched
SCHEDULED_S = 10
PG_DELAYED = 2.0  # at most this many times the local time
RATE = 15_000  # records/s, first load end to end
FLOOR_SHARE = 0.5  # the pipeline's rate at least half the floor's
RSS_MB = 500
VIEWS_S = 30
P95_MS = 20

STEP_GROUPS = (  # step key prefix -> label
    ("jobnimbus", "fetch, raw, normalize (+ their checks)"),
    ("reference", "lookup and sales reps"),
    ("job_status_history", "job status history"),
    ("history", "job status history"),
    ("analytics", "analytics views"),
    ("stage_mapping", "stage-mapping check"),
)


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def _s(x: float) -> str:
    return f"{x:.1f} s"


def _steps(run: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, seconds in run.get("steps", {}).items():
        label = next((lab for prefix, lab in STEP_GROUPS if key.startswith(prefix)), key)
        out[label] = out.get(label, 0.0) + seconds
    return out


def render(results: dict[str, Any]) -> str:
    rows: list[list[str]] = []

    def row(what: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append([what, value, target, _verdict(ok)])

    lb, api, pg = results.get("loopback"), results.get("api"), results.get("pg")
    if lb:
        _loopback(lb, row)
    if api:
        g, d = api["gcc"], api["peer"]
        ratio = d["seconds"] / g["seconds"]
        row(f"API {api['latency_ms']:g} ms per page: `gcc run`, dlt",
            f"{_s(g['seconds'])}, {_s(d['seconds'])} ({ratio:.2f}x)",
            f">= {VS_DLT_API}x dlt", ratio >= VS_DLT_API)  # fmt: skip
        row("  requests, most in flight (gcc; dlt)",
            f"{g['requests']:,}, {g['max_in_flight']}; {d['total_requests']:,}, "
            f"{d['max_in_flight']}")  # fmt: skip
    if pg:
        g = pg["gcc"]
        local = lb["first"]["seconds"] if lb else None
        ratio = g["seconds"] / local if local else None
        tls = ", TLS" if pg.get("tls") else ""
        row(f"PostgreSQL {pg['delay_ms']:g} ms each way{tls}: `gcc run`",
            _s(g["seconds"]) + (f" ({ratio:.2f}x local)" if ratio else ""),
            f"<= {PG_DELAYED}x local", None if ratio is None else ratio <= PG_DELAYED)  # fmt: skip
        proxy = pg["proxy"]
        handshakes = f" ({proxy['tls_handshakes']:,} TLS handshakes)" if pg.get("tls") else ""
        row("  connections through the proxy", f"{proxy['connections']:,}{handshakes}")
        if "cpu_seconds" in proxy:
            row("  the proxies' own CPU (bench process)", _s(proxy["cpu_seconds"]))
    title = (
        f"{results['jobs']:,} jobs, {results['history_days']} days of history "
        f"(anchor {results['anchor']}); {results['postgres']}; {results['cpus']} CPUs; load "
        + " / ".join(f"{x:.1f}" for x in results.get("load", []))
        + (" (PROFILED: times include py-spy)" if results.get("profiled") else "")
    )
    return title + "\n\n" + md_table(["measure", "figure", "target", ""], rows)


def _loopback(lb: dict[str, Any], row: Callable[..., None]) -> None:
    first, dlt, fl = lb["first"], lb["peer"], lb["floor"]
    records = lb["records"]
    rate = first["fetched"] / first["seconds"]
    vs = dlt["seconds"] / first["seconds"]
    row("API records (sandbox)", f"{records:,}")
    floor_rate = fl["records"] / fl["seconds"]
    row("floor: fetch + COPY, one thread", f"{_s(fl['seconds'])} ({floor_rate:,.0f}/s)")
    row("dlt rest_api (peer), loopback", f"{_s(dlt['seconds'])} ({dlt['total_records']:,} rows, "
        f"{dlt['peak_rss_mb']:,.0f} MB)")  # fmt: skip
    row("`gcc run` first load, loopback (end to end)", f"{_s(first['seconds'])} ({vs:.2f}x dlt)",
        f">= {VS_DLT_LOOPBACK}x dlt", vs >= VS_DLT_LOOPBACK)  # fmt: skip
    for label, seconds in _steps(first).items():
        row(f"  step: {label}", _s(seconds))
    row("  records/s end to end", f"{rate:,.0f}", f">= {RATE:,}", rate >= RATE)
    share = rate / floor_rate
    row("  share of the floor's rate", f"{share:.2f}", f">= {FLOOR_SHARE}", share >= FLOOR_SHARE)
    ev = first["events"]
    row("  Dagster events stored (materializations, checks)",
        f"{ev['stored']:,} ({ev['materializations']}, {ev['checks']})")  # fmt: skip
    row("  API requests, most in flight", f"{first['requests']:,}, {first['max_in_flight']}")
    row("  peak RSS of `gcc run`", f"{first['peak_rss_mb']:,.0f} MB", f"< {RSS_MB} MB",
        first["peak_rss_mb"] < RSS_MB)  # fmt: skip
    views = _steps(first).get("analytics views")
    if views is not None:
        row("  analytics views refreshed", _s(views), f"< {VIEWS_S} s", views < VIEWS_S)
    if lb.get("dashboard"):
        worst = max(lb["dashboard"], key=lambda q: q["p95_ms"])
        row(f"dashboard queries: worst p95 ({worst['query']})", f"{worst['p95_ms']:.1f} ms",
            f"< {P95_MS} ms", worst["p95_ms"] < P95_MS)  # fmt: skip
    five = lb.get("five_years_earlier")
    if five:
        ratio = five["seconds"] / first["seconds"]
        row(f"`gcc run`, GCC_START_DATE {five['start_date']} (5 years earlier, +1% records)",
            f"{_s(five['seconds'])} ({ratio:.2f}x)", f"<= {FIVE_YEARS_EARLIER}x",
            ratio <= FIVE_YEARS_EARLIER)  # fmt: skip
        row("  Dagster events stored", f"{five['events']['stored']:,}")
    second = lb.get("second")
    if second:
        changed = sum(lb["changed"].values())
        t, n = second["seconds"] / first["seconds"], second["fetched"] / max(first["fetched"], 1)
        row(f"second `gcc run` after {changed:,} records changed ({changed / records:.1%})",
            f"{_s(second['seconds'])} ({t:.1%} of the first)", f"<= {SECOND_RUN_TIME:.0%}",
            t <= SECOND_RUN_TIME)  # fmt: skip
        row("  records fetched", f"{second['fetched']:,} ({n:.2%} of the first)",
            f"<= {SECOND_RUN_RECORDS:.0%}", n <= SECOND_RUN_RECORDS)  # fmt: skip
        equal = lb.get("caught_up_equals_fresh")
        row("  warehouse equals a fresh full load", "yes" if equal else "NO", "yes", equal)
        for label, seconds in _steps(second).items():
            row(f"  step: {label}", _s(seconds))
    sched = lb.get("scheduled")
    if sched:
        wall = sched["created_to_end_seconds"]
        row("scheduled incremental run, nothing new, under `dagster-daemon` (tick to end)",
            f"{_s(wall)} ({sched['status'].lower()})", f"< {SCHEDULED_S} s",
            wall < SCHEDULED_S)  # fmt: skip
        row("  run process start to end", _s(sched["start_to_end_seconds"]))
        row("  records fetched, requests", f"{sched['fetched']:,}, {sched['requests']}")
