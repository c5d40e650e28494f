"""Asset checks against real runs: all pass on a clean, fully mapped company; stage-mapping gaps
fail with the exact gaps and block the analytics views in the same run (unless switched off);
every other check fails when its rule is broken by a direct SQL change."""

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import dagster as dg
import psycopg2
import pytest
import yaml

from gcc_pipeline import clock
from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS
from gcc_pipeline.checks import STANDALONE_CHECKS, build_checks, mapping_snippet, standalone
from gcc_pipeline.settings import load_settings
from gcc_pipeline.stage_mapping import load_mapping, lookup_rows, status_key
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import (
    ANCHOR,
    first_day,
    materialize_range,
    pipeline_assets,
    sandbox,
)

HISTORY_DAYS = 90
# The sandbox clock stands at ANCHOR, so "fresh" there means: no older than now - ANCHOR + 2 days.
SANDBOX_FRESHNESS = str(int((clock.now() - ANCHOR).total_seconds() // 3600) + 48)

ANALYTICS_KEYS = {k for a in ANALYTICS_ASSETS for k in a.keys}


def run(
    server,
    url: str,
    *,
    checks: Sequence[dg.AssetChecksDefinition] = STANDALONE_CHECKS,
    only_checks: bool = False,
    extra: Sequence[object] = (),
) -> dg.ExecuteInProcessResult:
    """One run over every month of the company: the pipeline (unless only_checks) plus every
    check (those inside the assets' steps and the standalone ones); `extra` assets (the
    analytics) are selected as well. The analytics step is always there, so its checks run."""
    assets = [*pipeline_assets(), *ANALYTICS_ASSETS]
    views = dg.AssetSelection.assets(*extra) if extra else None
    if only_checks:
        selection = dg.AssetSelection.all_asset_checks()
        selection = selection | views if views else selection
    else:
        selection = dg.AssetSelection.all() - dg.AssetSelection.assets(*ANALYTICS_ASSETS)
        selection = selection | views if views else selection
    return materialize_range(
        server, url, first_day(server), clock.now().date(),
        assets=[*assets, *checks], selection=selection, raise_on_error=False,
    )  # fmt: skip


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """'asset:check' -> its evaluation in the run."""
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }


def meta(evaluation: dg.AssetCheckEvaluation, key: str) -> object:
    return evaluation.metadata[key].value


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.materialization.asset_key for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def clean(pg_server_url: str) -> Iterator[tuple[object, str, dg.ExecuteInProcessResult]]:
    """A fully mapped 150-job company backfilled once, its views refreshed, with every check (a
    template database for the tests that break it)."""
    url = create_database(pg_server_url)
    migrate(url)
    with (
        pytest.MonkeyPatch.context() as mp,
        sandbox(jobs=150, seed=3, history_days=HISTORY_DAYS) as server,
    ):
        mp.setenv("GCC_FRESHNESS_HOURS", SANDBOX_FRESHNESS)
        result = run(server, url, extra=ANALYTICS_ASSETS)
        yield server, url, result
    drop_database(pg_server_url, url)


@pytest.fixture
def broken(pg_server_url: str, clean, monkeypatch) -> Iterator[tuple[object, str, object]]:
    """A copy of the clean warehouse (CREATE DATABASE ... TEMPLATE) and an open connection."""
    monkeypatch.setenv("GCC_FRESHNESS_HOURS", SANDBOX_FRESHNESS)
    server, source, _ = clean
    url = create_database(pg_server_url, template=source)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    yield server, url, conn
    conn.close()
    drop_database(pg_server_url, url)


def _all_check_keys() -> set[str]:
    from gcc_pipeline.definitions import defs

    keys = defs.resolve_asset_graph().asset_check_keys
    return {k.to_user_string() for k in keys}


def test_every_check_passes_on_a_clean_fully_mapped_company(clean) -> None:
    result = clean[2]
    evals = evaluations(result)

    assert result.success
    assert set(evals) == _all_check_keys()
    assert {k: e.passed for k, e in evals.items() if not e.passed} == {}
    assert meta(evals["jobs:stage_mapping_complete"], "unmapped_jobs") == 0
    # Keys the database enforces are not scanned for duplicates on every run.
    assert "primary key" in meta(evals["jobs:key_unique_not_null"], "enforced_by")
    jobs = evals["jobs:raw_reconciled"]
    assert meta(jobs, "raw") == meta(jobs, "normalized") == clean[0].company.count("jobs")
    assert meta(evals["payments:payments_link_to_jobs"], "orphan_payments") == 0


def test_only_the_stage_mapping_check_blocks_and_it_has_a_step_of_its_own() -> None:
    from gcc_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    blocking = {n.key.to_user_string() for n in graph.asset_check_nodes if n.blocking}
    assert blocking == {"jobs:stage_mapping_complete"}
    # In the jobs' step a failed blocking check would fail the step, and with it history.
    assert {k.to_user_string() for c in STANDALONE_CHECKS for k in c.check_keys} == blocking


def _gaps_table(markdown: str) -> dict[tuple[str, str], int]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    out = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        out[(cells[0], cells[1])] = int(cells[2])
    return out


def test_unmapped_statuses_fail_name_each_gap_and_block_the_analytics(
    pg_server_url: str, monkeypatch
) -> None:
    url = create_database(pg_server_url)
    migrate(url)
    try:
        with sandbox(
            jobs=150, seed=6, history_days=HISTORY_DAYS, unmapped_status_share=0.15
        ) as server:
            company = server.company
            stage = {
                (r.record_type_id, status_key(r.status_name)): r.stage
                for r in lookup_rows(load_mapping(), company.settings())
            }
            expected = Counter(
                (j["record_type_name"], j["status_name"])
                for j in company.records("jobs")
                if stage.get((j["record_type"], status_key(j["status_name"]))) is None
            )
            assert expected, "the sandbox puts some jobs into unmapped statuses"

            result = run(server, url, extra=ANALYTICS_ASSETS)

            check = evaluations(result)["jobs:stage_mapping_complete"]
            assert not check.passed
            assert check.severity == dg.AssetCheckSeverity.ERROR
            assert _gaps_table(meta(check, "gaps")) == dict(expected)
            assert meta(check, "unmapped_jobs") == sum(expected.values())
            snippet = yaml.safe_load(
                meta(check, "stage_mappings_yaml").strip("`").removeprefix("yaml")
            )
            workflow_of = {r.record_type_name: r.workflow for r in lookup_rows(load_mapping(), {})}
            for record_type, status_name in expected:
                assert status_name in snippet["workflows"][workflow_of[record_type]]["STAGE"]
            done = materialized(result)
            assert dg.AssetKey("jobs") in done
            # History and sales reps read the raw jobs: the gap holds back the views only.
            assert {dg.AssetKey("job_status_history"), dg.AssetKey("sales_reps")} <= done
            assert not (done & ANALYTICS_KEYS), "analytics refreshed despite unmapped statuses"
            assert not result.success
            failed = {e.step_key for e in result.get_step_failure_events()}
            assert failed == {"jobs_stage_mapping_complete"}, "only the blocking check failed"

            monkeypatch.setenv("GCC_BLOCK_ON_UNMAPPED_STATUSES", "false")
            (relaxed,) = [c for c in build_checks(load_settings()) if c.asset == "jobs" and
                          c.name == "stage_mapping_complete"]  # fmt: skip
            assert not relaxed.blocking
            result = run(
                server, url, checks=[standalone(relaxed)], only_checks=True, extra=ANALYTICS_ASSETS
            )

            assert not evaluations(result)["jobs:stage_mapping_complete"].passed
            assert materialized(result) >= ANALYTICS_KEYS
    finally:
        drop_database(pg_server_url, url)


def _sql(conn, statement: str) -> None:
    with conn.cursor() as cur:
        cur.execute(statement)


def test_a_payment_with_credit_above_total_fails_money_sanity(broken) -> None:
    server, url, conn = broken
    _sql(conn, "UPDATE payments SET credit = amount + 1 WHERE id = (SELECT min(id) FROM payments)")
    _sql(conn, "UPDATE expenses SET amount = -5 WHERE id = (SELECT min(id) FROM expenses)")

    evals = evaluations(run(server, url, only_checks=True))

    payments = evals["payments:payment_amounts_sane"]
    assert not payments.passed and payments.severity == dg.AssetCheckSeverity.ERROR
    assert meta(payments, "credit_above_total") == 1
    assert len(meta(payments, "examples")) == 1
    expenses = evals["expenses:expense_amounts_sane"]
    assert not expenses.passed and meta(expenses, "negative_amount") == 1


def test_a_payment_of_an_unknown_job_warns(broken) -> None:
    server, url, conn = broken
    _sql(
        conn, "UPDATE payments SET job_id = 'no-such-job' WHERE id = (SELECT min(id) FROM payments)"
    )
    _sql(conn, "UPDATE payments SET job_id = NULL WHERE id = (SELECT max(id) FROM payments)")

    check = evaluations(run(server, url, only_checks=True))["payments:payments_link_to_jobs"]

    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (meta(check, "unknown_job"), meta(check, "without_job")) == (1, 1)
    assert len(meta(check, "examples")) == 2


def test_repeated_and_early_history_rows_warn(broken) -> None:
    server, url, conn = broken
    _sql(
        conn,
        """INSERT INTO job_status_history (job_id, status_name, changed_at, source)
           SELECT job_id, status_name, changed_at + interval '1 minute', 'poll'
           FROM job_status_history ORDER BY changed_at DESC LIMIT 1""",
    )
    _sql(
        conn,
        """INSERT INTO job_status_history (job_id, status_name, changed_at, source)
           SELECT id, 'Lead', date_created - interval '1 day', 'poll'
           FROM jobs ORDER BY id LIMIT 1""",
    )

    check = evaluations(run(server, url, only_checks=True))["job_status_history:history_consistent"]

    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert meta(check, "repeated_status_rows") >= 1
    assert meta(check, "changes_before_job_created") == 1


def test_history_rows_without_a_stage_fail_and_name_each_status(broken) -> None:
    """Issue 12, defect 4: the completeness check covers history rows (an old name of a renamed
    status that the mapping lacks), listing the status names as the jobs check does."""
    server, url, conn = broken
    _sql(
        conn,
        """INSERT INTO job_status_history (job_id, status_name, changed_at, source)
           SELECT id, 'Completed (2019 name)', date_created + interval '1 minute', 'poll'
           FROM jobs WHERE record_type_name = 'Repairs' ORDER BY id LIMIT 2""",
    )

    evals = evaluations(run(server, url, only_checks=True))

    check = evals["job_status_history:history_stage_mapping_complete"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert _gaps_table(meta(check, "gaps")) == {("Repairs", "Completed (2019 name)"): 2}
    assert (meta(check, "unmapped_rows"), meta(check, "unmapped_statuses")) == (2, 1)
    snippet = yaml.safe_load(meta(check, "stage_mappings_yaml").strip("`").removeprefix("yaml"))
    assert snippet["workflows"]["Repairs"]["STAGE"] == ["Completed (2019 name)"]
    assert evals["jobs:stage_mapping_complete"].passed


def test_a_job_without_its_first_status_in_history_fails(broken) -> None:
    server, url, conn = broken
    _sql(
        conn,
        """DELETE FROM job_status_history
           WHERE source = 'created' AND job_id = (SELECT min(job_id) FROM job_status_history
                                                  WHERE source = 'activity')""",
    )

    check = evaluations(run(server, url, only_checks=True))[
        "job_status_history:history_starts_at_creation"
    ]

    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert meta(check, "jobs_without_first_row") == 1
    assert len(meta(check, "examples")) == 1


def test_revenue_breakdowns_that_do_not_add_up_to_the_total_fail(broken) -> None:
    """Issue 12, defect 7: every breakdown reconciles to the revenue total computed from the
    payments; a breakdown that loses money (here: a stale view) fails, naming it."""
    server, url, conn = broken
    _sql(conn, "UPDATE payments SET refunded_amount = refunded_amount + 100 "
               "WHERE id = (SELECT min(payment_id) FROM analytics.revenue_payments)")  # fmt: skip
    _sql(conn, "REFRESH MATERIALIZED VIEW analytics.revenue_payments")
    _sql(conn, "REFRESH MATERIALIZED VIEW analytics.revenue_daily")

    check = evaluations(run(server, url, only_checks=True))[
        "revenue_payments:revenue_breakdowns_reconcile"
    ]

    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    lines = [line for line in meta(check, "breakdowns_off").splitlines() if line[:2] == "| "]
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[1:]]
    stale = ("revenue_by_month", "rep_monthly", "rep_performance", "lead_source_performance",
             "job_type_monthly", "cash_flow_by_month")  # fmt: skip
    assert {c[0]: c[2] for c in cells} == dict.fromkeys(stale, "100.00")
    assert meta(check, "breakdowns_off_count") == len(stale)


def test_a_job_landed_raw_but_not_normalized_fails_reconciliation(broken) -> None:
    server, url, conn = broken
    _sql(conn, "DELETE FROM jobs WHERE id = (SELECT min(id) FROM jobs)")

    check = evaluations(run(server, url, only_checks=True))["jobs:raw_reconciled"]

    assert not check.passed
    assert meta(check, "missing") == 1
    assert meta(check, "raw") == meta(check, "normalized") + 1


def test_duplicated_and_null_keys_fail(broken) -> None:
    server, url, conn = broken
    _sql(conn, "ALTER TABLE contacts DROP CONSTRAINT contacts_pkey")
    _sql(conn, "ALTER TABLE contacts ALTER COLUMN id DROP NOT NULL")
    _sql(conn, "INSERT INTO contacts (id, display_name) SELECT id, 'copy' FROM contacts LIMIT 2")
    _sql(conn, "INSERT INTO contacts (id, display_name) VALUES (NULL, 'no id')")

    evals = evaluations(run(server, url, only_checks=True))

    check = evals["contacts:key_unique_not_null"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert meta(check, "duplicated_keys") == 2
    assert meta(check, "rows_with_null_key") == 1
    assert evals["jobs:key_unique_not_null"].passed


def test_stale_jobs_warn(broken, monkeypatch) -> None:
    server, url, _ = broken
    monkeypatch.setenv("GCC_FRESHNESS_HOURS", "48")

    check = evaluations(run(server, url, only_checks=True))["jobs:jobs_fresh"]

    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert meta(check, "lag_hours") > 48
    newest = datetime.fromisoformat(meta(check, "newest_date_updated"))
    assert abs(newest - ANCHOR) < timedelta(days=2)


@pytest.mark.parametrize(
    ("value", "blocking"),
    [(None, True), ("1", True), ("true", True), ("0", False), ("false", False), (" OFF ", False)],
)
def test_blocking_follows_the_environment(monkeypatch, value: str | None, blocking: bool) -> None:
    if value is None:
        monkeypatch.delenv("GCC_BLOCK_ON_UNMAPPED_STATUSES", raising=False)
    else:
        monkeypatch.setenv("GCC_BLOCK_ON_UNMAPPED_STATUSES", value)

    check = build_checks(load_settings())[0]

    assert check.name == "stage_mapping_complete" and check.blocking is blocking


def test_the_mapping_snippet_is_valid_yaml_even_for_unknown_record_types() -> None:
    gaps = [
        {"record_type_id": 47, "record_type_name": "Legacy (Bob's Workflow)",
         "workflow": "Legacy", "status_name": "Bob's: On Hold", "job_count": 2},
        {"record_type_id": 99, "record_type_name": "Solar", "workflow": None,
         "status_name": "Permit Pending", "job_count": 1},
        {"record_type_id": 99, "record_type_name": "Solar", "workflow": None,
         "status_name": None, "job_count": 1},
    ]  # fmt: skip

    parsed = yaml.safe_load(mapping_snippet(gaps).strip("`").removeprefix("yaml"))

    assert parsed["record_types"] == [{"id": 99, "name": "Solar", "workflow": "Solar"}]
    assert parsed["workflows"] == {
        "Legacy": {"STAGE": ["Bob's: On Hold"]},
        "Solar": {"STAGE": ["Permit Pending"]},
    }
