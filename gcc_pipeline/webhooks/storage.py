"""The table of received webhooks (sql/024_webhook_events.sql): what the receiver writes, what the
sensor and the webhook run read. A delivery is a hint: its body is kept for audit, never landed."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gcc_pipeline.warehouse.queries import query

EVENTS = ("created", "modified", "deleted")
KEEP_DAYS = 30  # processed events are kept this long (audit), then purged by a webhook run
# Body fields an automation's template may use to say what happened, and their spellings.
_EVENT_FIELDS = ("event", "action", "trigger", "event_type")
_EVENT_WORDS = {
    "create": "created", "created": "created", "new": "created",
    "modify": "modified", "modified": "modified", "update": "modified", "updated": "modified",
    "edit": "modified", "edited": "modified", "change": "modified", "changed": "modified",
    "delete": "deleted", "deleted": "deleted", "remove": "deleted", "removed": "deleted",
}  # fmt: skip
# JobNimbus record types as they appear in `type`, folded to the registry's entity types.
_TYPE_WORDS = {
    "workorder": "workorder", "work order": "workorder", "work_order": "workorder",
    "materialorder": "materialorder", "material order": "materialorder",
    "material_order": "materialorder",
}  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """One webhook as understood: which record it names (when it names one) and what happened."""

    entity_type: str | None
    jnid: str | None
    event: str | None
    body: Mapping[str, Any]

    @property
    def dedupe_key(self) -> str:
        canonical = json.dumps(
            [self.entity_type, self.jnid, self.event, self.body], sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _word(value: Any, words: Mapping[str, str]) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in words:
        return words[text]
    # "Job Modified", "contact.created": the last word says what happened
    last = text.replace(".", " ").replace("_", " ").split()
    return words.get(last[-1]) if last else None


def entity_type_of(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    return _TYPE_WORDS.get(text, text.replace(" ", ""))


def understand(document: Any, *, type_hint: str | None, event_hint: str | None) -> Delivery:
    """The record a posted document names: the document itself, or its `body` when wrapped (the
    seed's `envelope.body ?? envelope`). URL parameters (type, event) win over the body's fields,
    since an automation's URL is set per trigger."""
    record = document
    if isinstance(document, dict) and isinstance(document.get("body"), dict):
        record = document["body"]
    if not isinstance(record, dict):
        record = {"value": record}
    jnid = record.get("jnid") or record.get("id")
    event = _word(event_hint, _EVENT_WORDS)
    if event is None and isinstance(document, dict):
        for name in _EVENT_FIELDS:
            event = _word(document.get(name), _EVENT_WORDS) or _word(record.get(name), _EVENT_WORDS)
            if event:
                break
    return Delivery(
        entity_type=entity_type_of(type_hint) or entity_type_of(record.get("type")),
        jnid=str(jnid)[:200] if isinstance(jnid, (str, int)) and str(jnid) else None,
        event=event,
        body=record,
    )


def store(conn: Any, delivery: Delivery) -> bool:
    """Commit one delivery (True when new, False for a repeat), before the receiver answers."""
    with conn, conn.cursor() as cur:
        cur.execute(
            query("webhook_store"),
            {"entity_type": delivery.entity_type, "jnid": delivery.jnid,
             "event": delivery.event, "body": json.dumps(delivery.body, default=str),
             "dedupe_key": delivery.dedupe_key},
        )  # fmt: skip
        return cur.fetchone() is not None


@dataclass(frozen=True)
class Pending:
    newest: int | None  # the newest event's id
    oldest_pending: int | None  # the oldest not processed yet
    count: int


def pending(conn: Any) -> Pending:
    with conn, conn.cursor() as cur:
        cur.execute(query("webhook_pending"))
        return Pending(*cur.fetchone())


@dataclass(frozen=True)
class Named:
    entity_type: str
    jnid: str
    deleted: bool  # its latest event in the range says so


def named(conn: Any, after: int, through: int) -> list[Named]:
    with conn, conn.cursor() as cur:
        cur.execute(query("webhook_range"), {"after": after, "through": through})
        return [Named(*row) for row in cur.fetchall()]


def mark_processed(conn: Any, after: int, through: int, run_id: str) -> int:
    with conn, conn.cursor() as cur:
        cur.execute(query("webhook_done"), {"after": after, "through": through, "run_id": run_id})
        return cur.rowcount


def purge(conn: Any, keep_days: int = KEEP_DAYS) -> int:
    """Delete events processed more than `keep_days` ago; returns how many."""
    with conn, conn.cursor() as cur:
        cur.execute(query("webhook_purge"), {"keep_days": keep_days})
        return cur.rowcount
