"""What a webhook run does inside the ingestion step: the records the pending webhooks name are
fetched from the API by id (a webhook is a hint, the API is the truth) and landed like any other
records; the status changes of named jobs come with them, so history is extended in the same run.
No high-water mark moves: the poll still covers everything. A record a deleted-record webhook
named is marked inactive only when the API no longer lists it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gcc_pipeline.streams import Stream
from gcc_pipeline.sync.load import Named
from gcc_pipeline.sync.plan import StreamPlan
from gcc_pipeline.warehouse.queries import stream_statement
from gcc_pipeline.webhooks import storage

JOBS_STREAM, STATUS_CHANGES_STREAM = "jobs", "activities"
LINK_FIELD = "primary.id"  # a job's status-change activities name it as their primary


@dataclass(frozen=True)
class WebhookPlan:
    plans: list[StreamPlan]
    named: Named
    deleted: dict[str, list[str]]  # stream -> ids a deleted-record webhook named
    ignored: dict[str, int]  # entity types no stream copies (tasks, ...) -> records named
    records: int


def plan(
    conn: Any,
    streams: Sequence[Stream],
    *,
    after: int,
    through: int,
    now: datetime,
    partition_key: str,
) -> WebhookPlan:
    """The streams' plans (no windows) and the ids to fetch for events (after, through]. Entity
    types map to streams through the registry, so a stream added later is covered as it is."""
    by_type = {s.entity_type: s for s in streams}
    ids: dict[str, list[str]] = {s.name: [] for s in streams}
    deleted: dict[str, list[str]] = {}
    ignored: dict[str, int] = {}
    rows = storage.named(conn, after, through)
    for row in rows:
        stream = by_type.get(row.entity_type)
        if stream is None:
            ignored[row.entity_type] = ignored.get(row.entity_type, 0) + 1
            continue
        ids[stream.name].append(row.jnid)
        if row.deleted and stream.reconciled:
            deleted.setdefault(stream.name, []).append(row.jnid)
    linked: dict[str, tuple[str, list[str]]] = {}
    if ids.get(JOBS_STREAM) and STATUS_CHANGES_STREAM in ids:
        linked[STATUS_CHANGES_STREAM] = (LINK_FIELD, list(ids[JOBS_STREAM]))
    reason = f"webhooks {after + 1}..{through}"
    plans = [
        StreamPlan(s, since=now, reaches_present=True, end=now, windows=(),
                   reason=f"{reason}: {len(ids[s.name])} named by id")
        for s in streams
    ]  # fmt: skip
    return WebhookPlan(
        plans, Named({k: v for k, v in ids.items() if v}, linked, partition_key), deleted,
        ignored, len(rows),
    )  # fmt: skip


def mark_gone(conn: Any, streams: Sequence[Stream], gone: dict[str, list[str]]) -> list[str]:
    """Mark inactive the named records the API no longer lists; returns the tables changed."""
    changed = []
    with conn, conn.cursor() as cur:
        for stream in streams:
            ids = gone.get(stream.name)
            if not ids:
                continue
            statement = stream_statement("webhook_mark_gone", stream)
            cur.execute(statement, {"ids": ids})
            if cur.rowcount:
                changed.append(stream.table.name)
    return changed
