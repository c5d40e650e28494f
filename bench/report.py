"""Render the bench's results (the JSON bench/run.py saves) as plain-text tables."""

from __future__ import annotations

from typing import Any

RAW_LABELS = ("stage_raw", "land_raw", "quarantine", "q:staging", "q:log_ingestion")
HISTORY_LABELS = ("q:history_", "q:derive_job_dates", "job_status_history")
REFERENCE_LABELS = ("q:replace_lookup", "q:sales_reps", "workflow_status_lookup", "sales_reps")
INGEST_STEPS = ("ingest_",)

TARGET_RATE = 15_000
TARGET_RATIO = 0.5
TARGET_RSS_MB = 500
TARGET_P95_MS = 20
TARGET_REFRESH_S = 30
TARGET_INCREMENTAL_S = 5


def _mark(ok: bool) -> str:
    return " ok" if ok else " MISS"


def _sql_split(sql: dict[str, dict[str, float]]) -> dict[str, float]:
    out = {"raw": 0.0, "history": 0.0, "reference": 0.0, "upsert": 0.0}
    for label, v in sql.items():
        if any(k in label for k in RAW_LABELS):
            out["raw"] += v["seconds"]
        elif any(k in label for k in HISTORY_LABELS):
            out["history"] += v["seconds"]
        elif any(k in label for k in REFERENCE_LABELS):
            out["reference"] += v["seconds"]
        else:
            out["upsert"] += v["seconds"]  # normalized COPY + upsert, apply_stages, counts
    return out


def figures(size: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one company size."""
    b = size["backfill"]
    records = size["api_records"]
    steps = b["steps"]
    ingest = sum(s for k, s in steps.items() if k.startswith(INGEST_STEPS))
    history = sum(s for k, s in steps.items() if "history" in k)
    reference = sum(s for k, s in steps.items() if k in ("workflow_status_lookup", "sales_reps"))
    sql = _sql_split(b["sql"])
    fetch = sum(v["seconds"] for v in b["fetch"].values())
    sql_main = _sql_split({k: {"seconds": v} for k, v in b.get("sql_main_thread", {}).items()})
    waited_sql = sql_main["raw"] + sql_main["upsert"] + b.get("future_waits", {}).get("seconds", 0)
    events = b.get("events", {})
    events_ingest = sum(v["seconds"] for k, v in events.items() if k.startswith(INGEST_STEPS))
    events_run = events.get("", {}).get("seconds", 0.0)
    n_materializations = b.get("event_types", {}).get("ASSET_MATERIALIZATION", 0)
    n_planned = b.get("event_types", {}).get("ASSET_MATERIALIZATION_PLANNED", 0)
    python = ingest - fetch - waited_sql - events_ingest
    floor = size["floor"]
    floor_copy = sum(v["seconds"] for v in floor["fetch_copy"].values())
    floor_fetch = sum(v["seconds"] for v in floor["fetch_only"].values()) or None
    refresh = {k: v.get("refresh_seconds", 0.0) for k, v in size["analytics"]["metadata"].items()}
    rate = records / b["seconds"]
    floor_rate = records / floor_copy
    return {
        "records": records,
        "seconds": b["seconds"],
        "process_seconds": b["process_seconds"],
        "rate": rate,
        "stages": {
            "fetch": fetch,
            "sql_waited": waited_sql,
            "python": python,
            "events_ingest": events_ingest,
            "reference": reference,
            "history": history,
            "dagster": b["seconds"] - sum(steps.values()),
        },
        "events_run": events_run,
        "n_materializations": n_materializations,
        "n_planned": n_planned,
        "sql_raw": sql["raw"],
        "sql_upsert": sql["upsert"],
        "floor_fetch": floor_fetch,
        "floor_copy": floor_copy,
        "floor_rate": floor_rate,
        "ratio": rate / floor_rate,
        "rss": b["peak_rss_mb"],
        "db_bytes": size["database"]["database_bytes"],
        "refresh": refresh,
        "refresh_total": sum(refresh.values()),
        "analytics_seconds": size["analytics"]["seconds"],
        "p95": max((q["p95_ms"] for q in size["dashboard"]), default=0.0),
        "p50": max((q["p50_ms"] for q in size["dashboard"]), default=0.0),
    }


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 or i == len(r) - 1 else c.rjust(w)
        for i, (c, w) in enumerate(zip(r, widths, strict=True))
    ).rstrip()
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def render(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    figs = [figures(s) for s in sizes]
    names = [f"{s['jobs']:,} jobs" for s in sizes]
    out: list[str] = []
    profiled = (
        f" (PROFILED with {results['profiled']}: times include its overhead)"
        if results.get("profiled")
        else ""
    )
    out.append(
        f"gcc-pipeline bench: {results['postgres']}; {results['cpus']} CPUs; sandbox anchor "
        f"{results['anchor']}, {results['history_days']} days of history{profiled}"
    )
    if results.get("load"):
        out.append(
            "load average (1 min) at start / end: "
            + " / ".join(f"{x:.1f}" for x in results["load"])
            + " (other processes on the machine skew the figures)"
        )
    out.append("")
    rows: list[list[str]] = []

    def row(label: str, cells: list[str], target: str = "") -> None:
        rows.append([label, *cells, target])

    def per(fn) -> list[str]:
        return [fn(f, s) for f, s in zip(figs, sizes, strict=True)]

    row("API records (6 windowed resources)", per(lambda f, s: f"{f['records']:,}"))
    row("FULL BACKFILL (one Dagster run)", ["" for _ in figs])
    row(
        "  end to end: run seconds, records/s",
        per(
            lambda f, s: (
                f"{f['seconds']:.1f} s  {f['rate']:,.0f}/s"
                + (_mark(f["rate"] >= TARGET_RATE) if s["jobs"] == 20_000 else "")
            )
        ),
        f">= {TARGET_RATE:,}/s at 20,000 jobs",
    )
    row("  process wall (imports, run, exit)", per(lambda f, s: f"{f['process_seconds']:.1f} s"))
    stage_labels = (
        ("fetch", "  fetch: API pages -> dicts"),
        ("sql_waited", "  SQL the run waited for (not overlapped)"),
        ("python", "  Python in ingest (parse, hash, encode)"),
        ("events_ingest", "  Dagster events stored in ingest steps"),
        ("reference", "  reference steps (lookup, sales reps)"),
        ("history", "  job_status_history step"),
        ("dagster", "  Dagster outside steps (run start/end)"),
    )
    for key, label in stage_labels:
        row(
            label,
            per(
                lambda f, s, key=key: (
                    f"{f['stages'][key]:.1f} s  {100 * f['stages'][key] / f['seconds']:.0f}%"
                )
            ),
        )
    row(
        "    of which storing planned events",
        per(lambda f, s: f"{f['events_run']:.1f} s  {f['n_planned']:,} ev"),
    )
    row(
        "  materializations recorded",
        per(lambda f, s: f"{f['n_materializations']:,}"),
    )
    row(
        "  SQL busy: raw landing (any thread)",
        per(lambda f, s: f"{f['sql_raw']:.1f} s  {f['records'] / max(f['sql_raw'], 1e-9):,.0f}/s"),
    )
    row(
        "  SQL busy: normalize/upsert (any thread)",
        per(
            lambda f, s: (
                f"{f['sql_upsert']:.1f} s  {f['records'] / max(f['sql_upsert'], 1e-9):,.0f}/s"
            )
        ),
    )
    row(
        "  peak RSS of the run process",
        per(lambda f, s: f"{f['rss']:,.0f} MB" + _mark(f["rss"] < TARGET_RSS_MB)),
        f"< {TARGET_RSS_MB} MB, flat in size",
    )
    row(
        "  machine stalls during the run (PSI)",
        per(
            lambda f, s: (
                " ".join(
                    f"{k.split('_')[0][:3]} {v:.0f}s"
                    for k, v in s["backfill"].get("stall_seconds", {}).items()
                )
                or "-"
            )
        ),
        "mem/io full, cpu some",
    )
    row("  database size after backfill", per(lambda f, s: f"{f['db_bytes'] / 2**20:,.0f} MB"))
    row("FLOOR (same sandbox, same window)", ["" for _ in figs])
    row(
        "  fetch only: client.iter_window",
        per(
            lambda f, s: (
                "skipped"
                if not f["floor_fetch"]
                else f"{f['floor_fetch']:.1f} s  {f['records'] / f['floor_fetch']:,.0f}/s"
            )
        ),
    )
    row(
        "  fetch + COPY json text into jsonb",
        per(lambda f, s: f"{f['floor_copy']:.1f} s  {f['floor_rate']:,.0f}/s"),
    )
    row(
        "  pipeline rate / floor rate",
        per(lambda f, s: f"{f['ratio']:.2f}" + _mark(f["ratio"] >= TARGET_RATIO)),
        f">= {TARGET_RATIO}",
    )
    row("ANALYTICS", ["" for _ in figs])
    row(
        "  refresh of every view (sum)",
        per(
            lambda f, s: (
                f"{f['refresh_total']:.2f} s" + _mark(f["refresh_total"] < TARGET_REFRESH_S)
            )
        ),
        f"< {TARGET_REFRESH_S} s",
    )
    row(
        "  slowest view refresh",
        per(
            lambda f, s: (
                (lambda k: f"{k} {f['refresh'][k]:.2f} s")(max(f["refresh"], key=f["refresh"].get))
                if f["refresh"]
                else "-"
            )
        ),
    )
    row(
        "  analytics run wall (every view)",
        per(lambda f, s: f"{f['analytics_seconds']:.1f} s ({len(f['refresh'])} views)"),
    )
    row(
        "  dashboard p95, worst query",
        per(lambda f, s: f"{f['p95']:.1f} ms" + _mark(f["p95"] < TARGET_P95_MS)),
        f"< {TARGET_P95_MS} ms",
    )
    out.append(_table(["figure", *names, "target"], rows))

    inc_size = next((s for s in reversed(sizes) if s.get("incremental")), None)
    if inc_size:
        inc = inc_size["incremental"]
        out.append("")
        out.append(f"INCREMENTAL at {inc_size['jobs']:,} jobs (latest two partitions, by the "
                   "sandbox clock)")  # fmt: skip
        a, b = inc["no_change"], inc["one_day"]
        one_each = all(n <= 1 for n in a["requests_by_resource"].values())

        def by_resource(r: dict) -> str:
            return " ".join(f"{k[:4]}:{v}" for k, v in sorted(r["requests_by_resource"].items()))

        changed = b["sandbox_changed"] or {}

        def pair(label: str, key: str, fmt: str = "{:,}", target: str = "") -> list[str]:
            return [label, fmt.format(a[key]), fmt.format(b[key]), target]

        rows = [
            ["partitions", "..".join(a["partitions"]), "..".join(b["partitions"]), ""],
            pair("API requests (ingestion log)", "requests",
                 target="1 per resource" + _mark(one_each)),
            ["  per resource", by_resource(a), by_resource(b), ""],
            pair("  all HTTP requests of the run", "http_requests"),
            pair("Dagster run seconds", "seconds", "{:.1f}",
                 f"< {TARGET_INCREMENTAL_S} s" + _mark(a["seconds"] < TARGET_INCREMENTAL_S)),
            pair("process wall seconds", "process_seconds", "{:.1f}"),
            pair("records fetched", "fetched"),
            pair("rows touched (inserted+updated)", "rows_touched"),
            pair("history rows appended", "history_appended"),
            ["sandbox: records changed by advance", "-", f"{sum(changed.values()):,}", ""],
        ]  # fmt: skip
        out.append(_table(["figure", "nothing changed", "after advance?days=1", "target"], rows))

    for size, f in zip(sizes, figs, strict=True):
        b = size["backfill"]
        out.append("")
        out.append(f"DETAIL at {size['jobs']:,} jobs")
        steps = sorted(b["steps"].items(), key=lambda kv: -kv[1])
        out.append("  Dagster steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps))
        top = sorted(b["sql"].items(), key=lambda kv: -kv[1]["seconds"])[:10]
        out.append("  SQL by statement (client-side time, calls):")
        for label, v in top:
            out.append(f"    {v['seconds']:7.2f} s  {int(v['calls']):6d}x  {label}")
        ev = b.get("events", {})
        if ev:
            out.append(
                f"  Dagster events stored: {sum(v['count'] for v in ev.values()):,} in "
                f"{sum(v['seconds'] for v in ev.values()):.1f} s ("
                + ", ".join(
                    f"{k or 'run'} {v['count']:,}/{v['seconds']:.1f}s"
                    for k, v in sorted(ev.items(), key=lambda kv: -kv[1]["seconds"])[:6]
                )
                + ")"
            )
        waits = b.get("future_waits")
        if waits and waits["calls"]:
            out.append(
                f"  main thread waited for the landing writer thread: {waits['seconds']:.1f} s "
                f"over {waits['calls']} waits"
            )
        fetch = b["fetch"]
        out.append(
            "  fetch in run by resource: "
            + ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in fetch.items())
        )
        log = b.get("ingestion_log", {})
        if log:
            out.append(
                "  ingestion log (wall from started_at to finished_at, requests): "
                + ", ".join(f"{k} {v['seconds']:.1f}s/{int(v['requests'])}" for k, v in log.items())
            )
        out.append(
            "  view refresh: "
            + ", ".join(
                f"{k} {v:.2f}s" for k, v in sorted(f["refresh"].items(), key=lambda kv: -kv[1])
            )
        )
        tables = size["database"]["tables"]
        out.append(
            "  largest tables: "
            + ", ".join(f"{k} {v['bytes'] / 2**20:,.0f} MB" for k, v in list(tables.items())[:5])
        )
        out.append(
            f"  sandbox process: built in {size['sandbox_build_seconds']:.1f} s, peak RSS "
            f"{(size['sandbox_peak_rss_mb'] or 0):,.0f} MB; floor process peak RSS "
            f"{size['floor']['peak_rss_mb']:,.0f} MB"
        )
        if b.get("profile"):
            out.append(f"  profile: {b['profile']} (+ .html)")

    last = sizes[-1]
    out.append("")
    out.append(f"DASHBOARD QUERIES at {last['jobs']:,} jobs (ms over the repetitions)")
    out.append(
        _table(
            ["view", "query", "p50", "p95", "max", "rows"],
            [
                [q["view"], q["query"], f"{q['p50_ms']:.2f}", f"{q['p95_ms']:.2f}",
                 f"{q['max_ms']:.2f}", str(q["rows"])]
                for q in last["dashboard"]
            ],
        )
    )  # fmt: skip
    return "\n".join(out)
