"""An API stand-in that favours no client: the sandbox's company, every record encoded once up
front, served from sorted arrays, in a process of its own.

    python -m bench.standin --jobs 20000 --history-days 1065 [--latency-ms 250] [--port 0]

The sandbox renders payloads per page and answers some filters faster than others, so a client's
access pattern changes its cost. Here a page costs the same whatever asked for it: a bisection on
the sort field, a slice of pre-encoded JSON and one join, for keyset paging (``gte`` the last
value, ``from=0``) and offset paging alike, with the same 10,000-result window as JobNimbus, the
filters the clients use (a date range, ``is_status_change``, ``jnid`` terms) and an optional delay
per request. It counts the requests it answered and the most in flight (``GET /standin/state``).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

MAX_WINDOW = 10_000
MAX_SIZE = 1_000
DATE_FIELDS = ("date_created", "date_updated")


@dataclass
class Listing:
    """One resource (or its status-change subset) sorted by each date field."""

    records: list[bytes]  # pre-encoded JSON, in creation order
    jnids: dict[str, int]
    keys: dict[str, list[int]]  # field -> sorted values
    order: dict[str, list[int]]  # field -> record index for each sorted value


def _listing(payloads: Sequence[dict]) -> Listing:
    records = [orjson.dumps(p) for p in payloads]
    jnids = {p["jnid"]: i for i, p in enumerate(payloads) if isinstance(p.get("jnid"), str)}
    keys, order = {}, {}
    for field in DATE_FIELDS:
        ranked = sorted(range(len(payloads)), key=lambda i, f=field: int(payloads[i].get(f) or 0))
        order[field] = ranked
        keys[field] = [int(payloads[i].get(field) or 0) for i in ranked]
    return Listing(records, jnids, keys, order)


class Standin:
    def __init__(self, jobs: int, seed: int, history_days: int, anchor: str) -> None:
        from gcc_pipeline.sandbox import Company, CompanyConfig
        from gcc_pipeline.streams import STREAMS

        company = Company(CompanyConfig(
            jobs=jobs, seed=seed, history_days=history_days,
            anchor=datetime.fromisoformat(anchor).replace(tzinfo=UTC),
        ))  # fmt: skip
        self.routes: dict[str, tuple[str, str]] = {}
        self.listings: dict[tuple[str, bool], Listing] = {}
        for stream in STREAMS:
            payloads = list(company.records(stream.name))
            self.listings[(stream.name, False)] = _listing(payloads)
            if stream.name == "activities":
                changes = [p for p in payloads if p.get("is_status_change")]
                self.listings[(stream.name, True)] = _listing(changes)
            for path in (stream.path.lstrip("/"), stream.path.rsplit("/", 1)[-1]):
                self.routes[path] = (stream.name, stream.list_key)
        self.settings = orjson.dumps(company.settings())
        users = company.users()
        self.users = orjson.dumps({"count": len(users), "users": users})
        self.records = sum(len(v.records) for (_, sub), v in self.listings.items() if not sub)
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def page(self, route: str, params: dict[str, str]) -> bytes:
        name, list_key = self.routes[route]
        size = int(params.get("size", MAX_SIZE))
        offset = int(params.get("from", 0))
        if not 0 <= size <= MAX_SIZE or offset < 0:
            raise ValueError("size must be 0..1000 and from not negative")
        if offset + size > MAX_WINDOW:
            raise ValueError(f"from + size must be at most {MAX_WINDOW}")
        field = params.get("sort_field") or "date_created"
        if field not in DATE_FIELDS:
            raise ValueError(f"sort_field {field!r} is not served by the stand-in")
        descending = (params.get("sort_direction") or "desc").lower() == "desc"
        status_changes, ranges, ids = False, {}, None
        for kind, clause in _clauses(params.get("filter")):
            ((target, spec),) = clause.items()
            if kind == "term" and target == "is_status_change" and spec in (True, "true"):
                status_changes = True
            elif kind == "range" and target in DATE_FIELDS:
                ranges[target] = spec
            elif kind == "terms" and target == "jnid":
                ids = spec
            else:
                raise ValueError(f"filter {kind} on {target} is not served by the stand-in")
        listing = self.listings[(name, status_changes and name == "activities")]
        if ids is not None:
            chosen = sorted(listing.jnids[i] for i in ids if i in listing.jnids)
            matches = [i for i in listing.order[field] if i in set(chosen)] if chosen else []
        else:
            lo, hi = 0, len(listing.keys[field])
            for bound, value in (ranges.get(field) or {}).items():
                keys = listing.keys[field]
                if bound == "gte":
                    lo = max(lo, bisect.bisect_left(keys, value))
                elif bound == "gt":
                    lo = max(lo, bisect.bisect_right(keys, value))
                elif bound == "lt":
                    hi = min(hi, bisect.bisect_left(keys, value))
                elif bound == "lte":
                    hi = min(hi, bisect.bisect_right(keys, value))
            other = [f for f in ranges if f != field]
            if other:
                raise ValueError("a range on another field than sort_field is not served")
            matches = listing.order[field][lo : max(lo, hi)]
        count = len(matches)
        if descending:
            matches = matches[::-1]
        chosen_page = matches[offset : offset + size]
        body = b",".join(listing.records[i] for i in chosen_page)
        return b'{"count":%d,"%s":[%s]}' % (count, list_key.encode(), body)


def _clauses(raw: str | None) -> list[tuple[str, dict]]:
    if not raw:
        return []
    doc = json.loads(raw)
    must = doc.get("must", []) if isinstance(doc, dict) else []
    return [next(iter(c.items())) for c in (must if isinstance(must, list) else [must])]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    standin: Standin
    latency: float

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/")
        s = self.standin
        if path == "/standin/state":
            with s.lock:
                state = {"requests": s.requests, "max_in_flight": s.max_in_flight,
                         "records": s.records}  # fmt: skip
            self._send(200, orjson.dumps(state))
            return
        with s.lock:
            s.requests += 1
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            route = path.removeprefix("/api1/")
            if route == "account/settings":
                body = s.settings
            elif route == "account/users":
                body = s.users
            elif route in s.routes:
                try:
                    body = s.page(route, dict(parse_qsl(parts.query)))
                except (ValueError, KeyError) as exc:
                    self._send(400, orjson.dumps({"error": str(exc)}))
                    return
            else:
                self._send(404, b'{"error":"not found"}')
                return
            self._send(200, body)
        finally:
            with s.lock:
                s.in_flight -= 1

    def do_POST(self) -> None:
        if self.path.rstrip("/") == "/standin/reset":
            with self.standin.lock:
                self.standin.requests = 0
                self.standin.max_in_flight = self.standin.in_flight
            self._send(200, b"{}")
        else:
            self._send(404, b"{}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.standin", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--history-days", type=int, default=1065)
    p.add_argument("--anchor", default="2026-11-01")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    standin = Standin(args.jobs, args.seed, args.history_days, args.anchor)
    handler = type("StandinHandler", (_Handler,),
                   {"standin": standin, "latency": args.latency_ms / 1000})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"# stand-in: {standin.records} records encoded in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
    print(f"export JOBNIMBUS_BASE_URL=http://127.0.0.1:{server.server_address[1]}/api1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
