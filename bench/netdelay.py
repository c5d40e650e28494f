"""A delaying TCP proxy: models a distant server (e.g. a hosted PostgreSQL) on loopback.

    with DelayProxy(target=("127.0.0.1", 5432), delay_ms=5) as proxy:
        url = proxy.rewrite_url("postgresql://postgres@127.0.0.1:5432/db")   # via the proxy
    with DelayProxy.for_postgres(url, delay_ms=5) as proxy:   # TCP or unix-socket (embedded) URL
        url = proxy.rewrite_url(url)

    python -m bench.netdelay --target 127.0.0.1:5432 --delay-ms 5 --port 15432
    python -m bench.netdelay --target /tmp/pgdata/.s.PGSQL.5432 --delay-ms 5   # a unix socket

Every chunk read from either side is written to the other side ``delay_ms`` after it arrived, in
arrival order per direction, so a request/response round trip costs about ``2 * delay_ms`` more
than locally while a bulk stream (COPY) keeps its throughput: it is a latency model, not a
bandwidth cap. One asyncio loop (in a daemon thread, or the main thread from the command line)
serves any number of connections; bounded per-direction queues push back on a fast sender.

It counts **round trips**: a client burst is what the client sends after it last heard from the
server (a statement, a batch of pipelined ones, the startup), each costing one network round trip
on a distant server. Bursts and connections are counted per PostgreSQL `application_name` (read
from the startup packet), so the warehouse and each of Dagster's storages are counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

_CHUNK = 256 * 1024
_QUEUE_CHUNKS = 256  # per direction: at most this many chunks waiting out their delay
_EOF = b""
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def application_name(startup: bytes) -> str:
    """The `application_name` of a PostgreSQL startup packet ("(tls)" when it asks for TLS first,
    "(none)" without one)."""
    if len(startup) >= 8 and int.from_bytes(startup[4:8], "big") in (SSL_REQUEST, GSSENC_REQUEST):
        return "(tls)"
    fields = startup[8 : int.from_bytes(startup[:4], "big")].split(b"\0")
    pairs = dict(zip(fields[::2], fields[1::2], strict=False))
    return pairs.get(b"application_name", b"(none)").decode("utf-8", "replace") or "(none)"


class _Conversation:
    """One proxied connection: who it is and how many times the client spoke after the server."""

    def __init__(self) -> None:
        self.app: str | None = None
        self.client_turn = True  # the next client chunk starts a new burst
        self.bursts = 0


class DelayProxy:
    """Forward ``listen`` (default: a free loopback port) to ``target``, delaying each chunk.

    ``target`` is ``(host, port)`` or the path of a unix socket (the embedded PostgreSQL listens
    on a socket only).
    """

    def __init__(
        self,
        target: tuple[str, int] | str,
        delay_ms: float,
        listen: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        self.target = target
        self.delay = delay_ms / 1000
        self.host, self.port = listen
        self.connections = 0  # accepted so far
        self.open_connections = 0
        self.bytes_up = 0  # client -> target
        self.bytes_down = 0  # target -> client
        self.round_trips = 0  # client bursts, over every connection
        self.by_app: dict[str, dict[str, int]] = {}  # application_name -> connections, bursts
        self.trace: list[tuple[str, bytes]] | None = None  # set to a list: each burst's start
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: set[asyncio.Task] = set()  # one per connection (never cancelled)
        self._pumps: set[asyncio.Task] = set()  # the four per connection, cancelled on stop

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DelayProxy:
        """Start serving in a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._bind())
            except BaseException as e:  # reported to start()'s caller
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"delay-proxy-{self.target}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listener and every proxied connection, and join the thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, on_ready: Callable[[DelayProxy], None] | None = None) -> None:
        """Serve in the calling thread until SIGINT/SIGTERM (the command line)."""

        async def main() -> None:
            await self._bind()
            if on_ready is not None:
                on_ready(self)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            await self._shutdown()

        asyncio.run(main())

    @classmethod
    def for_postgres(
        cls, url: str, delay_ms: float, listen: tuple[str, int] = ("127.0.0.1", 0)
    ) -> DelayProxy:
        """A proxy in front of a PostgreSQL URL's server (a TCP host or ``?host=/socket/dir``)."""
        return cls(postgres_target(url), delay_ms, listen)

    # ------------------------------------------------------------------ helpers
    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def rewrite_url(self, url: str, **params: str) -> str:
        """The same URL (user, password, database, options) pointed at this proxy over TCP;
        ``params`` add or replace query parameters (``sslmode="require"``)."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        dropped = {"host", "port", *params}
        kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in dropped]
        query = urlencode([*kept, *params.items()], safe="/", quote_via=quote)
        return urlunsplit(parts._replace(netloc=f"{netloc}{self.host}:{self.port}", query=query))

    def stats(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "open_connections": self.open_connections,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "round_trips": self.round_trips,
            "by_application": {k: dict(v) for k, v in sorted(self.by_app.items())},
            "delay_ms": self.delay * 1000,
        }

    def reset_counts(self) -> None:
        """Zero the round trips and connections counted so far (between two measured runs)."""
        self.round_trips = 0
        self.by_app = {}

    # ------------------------------------------------------------------ asyncio side
    async def _bind(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=_CHUNK, backlog=512
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        # Cancel the pumps, not the handlers: a cancelled client_connected_cb task makes 3.11's
        # streams module log a spurious CancelledError traceback.
        for task in list(self._pumps):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        self.open_connections += 1
        t_writer: asyncio.StreamWriter | None = None
        try:
            # cancellable at shutdown like the pumps (a client may stall in its opening)
            greeting = asyncio.create_task(self._greet(c_reader, c_writer))
            self._pumps.add(greeting)
            try:
                opening = await greeting
            except (asyncio.CancelledError, asyncio.IncompleteReadError, TimeoutError, OSError):
                return  # stopped, or the client left (or stalled) before the relay began
            finally:
                self._pumps.discard(greeting)
            if opening is None:
                return
            try:
                if isinstance(self.target, str):
                    t_reader, t_writer = await asyncio.open_unix_connection(
                        self.target, limit=_CHUNK
                    )
                else:
                    t_reader, t_writer = await asyncio.open_connection(*self.target, limit=_CHUNK)
            except OSError:
                return  # the client sees its connection closed, as with a refused upstream
            up: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE_CHUNKS)
            down: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE_CHUNKS)
            talk = _Conversation()
            if opening:
                up.put_nowait((asyncio.get_running_loop().time() + self.delay, opening))
                self.bytes_up += len(opening)
                self._count_burst(talk, opening)
            tasks = [
                asyncio.create_task(self._read(c_reader, up, upstream=True, talk=talk)),
                asyncio.create_task(self._send(up, t_writer)),
                asyncio.create_task(self._read(t_reader, down, upstream=False, talk=talk)),
                asyncio.create_task(self._send(down, c_writer)),
            ]
            self._pumps.update(tasks)
            try:
                # both directions end by EOF (half-closes pass through); a reset or broken pipe
                # on either side ends the whole connection
                await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._pumps.difference_update(tasks)
        finally:
            for w in (c_writer, t_writer):
                if w is not None:
                    w.close()
            self.open_connections -= 1
            self._handlers.discard(task)

    async def _greet(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        """Before the relay starts: what the client sent that goes upstream first, or None to
        close the connection. A plain proxy relays everything (``b""``); a subclass may answer
        the client itself first (bench/tlsproxy.py: PostgreSQL's SSLRequest)."""
        return b""

    async def _read(
        self,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes]],
        *,
        upstream: bool,
        talk: _Conversation,
    ) -> None:
        """Stamp each chunk with the time it is due on the other side (arrival + delay), and
        count the client's bursts."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await reader.read(_CHUNK)
            except OSError:
                data = _EOF
            await queue.put((loop.time() + self.delay, data))
            if not data:
                return
            if upstream:
                self.bytes_up += len(data)
                self._count_burst(talk, data)
            else:
                self.bytes_down += len(data)
                self._server_spoke(talk, data)

    def _counts(self, app: str) -> dict[str, int]:
        return self.by_app.setdefault(app, {"connections": 0, "round_trips": 0})

    def _count_burst(self, talk: _Conversation, data: bytes) -> None:
        started = talk.client_turn
        if started:
            talk.client_turn = False
            self.round_trips += 1
            talk.bursts += 1
        if talk.app is None:
            name = application_name(data)
            if name == "(tls)" and talk.bursts == 1:
                return  # libpq asks for TLS first; the startup packet follows the answer
            self._identify(talk, name)
        elif started:
            self._counts(talk.app)["round_trips"] += 1
            if self.trace is not None:
                self.trace.append((talk.app, data[:160]))

    def _identify(self, talk: _Conversation, name: str) -> None:
        talk.app = name
        counts = self._counts(name)
        counts["connections"] += 1
        counts["round_trips"] += talk.bursts  # those before it was known

    def _server_spoke(self, talk: _Conversation, data: bytes) -> None:
        talk.client_turn = True
        if talk.app is None and data[:1] == b"S":
            self._identify(talk, "(tls)")  # TLS accepted: the startup packet is encrypted

    @staticmethod
    async def _send(
        queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    with contextlib.suppress(OSError):
                        writer.write_eof()  # half-close: the other direction keeps flowing
                return
            writer.write(data)
            await writer.drain()  # returns at once unless the receiver is behind


def _target(text: str) -> tuple[str, int] | str:
    if text.startswith("/"):
        return text  # a unix socket
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1"), int(port)


def postgres_target(url: str) -> tuple[str, int] | str:
    """Where a PostgreSQL URL's server listens: ``(host, port)`` or its unix socket's path."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    port = int(query.get("port") or parts.port or 5432)
    host = query.get("host") or parts.hostname or ""
    if not host or host.startswith("/"):
        return f"{host or '/var/run/postgresql'}/.s.PGSQL.{port}"
    return host, port


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The command line this proxy and bench/tlsproxy.py share."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument(
        "--target", required=True, type=_target, metavar="HOST:PORT|/SOCKET", help="where to"
    )
    p.add_argument("--delay-ms", type=float, default=5.0, help="one-way delay (5)")
    p.add_argument("--port", type=int, default=0, help="local port (0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="local address (127.0.0.1)")
    return p


def serve(proxy: DelayProxy, what: str) -> None:
    """Serve until Ctrl-C; once bound, print ``host:port`` alone on stdout (a parent process
    reads the port there) and ``what`` it does on stderr."""
    t = proxy.target
    where = t if isinstance(t, str) else f"{t[0]}:{t[1]}"

    def ready(px: DelayProxy) -> None:
        print(f"# {what}: {px.host}:{px.port} -> {where}; Ctrl-C to stop", file=sys.stderr,
              flush=True)  # fmt: skip
        print(f"{px.host}:{px.port}", flush=True)

    proxy.serve_forever(ready)


def main(argv: Sequence[str] | None = None) -> int:
    p = build_parser(
        "python -m bench.netdelay",
        "Forward a local port to HOST:PORT, delaying every chunk in each direction.",
    )
    args = p.parse_args(argv)
    proxy = DelayProxy(args.target, args.delay_ms, listen=(args.host, args.port))
    serve(proxy, f"delaying {args.delay_ms:g} ms each way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
