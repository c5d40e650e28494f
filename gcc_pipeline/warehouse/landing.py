"""Land a stream of API records: raw payloads, normalized rows and quarantine, chunk by chunk.

Each chunk is one transaction (raw events, quarantine and the upsert together), so a crash leaves
whole chunks behind and a rerun converges: raw rows are deduplicated by payload hash and upserts
never let an older payload win.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gcc_pipeline.jobnimbus import records
from gcc_pipeline.jobnimbus.records import RecordError
from gcc_pipeline.warehouse.copy import copy_rows
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
    "activities": Target("activity", records.parse_activity, None, "date_created"),
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
        self._columns: list[str] | None = None
        with conn, conn.cursor() as cur:
            cur.execute(query("staging"))

    def land(self, stream: Iterable[Mapping[str, Any]]) -> LandingStats:
        chunk: list[Mapping[str, Any]] = []
        for payload in stream:
            chunk.append(payload)
            if len(chunk) >= self.chunk_size:
                self._land_chunk(chunk)
                chunk = []
        if chunk:
            self._land_chunk(chunk)
        return self.stats

    def _quarantine(
        self, rows: list, entity_id: str, digest: str, reason: str, excerpt: str | None
    ) -> None:
        rows.append((self.target.entity_type, entity_id[:200], digest, reason, excerpt, self.run_id,
                     self.partition_key))  # fmt: skip
        self.stats.quarantined += 1
        self.stats.reasons[reason.split(" (")[0]] = (
            self.stats.reasons.get(reason.split(" (")[0], 0) + 1
        )

    def _land_chunk(self, chunk: list[Mapping[str, Any]]) -> None:
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
            if target.table:
                row["payload_hash"] = digest
                row["raw"] = text
                normalized.append(row)
        with self.conn, self.conn.cursor() as cur:
            copy_rows(cur, "stage_raw", RAW_COLUMNS, raw_rows)
            cur.execute(query("land_raw"))
            self.stats.raw_inserted += cur.rowcount
            if quarantine_rows:
                copy_rows(cur, "stage_quarantine", QUARANTINE_COLUMNS, quarantine_rows)
                cur.execute(query("land_quarantine"))
            if normalized:
                self._upsert(cur, normalized)

    def _upsert(self, cur: Any, rows: list[dict[str, Any]]) -> None:
        target = self.target
        assert target.table is not None
        columns = list(rows[0])
        staging = f"stage_{target.table}"
        copy_rows(cur, staging, columns, ([r[c] for c in columns] for r in rows))
        cur.execute(
            upsert_statement(
                target.table, staging, columns, version=target.version, touched=target.touched
            )
        )
        flags = [new for (new,) in cur.fetchall()]
        inserted = sum(flags)
        distinct = len({r["id"] for r in rows})
        self.stats.inserted += inserted
        self.stats.updated += len(flags) - inserted
        self.stats.unchanged += distinct - len(flags)
        if target.table == "jobs":
            cur.execute(query("apply_stages"), {"job_ids": sorted({r["id"] for r in rows})})
