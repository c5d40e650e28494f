"""Warehouse connections kept per process, so the steps of a run (and a code server's ticks)
reuse them: over a hosted PostgreSQL a new connection costs several round trips (TCP, TLS, the
startup, session settings) and a catch-up opened dozens.

A borrowed connection comes back to the pool only when it is clean (no transaction open, not
closed); one the server has closed (a restart, an idle timeout) is noticed without a round trip,
because its socket has become readable while idle, and replaced.
"""

import contextlib
import select
import threading
from collections.abc import Iterator
from typing import Any

import psycopg2.extensions

from gcc_pipeline.warehouse.server import connect

IDLE_PER_POOL = 6  # connections kept idle per URL and kind; more are closed when given back
IDLE_IN_ALL = 12  # and in all: a process talking to many databases keeps only the latest

_idle: dict[tuple[str, bool], list[Any]] = {}
_lock = threading.Lock()


def _alive(conn: Any) -> bool:
    """Idle and not spoken to by the server: a readable socket means it said goodbye."""
    if conn.closed:
        return False
    try:
        readable, _, _ = select.select([conn], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _open(url: str, relaxed: bool) -> Any:
    # relaxed: commits do not wait for the disk (a crash loses at most the last moments of
    # what is re-fetched anyway); set at startup, so it costs no round trip.
    return connect(url, options="-c synchronous_commit=off") if relaxed else connect(url)


@contextlib.contextmanager
def borrowed(url: str, *, relaxed: bool = False) -> Iterator[Any]:
    """A connection of the pool (or a new one), in its default state: no transaction open,
    autocommit off. It goes back clean, or is closed."""
    key = (url, relaxed)
    conn = None
    with _lock:
        idle = _idle.setdefault(key, [])
        while idle and conn is None:
            candidate = idle.pop()
            if _alive(candidate):
                conn = candidate
            else:
                candidate.close()
    if conn is None:
        conn = _open(url, relaxed)
    failed = False
    try:
        yield conn
    except BaseException:
        failed = True
        raise
    finally:
        give_back(key, conn, failed=failed)


def give_back(key: tuple[str, bool], conn: Any, *, failed: bool) -> None:
    clean = (
        not failed
        and not conn.closed
        and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    )
    if clean:
        conn.autocommit = False
        with _lock:
            _idle[key] = _idle.pop(key, [])  # the most recent pool goes last (trimmed last)
            idle = _idle.setdefault(key, [])
            if len(idle) < IDLE_PER_POOL:
                idle.append(conn)
                _trim()
                return
    with contextlib.suppress(Exception):
        conn.close()


def _trim() -> None:
    """Close the idle connections of the least recently given back pools beyond IDLE_IN_ALL."""
    while sum(len(v) for v in _idle.values()) > IDLE_IN_ALL:
        oldest = next(k for k, v in _idle.items() if v)
        with contextlib.suppress(Exception):
            _idle[oldest].pop(0).close()
        if not _idle[oldest]:
            del _idle[oldest]


def close_all() -> None:
    """Close every idle connection (tests that restart the server, a process about to fork)."""
    with _lock:
        for idle in _idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
            idle.clear()
