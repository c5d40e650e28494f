"""Land a stream of API records: raw payloads, normalized rows and quarantine, chunk by chunk.

Each chunk is one transaction (raw events, quarantine and the upsert together), so a crash leaves
whole chunks behind and a rerun converges: raw rows are deduplicated by payload hash and upserts
never let an older payload win.
"""

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from gcc_pipeline.jobnimbus import records
from gcc_pipeline.jobnimbus.records import RecordError
from gcc_pipeline.warehouse.copy import copy_buffer, copy_into
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.upsert import upsert_statement

Parser = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Target:
    """Where one API resource lands: its raw entity type, parser and normalized table."""

    entity_type: str
    parse: Parser
    table: str | None
    window_field: str
    version: str = "date_updated"
    touched: str = "updated_at"
    keeps_raw: bool = True  # the table has a `raw` jsonb copy of the payload


TARGETS: dict[str, Target] = {
    "contacts": Target(
        "contact", records.parse_contact, "contacts", "date_updated", "updated_at", "loaded_at"
    ),
    "jobs": Target("job", records.parse_job, "jobs", "date_updated"),
    "payments": Target("payment", records.parse_payment, "payments", "date_updated"),
    "workorders": Target("workorder", records.parse_workorder, "expenses", "date_updated"),
    "materialorders": Target(
        "materialorder", records.parse_materialorder, "expenses", "date_updated"
    ),
    "activities": Target(
        "activity",
        records.parse_activity,
        "jobnimbus_status_changes",
        "date_created",
        touched="loaded_at",
        keeps_raw=False,
    ),
}

RAW_COLUMNS = (
    "entity_type", "entity_id", "payload", "payload_hash", "date_updated", "window_at", "run_id",
    "partition_key",
)  # fmt: skip
QUARANTINE_COLUMNS = (
    "entity_type", "entity_id", "payload_hash", "reason", "payload_excerpt", "run_id",
    "partition_key",
)  # fmt: skip


@dataclass
class LandingStats:
    fetched: int = 0
    raw_inserted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    max_date_updated: datetime | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "raw_inserted": self.raw_inserted,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }


def _storable(payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """Canonical JSON text, or None with the reason PostgreSQL's jsonb would refuse it."""
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)  # fmt: skip
    except ValueError:
        return None, "payload holds NaN or Infinity, which JSON does not allow"
    if "\\u0000" in text or "\x00" in text:
        return None, "payload holds a NUL character, which PostgreSQL cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None, "payload holds an unpaired UTF-16 surrogate"
    return text, ""


def _entity_id(payload: Mapping[str, Any]) -> str:
    jnid = payload.get("jnid")
    if not isinstance(jnid, str):
        return "" if jnid is None else f"invalid:{hashlib.md5(repr(jnid).encode()).hexdigest()}"
    if len(jnid) > records.MAX_ID_LENGTH:
        return f"invalid:{hashlib.md5(jnid.encode('utf-8', 'replace')).hexdigest()}"
    return jnid


def _chunks(stream: Iterable[Mapping[str, Any]], size: int) -> Iterable[list[Mapping[str, Any]]]:
    """itertools.batched arrives in Python 3.12."""
    iterator = iter(stream)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _safe_epoch(payload: Mapping[str, Any], name: str) -> datetime | None:
    try:
        return records.epoch(payload.get(name), name)
    except RecordError:
        return None


class Lander:
    """Lands one resource's records for one run; call `land` with the record stream."""

    def __init__(
        self, conn: Any, resource: str, *, run_id: str, partition_key: str, chunk_size: int = 5000
    ) -> None:
        self.conn = conn
        self.target = TARGETS[resource]
        self.run_id = run_id
        self.partition_key = partition_key
        self.chunk_size = chunk_size
        self.stats = LandingStats()
        with conn, conn.cursor() as cur:
            cur.execute(query("staging"))

    def land(self, stream: Iterable[Mapping[str, Any]]) -> LandingStats:
        """Parse and encode chunk N+1 while the database writes chunk N (one chunk in flight:
        bounded memory, chunks committed in order). psycopg2 releases the GIL while PostgreSQL
        works, so the two overlap even on CPython."""
        pending: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gcc-landing") as writer:
            for chunk in _chunks(stream, self.chunk_size):
                prepared = self._prepare(chunk)
                if pending is not None:
                    pending.result()
                pending = writer.submit(self._write, prepared)
            if pending is not None:
                pending.result()
        return self.stats

    def _quarantine(
        self, rows: list, entity_id: str, digest: str, reason: str, excerpt: str | None
    ) -> None:
        rows.append((self.target.entity_type, entity_id[:200], digest, reason, excerpt, self.run_id,
                     self.partition_key))  # fmt: skip
        self.stats.quarantined += 1
        kind = reason.split(" (")[0]  # "(value)" details vary; the kind is what metadata counts
        self.stats.reasons[kind] = self.stats.reasons.get(kind, 0) + 1

    def _prepare(self, chunk: Sequence[Mapping[str, Any]]) -> "_Prepared":
        raw_rows: list[tuple] = []
        quarantine_rows: list[tuple] = []
        normalized: list[dict[str, Any]] = []
        target = self.target
        for payload in chunk:
            self.stats.fetched += 1
            entity_id = _entity_id(payload)
            text, problem = _storable(payload)
            if text is None:
                dump = json.dumps(payload, ensure_ascii=True, default=str)
                digest = hashlib.md5(dump.encode()).hexdigest()
                self._quarantine(quarantine_rows, entity_id, digest, problem, dump[:2000])
                continue
            digest = hashlib.md5(text.encode("utf-8")).hexdigest()
            updated = _safe_epoch(payload, "date_updated")
            window_at = _safe_epoch(payload, target.window_field)
            raw_rows.append((target.entity_type, entity_id, text, digest, updated, window_at,
                             self.run_id, self.partition_key))  # fmt: skip
            try:
                row = target.parse(payload)
            except RecordError as exc:
                self._quarantine(quarantine_rows, entity_id, digest, str(exc), None)
                continue
            if updated and (
                self.stats.max_date_updated is None or updated > self.stats.max_date_updated
            ):
                self.stats.max_date_updated = updated
            if target.table and row is not None:  # None: nothing to normalize (a plain note)
                row["payload_hash"] = digest  # the upsert joins stage_raw on it for `raw`
                normalized.append(row)
        columns = list(normalized[0]) if normalized else []
        return _Prepared(
            raw=copy_buffer(raw_rows),
            quarantine=copy_buffer(quarantine_rows) if quarantine_rows else None,
            columns=columns,
            normalized=copy_buffer([r[c] for c in columns] for r in normalized),
            ids=sorted({r["id"] for r in normalized}),
        )

    def _write(self, prepared: "_Prepared") -> None:
        """One transaction per chunk: raw events, quarantine and the upsert together."""
        with self.conn, self.conn.cursor() as cur:
            copy_into(cur, "stage_raw", RAW_COLUMNS, prepared.raw)
            cur.execute(query("land_raw"))
            self.stats.raw_inserted += cur.rowcount
            if prepared.quarantine is not None:
                copy_into(cur, "stage_quarantine", QUARANTINE_COLUMNS, prepared.quarantine)
                cur.execute(query("land_quarantine"))
            if prepared.ids:
                self._upsert(cur, prepared)

    def _upsert(self, cur: Any, prepared: "_Prepared") -> None:
        target = self.target
        assert target.table is not None
        columns = prepared.columns
        staging = f"stage_{target.table}"
        copy_into(cur, staging, columns, prepared.normalized)
        cur.execute(
            upsert_statement(
                target.table,
                staging,
                columns,
                version=target.version,
                touched=target.touched,
                with_raw=target.keeps_raw,
            )
        )
        flags = [new for (new,) in cur.fetchall()]
        inserted = sum(flags)
        self.stats.inserted += inserted
        self.stats.updated += len(flags) - inserted
        self.stats.unchanged += len(prepared.ids) - len(flags)
        if target.table == "jobs":
            cur.execute(query("apply_stages"), {"job_ids": prepared.ids})


@dataclass
class _Prepared:
    """A chunk encoded for COPY, ready for the writer thread."""

    raw: io.StringIO
    quarantine: io.StringIO | None
    columns: list[str]
    normalized: io.StringIO
    ids: list[str]
