"""The webhook receiver: `POST /webhooks/jobnimbus`, answered 2xx only once the delivery is
committed to PostgreSQL, so an acknowledged webhook survives a receiver restart.

JobNimbus does not sign webhooks: the automation sends a shared secret in the `X-JN-Secret`
header (the seed's name, so existing automations keep working), compared in constant time with
JOBNIMBUS_WEBHOOK_SECRET. The secret is never logged, stored or echoed: the access log is ours
(method, path, status, milliseconds; never headers or the query string; deliveries stored at
DEBUG, refusals at INFO) and errors answer a fixed text.
"""

import hmac
import json
import logging
import time
from typing import Any

import psycopg2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gcc_pipeline.settings import ConfigError
from gcc_pipeline.warehouse.pool import borrowed
from gcc_pipeline.webhooks.storage import store, understand

PATH = "/webhooks/jobnimbus"
SECRET_HEADER = "X-JN-Secret"
MAX_BODY = 1024 * 1024  # 1 MiB: a JobNimbus record is a few KiB

log = logging.getLogger("gcc.webhooks")


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": 200 <= status < 300, "message": message, **extra}, status)


async def _body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY (read no further)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: PostgreSQL's jsonb refuses them


def build_app(secret: str, warehouse_url: str) -> Starlette:
    """The receiver over one warehouse. `secret` must be non-empty (checked by the caller)."""
    if not secret:
        raise ValueError("the webhook secret is empty")
    expected = secret.encode()

    def commit(delivery: Any) -> bool:
        with borrowed(warehouse_url) as conn:
            return store(conn, delivery)

    async def receive(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return _answer(401, f"missing or wrong {SECRET_HEADER} header")
        try:
            raw = await _body(request)
        except ClientDisconnect:
            return _answer(400, "the request ended before its body")
        if raw is None:
            return _answer(413, f"body over {MAX_BODY} bytes")
        try:
            document = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError):
            return _answer(400, "body is not JSON")
        delivery = understand(
            document,
            type_hint=request.query_params.get("type"),
            event_hint=request.query_params.get("event"),
        )
        try:
            new = await run_in_threadpool(commit, delivery)
        except psycopg2.DataError:  # JSON that jsonb refuses (a \u0000 in a string)
            return _answer(400, "body is JSON PostgreSQL cannot store")
        except (psycopg2.Error, ConfigError) as exc:  # ConfigError: connect's own (no server)
            # Not acknowledged: the sender may retry, and the poll catches up anyway.
            log.warning("webhook not stored (database: %s)", type(exc).__name__)
            return _answer(503, "not stored: the warehouse is unavailable; retry later")
        return _answer(
            200,
            "stored" if new else "already received",
            entity_type=delivery.entity_type,
            jnid=delivery.jnid,
            duplicate=not new,
        )

    async def health(request: Request) -> JSONResponse:
        return _answer(200, "ok")

    async def logged(request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            response = await receive(request)
        except Exception as exc:  # a fixed answer, never a traceback or the request's headers
            log.error("webhook receiver error: %s", type(exc).__name__)
            response = _answer(500, "internal error")
        # Refusals always; deliveries stored only at DEBUG (a living sandbox posts many).
        log.log(
            logging.DEBUG if response.status_code < 300 else logging.INFO,
            "%s %s %d %.1f ms",
            request.method,
            request.url.path[:100],
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    return Starlette(
        debug=False, routes=[Route(PATH, logged, methods=["POST"]), Route("/health", health)]
    )
