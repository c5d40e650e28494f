"""Daily partitions on date_updated, in the account's time zone, including today."""

from dagster import BackfillPolicy, DailyPartitionsDefinition

from gcc_pipeline.settings import load_settings

_settings = load_settings()

# end_offset=1: today's window exists before it closes, so intraday runs write it.
daily_partitions = DailyPartitionsDefinition(
    start_date=_settings.start_date, timezone=_settings.timezone, end_offset=1
)

# A backfill of years runs as a few large chunks, never one run per day; a failed chunk loses
# at most a year of work, and the client walks each chunk in windows under the offset cap.
backfill_policy = BackfillPolicy.multi_run(max_partitions_per_run=366)
