"""Land a stream of API records: raw payloads, normalized rows and quarantine, chunk by chunk.

Each chunk is one transaction (raw events, quarantine and the upsert together), so a crash leaves
whole chunks behind and a rerun converges: raw rows are deduplicated by payload hash and upserts
never let an older payload win.
"""

import contextlib
import hashlib
import io
import json
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

import orjson

from gcc_pipeline.jobnimbus import records
from gcc_pipeline.jobnimbus.records import RecordError
from gcc_pipeline.streams import Stream
from gcc_pipeline.warehouse.copy import copy_into, encode, insert_statement
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.upsert import land_chunk_statement

#: Up to this much staged text a chunk is sent as an INSERT with its landing statement (one
#: round trip); beyond it, COPY's throughput is worth its second round trip.
SMALL_CHUNK_CHARACTERS = 256 * 1024
STAGE_COLUMNS = (
    "entity_type", "entity_id", "payload", "payload_hash", "date_updated", "window_at", "run_id",
    "partition_key", "row", "reason", "payload_excerpt",
)  # fmt: skip


@dataclass
class LandingStats:
    fetched: int = 0
    raw_inserted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: int = 0  # kept raw only: records the table does not hold (plain notes), repeats
    future_dated: int = 0  # window field after the moment the load began (a clock ahead of ours)
    high_water: datetime | None = None  # newest window-field value landed
    reasons: dict[str, int] = field(default_factory=dict)
    # stream -> ids rows of this landing point at (see Table.references)
    referenced: dict[str, set[str]] = field(default_factory=dict)
    # per partition (month): [records fetched, of them quarantined]
    by_month: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: "LandingStats") -> None:
        for name in self.as_metadata():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.high_water and (self.high_water is None or other.high_water > self.high_water):
            self.high_water = other.high_water
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        for stream, ids in other.referenced.items():
            self.referenced.setdefault(stream, set()).update(ids)
        for month, (fetched, quarantined) in other.by_month.items():
            counts = self.by_month.setdefault(month, [0, 0])
            counts[0] += fetched
            counts[1] += quarantined

    def as_metadata(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "raw_inserted": self.raw_inserted,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "future_dated": self.future_dated,
        }

    def describe(self) -> str:
        """One line a person reads: every fetched record is accounted for."""
        parts = [f"{self.fetched} fetched", f"{self.inserted} inserted", f"{self.updated} updated",
                 f"{self.unchanged} unchanged"]  # fmt: skip
        if self.skipped:
            parts.append(f"{self.skipped} kept raw only (not rows of the table)")
        parts.append(f"{self.quarantined} quarantined")
        if self.future_dated:
            parts.append(f"{self.future_dated} dated after the load began")
        return ", ".join(parts)


def _storable(payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """Canonical JSON text (sorted keys, compact, UTF-8), or None with the reason PostgreSQL's
    jsonb would refuse it. orjson is the fast path; it refuses what jsonb refuses too (lone
    surrogates, the NonFinite numbers the client's tolerant decoder marks), and then the
    standard library finds the reason."""
    try:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _storable_slowly(payload)
    if "\\u0000" in text:
        return None, "payload holds a NUL character, which PostgreSQL cannot store"
    return text, ""


def _storable_slowly(payload: Mapping[str, Any]) -> tuple[str | None, str]:
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


def _json_value(value: Any) -> str:
    """What orjson leaves to us in a row: money (Decimal), sent as its exact text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} in a normalized row")


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


_STAGED: "weakref.WeakSet[Any]" = weakref.WeakSet()  # connections whose session has them


def create_staging(conn: Any) -> None:
    """This session's staging tables (staging.sql), once per connection (pooled connections
    keep them from one borrower to the next)."""
    if conn in _STAGED:
        return
    autocommit, conn.autocommit = conn.autocommit, True  # one statement, no BEGIN and COMMIT
    try:
        with conn.cursor() as cur:
            cur.execute(query("staging"))
    finally:
        conn.autocommit = autocommit
    _STAGED.add(conn)


class Lander:
    """Lands one stream's records for one run; call `land` with the record stream (a window).

    Its staging tables are made on the connection with its first chunk (once per connection)."""

    def __init__(
        self,
        conn: Any,
        stream: Stream,
        *,
        run_id: str,
        partition_key: str,
        chunk_size: int = 5000,
        began: datetime | None = None,
        months: Callable[[datetime | None], str] | None = None,
        borrow: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        # `conn`, or `borrow`: a connection for each chunk's write only (a load's windows then
        # share a few connections, each held while PostgreSQL works, not while the API does).
        self.conn = conn
        self.borrow = borrow or (lambda: contextlib.nullcontext(conn))
        self.stream = stream
        self.began = began  # records dated after it are counted as future-dated
        self.run_id = run_id
        self.partition_key = partition_key
        # the month (partition) of each record, by its window field; default: the window's
        self.months = months
        self.chunk_size = chunk_size
        self.stats = LandingStats()
        self._run = encode(run_id)
        self._columns: list[str] = []
        self._statement_for: tuple[str, ...] | None = None
        self._composed: Any = None

    def land(self, stream: Iterable[Mapping[str, Any]]) -> LandingStats:
        """Parse and encode chunk N+1 while the database writes chunk N (one chunk in flight:
        bounded memory, chunks landed in order). psycopg2 releases the GIL while PostgreSQL
        works, so the two overlap even on CPython. Each chunk is one COPY and one statement
        (land_chunk.sql), each its own transaction: a crash leaves whole chunks behind."""
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

    def _quarantine(self, reason: str) -> None:
        self.stats.quarantined += 1
        kind = reason.split(" (")[0]  # "(value)" details vary; the kind is what metadata counts
        self.stats.reasons[kind] = self.stats.reasons.get(kind, 0) + 1

    def _prepare(self, chunk: Sequence[Mapping[str, Any]]) -> "_Prepared":
        lines: list[str] = []
        ids: set[str] = set()
        stream = self.stream
        line = self._line
        references = stream.table.references
        for payload in chunk:
            self.stats.fetched += 1
            entity_id = _entity_id(payload)
            text, problem = _storable(payload)
            if text is None:
                dump = json.dumps(payload, ensure_ascii=True, default=str)
                digest = hashlib.md5(dump.encode()).hexdigest()
                self._quarantine(problem)
                lines.append(line(entity_id[:200], None, digest, None, None, None, problem,
                                  dump[:2000]))  # fmt: skip
                continue
            digest = hashlib.md5(text.encode("utf-8")).hexdigest()
            updated = _safe_epoch(payload, "date_updated")
            window_at = _safe_epoch(payload, stream.window_field)
            try:
                row = stream.parse(payload)
            except RecordError as exc:
                self._quarantine(str(exc))
                lines.append(line(entity_id, text, digest, updated, window_at, None, str(exc),
                                  None))  # fmt: skip
                continue
            if window_at and (self.stats.high_water is None or window_at > self.stats.high_water):
                self.stats.high_water = window_at
            if window_at and self.began and window_at > self.began:
                self.stats.future_dated += 1
            if row is None:  # nothing to normalize (a plain note): kept raw only
                self.stats.skipped += 1
                lines.append(line(entity_id, text, digest, updated, window_at, None, None, None))
                continue
            row["payload_hash"] = digest  # the upsert's version, beside date_updated
            if not self._columns:
                self._columns = list(row)
            if row["id"] in ids:
                self.stats.skipped += 1  # the same jnid twice in a chunk: the newer one wins
            ids.add(row["id"])
            for column, target in references:
                if row.get(column):
                    self.stats.referenced.setdefault(target, set()).add(row[column])
            normalized = orjson.dumps(row, default=_json_value).decode()
            lines.append(line(entity_id, text, digest, updated, window_at, normalized, None, None))
        text = "".join(lines)
        return _Prepared(staged=io.StringIO(text), ids=sorted(ids), size=len(text))

    def _line(
        self,
        entity_id: str,
        text: str | None,
        digest: str,
        updated: datetime | None,
        window_at: datetime | None,
        row: str | None,
        reason: str | None,
        excerpt: str | None,
    ) -> str:
        """One stage_landing row in COPY text format. JSON from orjson holds no raw tab or
        newline (JSON escapes them), so doubling its backslashes is all it needs."""
        return "\t".join((
            self.stream.entity_type, encode(entity_id),
            text.replace("\\", "\\\\") if text is not None else "\\N", digest,
            updated.isoformat() if updated else "\\N",
            window_at.isoformat() if window_at else "\\N", self._run,
            self._month(window_at, quarantined=reason is not None),
            row.replace("\\", "\\\\") if row is not None else "\\N",
            encode(reason), encode(excerpt),
        )) + "\n"  # fmt: skip

    def _month(self, when: datetime | None, *, quarantined: bool) -> str:
        month = self.months(when) if self.months else self.partition_key
        counts = self.stats.by_month.setdefault(month, [0, 0])
        counts[0] += 1
        counts[1] += quarantined
        return encode(month)

    def _write(self, prepared: "_Prepared") -> None:
        """Stage the chunk in stage_landing, then land it in one statement (land_chunk.sql). A
        small chunk (a catch-up's few records, a window's last page) is staged by an INSERT sent
        with that statement, and with the staging tables on a new connection: one round trip,
        one implicit transaction. A large one is staged by COPY."""
        with self.borrow() as conn:
            autocommit, conn.autocommit = conn.autocommit, True  # each statement commits
            try:
                self._write_on(conn, prepared)
            finally:
                if not conn.closed:
                    conn.autocommit = autocommit

    def _write_on(self, conn: Any, prepared: "_Prepared") -> None:
        with conn.cursor() as cur:
            staging = b"" if conn in _STAGED else query("staging").encode() + b"\n"
            land = self._statement().as_string(cur).encode()
            if prepared.size <= SMALL_CHUNK_CHARACTERS:
                stage = insert_statement(cur, "stage_landing", STAGE_COLUMNS, prepared.staged)
                cur.execute(staging + stage + b";\n" + land)
            else:
                if staging:
                    cur.execute(staging)
                copy_into(cur, "stage_landing", STAGE_COLUMNS, prepared.staged)
                cur.execute(land)
            _STAGED.add(conn)
            raw, inserted, written, _ = cur.fetchone()
            self.stats.raw_inserted += raw
            self.stats.inserted += inserted
            self.stats.updated += written - inserted
            self.stats.unchanged += len(prepared.ids) - written
            if prepared.ids and self.stream.table.after_upsert:
                # a per-table step on the rows just written (jobs: their stage)
                cur.execute(query(self.stream.table.after_upsert), {"ids": prepared.ids})

    def _statement(self) -> Any:
        table = self.stream.table
        if self._statement_for != tuple(self._columns):
            self._statement_for = tuple(self._columns)
            self._composed = land_chunk_statement(
                table.name, self._columns or ["id", "payload_hash"], version=table.version,
                touched=table.touched, with_raw=table.keeps_raw,
            )  # fmt: skip
        return self._composed


@dataclass
class _Prepared:
    """A chunk encoded for COPY, ready for the writer thread."""

    staged: io.StringIO  # stage_landing rows
    ids: list[str]  # the ids of its normalized rows
    size: int  # characters staged
