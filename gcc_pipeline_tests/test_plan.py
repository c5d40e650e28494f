"""What a load fetches (sync/plan.py): month windows, and no window before a stream's oldest
record, while the load still counts as covering everything from GCC_START_DATE."""

from datetime import UTC, datetime, timedelta

from dagster import TimeWindow

from gcc_pipeline.jobnimbus import JobNimbusClient
from gcc_pipeline.partitions import monthly_partitions
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.streams import stream
from gcc_pipeline.sync.plan import plan_stream
from gcc_pipeline.sync.state import SyncState

JOBS = stream("jobs")


def month(key: str) -> TimeWindow:
    return monthly_partitions.time_window_for_partition_key(key)


def run_over(first: str, last: str) -> TimeWindow:
    return TimeWindow(month(first).start, month(last).end)


def whole_load(run: TimeWindow, *, latest: bool, oldest=None):
    floor = month("2024-01-01").start  # GCC_START_DATE of the tests
    return plan_stream(JOBS, run, includes_latest=latest, floor=floor, state=None,
                       incremental=False, since=None, overlap=timedelta(minutes=30),
                       now=run.end, oldest=oldest)  # fmt: skip


def starts(plan) -> list[str]:
    return [w.start.date().isoformat() for w in plan.windows]


def test_a_whole_load_fetches_one_window_per_month_the_last_one_open() -> None:
    plan = whole_load(run_over("2024-01-01", "2024-04-01"), latest=True)

    assert starts(plan) == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    assert plan.windows[-1].end is None
    assert plan.since == month("2024-01-01").start


def test_months_before_the_oldest_record_get_no_window_yet_the_load_covers_them() -> None:
    oldest = month("2024-03-01").start + timedelta(days=9, hours=5)
    plan = whole_load(run_over("2024-01-01", "2024-04-01"), latest=True, oldest=(True, oldest))

    assert starts(plan) == ["2024-03-01", "2024-04-01"]
    assert plan.since == month("2024-01-01").start  # nothing older exists: covered from the floor
    assert "oldest record's month 2024-03-01" in plan.reason


def test_older_records_or_an_unreadable_date_keep_every_window() -> None:
    run = run_over("2024-03-01", "2024-04-01")
    older = whole_load(run, latest=True, oldest=(True, month("2024-01-01").start))
    unreadable = whole_load(run, latest=True, oldest=(True, None))

    assert starts(older) == starts(unreadable) == ["2024-03-01", "2024-04-01"]
    assert older.since == unreadable.since == month("2024-03-01").start


def test_an_empty_stream_asks_the_latest_month_once_and_old_months_not_at_all() -> None:
    present = whole_load(run_over("2024-01-01", "2024-04-01"), latest=True, oldest=(False, None))
    past = whole_load(run_over("2024-01-01", "2024-02-01"), latest=False, oldest=(False, None))
    later = whole_load(run_over("2024-01-01", "2024-02-01"), latest=False,
                       oldest=(True, month("2024-03-01").start))  # fmt: skip

    assert starts(present) == ["2024-04-01"] and present.windows[0].end is None
    assert past.windows == later.windows == ()
    assert present.since == past.since == later.since == month("2024-01-01").start


def test_a_record_dated_after_the_range_of_the_present_is_still_fetched() -> None:
    future = month("2024-04-01").end + timedelta(days=3)  # an API clock ahead of ours
    plan = whole_load(run_over("2024-01-01", "2024-04-01"), latest=True, oldest=(True, future))

    assert starts(plan) == ["2024-04-01"] and plan.windows[0].end is None


def test_a_catch_up_in_a_new_month_starts_at_the_high_water_mark_of_the_last_one() -> None:
    """The last load landed up to 21:32 on the last day of March; a run of April catches up the
    rest of March too (in April's window), and counts as contiguous so its mark can move on."""
    mark = month("2024-03-01").end - timedelta(hours=2, minutes=28)
    state = SyncState("jobs", month("2024-01-01").start, mark, mark, "earlier-run")
    plan = plan_stream(JOBS, month("2024-04-01"), includes_latest=True,
                       floor=month("2024-01-01").start, state=state, incremental=True,
                       since=None, overlap=timedelta(minutes=30),
                       now=month("2024-04-01").start + timedelta(hours=8))  # fmt: skip

    assert [(w.start, w.end, w.partition_key) for w in plan.windows] == [
        (mark - timedelta(minutes=30), None, "2024-04-01")
    ]
    assert plan.since <= state.frontier  # what lets the high-water mark advance


def test_a_high_water_mark_stored_in_the_future_is_not_believed() -> None:
    """A mark written ahead of the clock (by a version that let future-dated records move it)
    would skip every change made before that moment: the catch-up starts at now instead."""
    now = month("2024-04-01").start + timedelta(days=6, hours=19, minutes=17)
    ahead = now + timedelta(hours=18, minutes=24)
    state = SyncState("jobs", month("2024-01-01").start, ahead, now, "earlier-run")
    plan = plan_stream(JOBS, month("2024-04-01"), includes_latest=True,
                       floor=month("2024-01-01").start, state=state, incremental=True,
                       since=None, overlap=timedelta(minutes=60), now=now)  # fmt: skip

    assert [w.start for w in plan.windows] == [now - timedelta(minutes=60)]


def test_the_oldest_record_is_asked_for_with_one_request() -> None:
    server = start_sandbox(jobs=40, seed=5, api_key="plan-key", history_days=200)
    try:
        with JobNimbusClient(server.base_url, "plan-key") as client:
            found, at = client.oldest(JOBS)
            requests = client.stats["jobs"]["requests"]
            dates = [r["date_updated"] for r in client.iter_window(JOBS, None, None)]
    finally:
        server.stop()

    assert found and requests == 1
    assert at == datetime.fromtimestamp(min(dates), UTC)
