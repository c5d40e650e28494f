"""The sandbox's HTTP server: JobNimbus API paths, bearer auth, fault injection, admin endpoints.

Real HTTP on loopback (stdlib ``ThreadingHTTPServer``, HTTP/1.1 keep-alive) so clients exercise
their real transport code, including truncated bodies and dropped connections.
"""

from __future__ import annotations

import hmac
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gcc_pipeline.streams import STREAMS

from .clock import LiveClock
from .company import RESOURCES, Company, CompanyConfig
from .faults import KINDS, FaultConfig
from .query import QueryError, list_query
from .records import render

# URL path (below /api1/) -> resource name, from the stream registry (plus the paths without
# "v2/" some clients use); every stream must have a generator in records.py.
ROUTES = {s.path.lstrip("/"): s.name for s in STREAMS} | {
    s.path.rsplit("/", 1)[-1]: s.name for s in STREAMS
}
LIST_KEY = {s.name: s.list_key for s in STREAMS}
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def _dumps(obj: Any) -> bytes:
    # ensure_ascii keeps unpaired surrogates encodable; NaN/Infinity pass through as bare tokens.
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "JobNimbusSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms ACK wait
    timeout = 120  # idle keep-alive connections
    sandbox: SandboxServer
    _truncate = False
    _answered: Callable[[], None] | None = None  # ends the API request being answered

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ------------------------------------------------------------ plumbing
    def _send(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = _dumps(obj)
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self._answered is not None:
            self._answered()  # before the last bytes: the client may ask again once it has them
        self.wfile.write(body)

    def _error(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(code, {"error": message, "message": message, "status": code}, headers)

    def _hangup(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _authorized(self) -> bool:
        m = _BEARER.match(self.headers.get("Authorization", "") or "")
        key = self.sandbox.api_key.encode()
        if m and hmac.compare_digest(m.group(1).encode(), key):
            return True
        self._error(401, "Unauthorized: missing or invalid API key")
        return False

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # ------------------------------------------------------------ verbs
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        self._truncate = False
        try:
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/")
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            body = self._body() if method == "POST" else b""
            if not self._authorized():
                return
            if path.startswith("/sandbox/"):
                self._admin(method, path[len("/sandbox/") :], params, body)
            elif path.startswith("/api1/"):
                with self.sandbox.api_call() as self._answered:
                    if method != "GET":
                        self._error(405, "method not allowed")
                    elif self._fault():
                        self._api(path[len("/api1/") :], params)
                self._answered = None
            else:
                self._error(404, f"no such path: {path[:200]}")
        except QueryError as e:
            self._error(400, str(e))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _fault(self) -> bool:
        """Maybe inject a fault; True when the request should be answered normally."""
        kind = self.sandbox.draw_fault()
        f = self.sandbox.faults
        if kind is None:
            return True
        if kind == "rate_429":
            ra = f.retry_after
            self._error(429, "Too Many Requests", {"Retry-After": f"{ra:g}"})
        elif kind == "rate_500":
            self._error(500, "Internal Server Error")
        elif kind == "rate_503":
            self._error(503, "Service Unavailable", {"Retry-After": f"{f.retry_after:g}"})
        elif kind == "rate_slow":
            time.sleep(f.slow_seconds)
            return True
        elif kind == "rate_truncated":
            self._truncate = True
            return True
        elif kind == "rate_drop":
            self._hangup()
        return False

    def _api(self, sub: str, params: dict[str, str]) -> None:
        co = self.sandbox.company
        if sub == "account/users":
            users = co.users()
            out: Any = {"count": len(users), "users": users}
        elif sub == "account/settings":
            out = co.settings()
        elif sub in ROUTES:
            r = ROUTES[sub]
            count, results = list_query(co, r, params)
            out = {"count": count, LIST_KEY[r]: results}
        else:
            head, _, jnid = sub.rpartition("/")
            rec = _one(co, ROUTES[head], jnid) if head in ROUTES and jnid else None
            if rec is None:
                self._error(404, "not found")
                return
            out = rec
        if self._truncate:
            body = _dumps(out)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self._hangup()
            return
        self._send(200, out)

    def _admin(self, method: str, sub: str, params: dict[str, str], body: bytes) -> None:
        sb = self.sandbox
        co = sb.company
        if sub == "advance" and method == "POST":
            try:
                days = float(params.get("days", "1"))
            except ValueError:
                raise QueryError("days must be a number") from None
            if days < 0:
                raise QueryError("days must not be negative")
            changed = co.advance(days)
            self._send(
                200, {"now": co.now, "now_iso": _iso(co.now), "days": days, "changed": changed}
            )
        elif sub == "state" and method == "GET":
            self._send(200, sb.state())
        elif sub == "reset-stats" and method == "POST":
            self._send(200, sb.reset_stats())
        elif sub == "faults" and method == "POST":
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("body must be a JSON object")
                sb.faults = FaultConfig.from_dict(data)
            except (ValueError, TypeError) as e:
                raise QueryError(f"bad fault config: {e}") from None
            self._send(200, sb.faults.to_dict())
        elif sub == "faults" and method == "GET":
            self._send(200, sb.faults.to_dict())
        else:
            self._error(404, f"no such admin path: {sub[:100]}")


def _one(co: Company, r: str, jnid: str) -> Any:
    """A single record by jnid (what webhook receivers re-fetch)."""
    st = co.state()
    parsed = co.parse_jnid(jnid)
    if parsed and parsed[0] == r and parsed[1] < st.n_normal(r) and st.born_mask(r)[parsed[1]]:
        return render(st, r, [parsed[1]])[0]
    for h in co.hostile[r]:
        if isinstance(h.payload, dict) and h.payload.get("jnid") == jnid:
            return h.payload
    return None


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class SandboxServer:
    """A running (after ``start()``) JobNimbus simulator over one ``Company``."""

    def __init__(
        self,
        company: Company,
        api_key: str = "sandbox-key",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        latency_ms: float = 0.0,
    ) -> None:
        self.company = company
        self.latency_ms = latency_ms
        self.api_key = api_key
        self.host = host
        self.port = port
        self._faults = faults or FaultConfig()
        self._rng = random.Random(self._faults.seed)
        self._rng_lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.clock: LiveClock | None = None
        self._stats_lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.api_requests = 0

    @property
    def faults(self) -> FaultConfig:
        return self._faults

    @faults.setter
    def faults(self, value: FaultConfig) -> None:
        with self._rng_lock:
            self._faults = value
            self._rng = random.Random(value.seed)

    def draw_fault(self) -> str | None:
        f = self._faults
        if not f.active:
            return None
        with self._rng_lock:
            u = self._rng.random()
        acc = 0.0
        for kind in KINDS:
            acc += getattr(f, kind)
            if u < acc:
                return kind
        return None

    @contextmanager
    def api_call(self) -> Iterator[Callable[[], None]]:
        """Count one API request in flight and hold it ``latency_ms`` (a distant API's delay).

        The delay is slept in the request's own thread, so concurrent requests wait in parallel
        and ``max_in_flight`` shows how many a client really had open at once. A request ends
        when its answer starts going out (it yields that end), since a client may ask again the
        moment it has the last byte, before this thread gets to run again.
        """
        with self._stats_lock:
            self.in_flight += 1
            self.api_requests += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        ended = False

        def end() -> None:
            nonlocal ended
            with self._stats_lock:
                if not ended:
                    ended = True
                    self.in_flight -= 1

        try:
            if self.latency_ms > 0:
                time.sleep(self.latency_ms / 1000)
            yield end
        finally:
            end()

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "api_requests": self.api_requests,
                "latency_ms": self.latency_ms,
            }

    def reset_stats(self) -> dict[str, Any]:
        """Zero the request count and restart ``max_in_flight`` from what is open now."""
        with self._stats_lock:
            self.max_in_flight = self.in_flight
            self.api_requests = 0
        return self.stats()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/api1"

    def state(self) -> dict:
        co = self.company
        return {
            "now": co.now,
            "now_iso": _iso(co.now),
            "anchor": co.anchor,
            "counts": {r: co.count(r) for r in RESOURCES},
            "faults": self._faults.to_dict(),
            "config": {"jobs": co.cfg.jobs, "seed": co.cfg.seed, "hostile": co.cfg.hostile},
            **self.stats(),
        }

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        handler = type("SandboxHandler", (_Handler,), {"sandbox": self})
        httpd = ThreadingHTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            daemon=True,
            name=f"jobnimbus-sandbox-{self.port}",
        )
        self._thread.start()
        if self.clock is not None:
            self.clock.start()
        return self

    def stop(self) -> None:
        if self.clock is not None:
            self.clock.stop()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl-C), then stop."""
        self.start()
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_anchor(anchor: datetime | date | str | None) -> datetime | None:
    """None, a date, a datetime or 'YYYY-MM-DD' -> an aware UTC datetime (None: the clock's
    current minute)."""
    if anchor is None:
        return None
    if isinstance(anchor, str):
        anchor = datetime.fromisoformat(anchor)
    if isinstance(anchor, datetime):
        return anchor if anchor.tzinfo else anchor.replace(tzinfo=UTC)
    return datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)


def start_sandbox(
    jobs: int = 2000,
    seed: int = 1,
    api_key: str = "sandbox-key",
    port: int = 0,
    faults: FaultConfig | str | None = None,
    anchor: datetime | date | str | None = None,
    host: str = "127.0.0.1",
    live: bool = False,
    latency_ms: float = 0.0,
    **config: Any,
) -> SandboxServer:
    """Build a company and serve it; returns the started server (call ``stop()``).

    ``live``: the company's clock follows the pipeline's clock (``gcc_pipeline.clock``), so
    leads, status moves and payments arrive as time passes, until the server stops; it never
    runs ahead. ``latency_ms``: a delay before each API answer (a distant API)."""
    cfg = CompanyConfig(jobs=jobs, seed=seed, anchor=parse_anchor(anchor), **config)
    if isinstance(faults, str):
        faults = FaultConfig.parse(faults)
    server = SandboxServer(
        Company(cfg), api_key=api_key, host=host, port=port, faults=faults, latency_ms=latency_ms
    )
    if live:
        server.clock = LiveClock(server.company)
    return server.start()
