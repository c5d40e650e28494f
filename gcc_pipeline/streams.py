"""The registry of JobNimbus streams: one entry per API resource the warehouse copies.

Everything that has to know the list of resources derives it from here: the client's paths and
list keys, the ingestion asset's specs, landing targets, the key and
reconciliation checks, the weekly reconciliation, the reader role's grants, the run summary and
the sandbox's routes. Adding a resource is an entry here, a parser in `jobnimbus/records.py`, a
migration creating its table, a generator in the sandbox and its tests (README: "Adding a
JobNimbus resource").
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gcc_pipeline.jobnimbus import records

Parser = Callable[[Mapping[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Table:
    """A warehouse table and how rows are kept in it."""

    name: str
    description: str
    key: tuple[str, ...] = ("id",)
    version: str = "date_updated"  # an upsert never replaces a row with an older version
    touched: str = "updated_at"  # set to now() whenever the row changes here
    keeps_raw: bool = True  # has a `raw` jsonb copy of its payload
    reader_visible: bool = True  # `gcc db grant-reader` lets dashboards read it
    discriminator: str | None = None  # column naming the stream of a row, when several feed it
    after_upsert: str | None = None  # sql/load statement run on the ids each chunk upserted
    # (column, stream) pairs: a row's id in `column` names a record of `stream`. After a load the
    # records the warehouse lacks are fetched by id, so a payment whose job last changed before
    # GCC_START_DATE still finds its job.
    references: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stream:
    """One JobNimbus list resource, pulled by windows of its `window_field`."""

    name: str
    path: str
    list_key: str
    entity_type: str  # jobnimbus_raw_events.entity_type, and the discriminator value
    window_field: str
    parse: Parser  # payload -> row of `table`, None for a record the table does not keep
    table: Table
    reconciled: bool = True  # the weekly id comparison covers it (records that never change: no)
    filters: tuple[Mapping[str, Any], ...] = ()  # extra API filter clauses on every list query


CONTACTS = Table(
    "contacts",
    "Customers and other contacts, one row per jnid; lead_source is the contact's source.",
    version="updated_at",  # contacts keep the API's date_updated as updated_at
    touched="loaded_at",
)
JOBS = Table(
    "jobs",
    "Jobs with their stage from workflow_status_lookup (record type + status name) and flags "
    "that follow the stage; date_sold/date_completed come from job_status_history.",
    after_upsert="apply_stages",
    references=(("primary_contact_id", "contacts"),),
)
PAYMENTS = Table(
    "payments",
    "Payments: job from related[type=job] (primary may be an invoice); net = total - credit.",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
EXPENSES = Table(
    "expenses",
    "Job costs: one row per work order (labor, or subcontractor) and per material order "
    "(materials, vendor = supplier); amount = total_line_item_cost.",
    discriminator="source_entity",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
STATUS_CHANGES = Table(
    "jobnimbus_status_changes",
    "Status-change activities parsed once at landing (job, previous and new status, when); "
    "job_status_history is built from them.",
    touched="loaded_at",
    keeps_raw=False,
    reader_visible=False,
)

STREAMS: tuple[Stream, ...] = (
    Stream("contacts", "/contacts", "results", "contact", "date_updated",
           records.parse_contact, CONTACTS),
    Stream("jobs", "/jobs", "results", "job", "date_updated", records.parse_job, JOBS),
    Stream("payments", "/payments", "results", "payment", "date_updated",
           records.parse_payment, PAYMENTS),
    Stream("workorders", "/v2/workorders", "results", "workorder", "date_updated",
           records.parse_workorder, EXPENSES),
    Stream("materialorders", "/v2/materialorders", "results", "materialorder", "date_updated",
           records.parse_materialorder, EXPENSES),
    # Activities never change once written; only status changes are history, so only they are
    # asked for (the list key is 'activity', not 'results').
    Stream("activities", "/activities", "activity", "activity", "date_created",
           records.parse_activity, STATUS_CHANGES, reconciled=False,
           filters=({"term": {"is_status_change": True}},)),
)  # fmt: skip

# Tables the pipeline derives (not one stream's copy): keys and reader visibility live here too.
DERIVED_TABLES: tuple[Table, ...] = (
    Table("sales_reps", "Sales reps from account/users and every rep seen on a record."),
    Table(
        "workflow_status_lookup",
        "Stage of every (record type, status name) from the mapping file and account/settings.",
        key=("record_type_id", "status_key"),
    ),
    Table(
        "job_status_history",
        "One row per status a job entered (its creation status, then every change).",
        key=("job_id", "changed_at", "status_name"),
    ),
)

# Tables only the pipeline reads: raw payloads, quarantine, bookkeeping.
PRIVATE_TABLES = (
    "jobnimbus_raw_events", "jobnimbus_quarantine", "jobnimbus_ingestion_log",
    "jobnimbus_sync_state", "gcc_cursors", "gcc_run_failures", "gcc_schema_migrations",
    "jobnimbus_webhook_events",
)  # fmt: skip


def stream_tables() -> tuple[Table, ...]:
    """Tables fed by streams, in stream order, each once."""
    return tuple(dict.fromkeys(s.table for s in STREAMS))


def all_tables() -> tuple[Table, ...]:
    return (*stream_tables(), *DERIVED_TABLES)


def streams_of(table: Table) -> tuple[Stream, ...]:
    return tuple(s for s in STREAMS if s.table == table)


def stream(name: str) -> Stream:
    for s in STREAMS:
        if s.name == name:
            return s
    raise KeyError(f"no JobNimbus stream {name!r}; known: {[s.name for s in STREAMS]}")
