"""Asset jobs: what `gcc run`, the schedules and the sensors launch, each a named, re-executable
job in the UI. Everything runs in one process per run (no process per step or check): the load
itself is concurrent inside its step."""

from dagster import AssetSelection, define_asset_job

ALL_BUT_RECONCILIATION = AssetSelection.all() - AssetSelection.assets("reconciliation")
ANALYTICS = AssetSelection.groups("analytics")
# Run config selecting the compact console logger of console.py, for the runs `gcc run`, the
# schedules and the sensors launch (a run without logger config, such as a UI materialization,
# uses Dagster's console at dagster.yaml's python_log_level, INFO).
COMPACT_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}

# The whole pipeline: reference tables, every stream, history, then the analytics views (held
# back by a failed blocking check). `gcc run` and the nightly schedule run it.
sync_job = define_asset_job(
    "sync_job",
    selection=ALL_BUT_RECONCILIATION,
    description="Load the JobNimbus streams (incrementally, or whole months), extend the status "
    "history, refresh every analytics view and run every check.",
)

# The same without the views, for frequent runs (automation refreshes the views when it is due).
ingest_job = define_asset_job(
    "ingest_job",
    selection=ALL_BUT_RECONCILIATION - ANALYTICS,
    description="Load what changed in the JobNimbus streams and extend the status history.",
)

reconciliation_job = define_asset_job(
    "reconciliation_job",
    selection=AssetSelection.assets("reconciliation"),
    description="Compare ids and date_updated with the API; reload what filters missed, "
    "mark what disappeared.",
)

# What the webhook sensor launches: the records the pending webhooks name, fetched by id, then
# history and the views they feed (only the views whose inputs changed are refreshed). The stage
# lookup stays (jobs are staged with it; one account/settings request, rebuilt only when it
# changed, and built when `gcc dev` started before any `gcc run`); sales reps (account/users)
# follow the poll's runs.
WEBHOOK_SELECTION = ALL_BUT_RECONCILIATION - AssetSelection.assets("sales_reps")
webhook_job = define_asset_job(
    "webhook_job",
    selection=WEBHOOK_SELECTION,
    description="Fetch the records that received JobNimbus webhooks name (by id, from the API), "
    "land them, extend the status history and refresh the views they feed.",
)

JOBS = [sync_job, ingest_job, reconciliation_job, webhook_job]
