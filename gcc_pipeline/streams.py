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
    # Shown in the UI only while gcc_pipeline/catalog.json lacks the table: the table's COMMENT
    # (in the migration creating it) is its description.
    description: str = ""
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
    version="updated_at",  # contacts keep the API's date_updated as updated_at
    touched="loaded_at",
)
JOBS = Table(
    "jobs",
    after_upsert="apply_stages",
    references=(("primary_contact_id", "contacts"),),
)
PAYMENTS = Table(
    "payments",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
EXPENSES = Table(
    "expenses",
    discriminator="source_entity",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
INVOICES = Table(
    "invoices",
    "Invoices (v2 documents): job and contact from related, status, invoice/due/paid-in-full "
    "dates, total, total_paid and due (still owed) as the API gives them.",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
ESTIMATES = Table(
    "estimates",
    "Estimates (v2 documents, several versions per job): job and contact from related, status "
    "as the account names it, estimate date, status-change date, total.",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
TASKS = Table(
    "tasks",
    "Tasks: title, type, the record they relate to (job or contact), assignee (first owner), "
    "start and end (often unset), completed or not, priority.",
    references=(("job_id", "jobs"), ("contact_id", "contacts")),
)
STATUS_CHANGES = Table(
    "jobnimbus_status_changes",
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
    Stream("invoices", "/v2/invoices", "results", "invoice", "date_updated",
           records.parse_invoice, INVOICES),
    Stream("estimates", "/v2/estimates", "results", "estimate", "date_updated",
           records.parse_estimate, ESTIMATES),
    Stream("tasks", "/tasks", "results", "task", "date_updated", records.parse_task, TASKS),
    # Activities never change once written; only status changes are history, so only they are
    # asked for (the list key is 'activity', not 'results').
    Stream("activities", "/activities", "activity", "activity", "date_created",
           records.parse_activity, STATUS_CHANGES, reconciled=False,
           filters=({"term": {"is_status_change": True}},)),
)  # fmt: skip

# Tables the pipeline derives (not one stream's copy): keys and reader visibility live here too.
DERIVED_TABLES: tuple[Table, ...] = (
    Table("sales_reps"),
    Table("workflow_status_lookup", key=("record_type_id", "status_key")),
    Table("job_status_history", key=("job_id", "changed_at", "status_name")),
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
