"""Every selection writes exactly what it records: one table loads only its streams, and every
table a run writes appears in its materializations (so the lineage never says a table did not
change when it did)."""

from datetime import timedelta

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline import clock
from gcc_pipeline.streams import stream_tables
from gcc_pipeline_tests.pipeline import ANCHOR, catch_up, full_backfill, sandbox

OTHERS = ("contacts", "jobs", "payments", "jobnimbus_status_changes")


def snapshot(url: str) -> dict[str, object]:
    """Each table's whole content, bookkeeping columns included (updated_at, loaded_at), and the
    raw payloads per entity type."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        out: dict[str, object] = {}
        for table in OTHERS:
            cur.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
            )
            out[table] = cur.fetchone()
        cur.execute("SELECT entity_type, count(*) FROM jobnimbus_raw_events GROUP BY 1")
        out["raw"] = dict(cur.fetchall())
    conn.close()
    return out


def recorded(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.mark.parametrize(
    "selection",
    [["expenses"], ["expenses", "jobnimbus_raw_events"]],
    ids=["expenses", "expenses and its raw events (the UI's backfill of both)"],
)
def test_materializing_expenses_leaves_every_other_table_untouched(
    warehouse_url: str, selection: list[str]
) -> None:
    with sandbox(jobs=150, seed=12, history_days=60) as server, clock.pinned(ANCHOR):
        full_backfill(server, warehouse_url)
        before = snapshot(warehouse_url)
        changed = server.company.advance(days=4)  # every stream has news now
        assert all(changed[r] for r in ("jobs", "payments", "workorders", "materialorders"))
        with clock.pinned(ANCHOR + timedelta(days=4)):
            result = catch_up(server, warehouse_url, selection=selection)
        after = snapshot(warehouse_url)
        expected = {r: n for r, n in changed.items() if r in ("workorders", "materialorders")}

    assert result.success
    assert {k: v for k, v in after.items() if k != "raw"} == {
        k: v for k, v in before.items() if k != "raw"
    }
    grown = {t: n - before["raw"].get(t, 0) for t, n in after["raw"].items()}
    assert {t for t, n in grown.items() if n} == {"workorder", "materialorder"}
    assert sum(grown.values()) >= sum(expected.values()) > 0
    assert recorded(result) == {"expenses", "jobnimbus_raw_events"}  # written == recorded
    ran = {
        e.asset_check_key.asset_key.to_user_string() for e in result.get_asset_check_evaluations()
    }
    assert ran == set(selection)  # the checks of what was selected, not of tables untouched


def test_the_raw_events_alone_load_every_stream_and_record_every_table(warehouse_url) -> None:
    with sandbox(jobs=60, seed=13, history_days=40) as server, clock.pinned(ANCHOR):
        result = full_backfill(server, warehouse_url, selection=["jobnimbus_raw_events"])

    assert result.success
    tables = {t.name for t in stream_tables()}
    assert recorded(result) == tables | {"jobnimbus_raw_events"}
    logged = [e for e in result.get_asset_materialization_events()
              if e.asset_key.to_user_string() in tables]  # fmt: skip
    reason = logged[0].materialization.metadata["recorded_because"].value
    assert "jobnimbus_raw_events" in reason
