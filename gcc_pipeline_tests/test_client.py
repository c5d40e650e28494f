"""The JobNimbus client against the sandbox (and a tiny misbehaving server) over real HTTP.

Run with ``-s`` to see the pull rates.
"""

import bisect
import itertools
import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from gcc_pipeline.jobnimbus import (
    AuthError,
    JobNimbusClient,
    JobNimbusError,
    JobNimbusResource,
)
from gcc_pipeline.sandbox import FaultConfig, SandboxServer, start_sandbox
from gcc_pipeline.streams import STREAMS, stream

KEY = "test-key-7c1d9e0b2a"
EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox(jobs=20_000, seed=3, api_key=KEY)
    yield server
    server.stop()


@pytest.fixture
def server(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox, its faults reset after each test."""
    yield sandbox
    sandbox.faults = FaultConfig()


def fast_client(base_url: str, **kw: Any) -> JobNimbusClient:
    """A client whose backoff is tiny, so fault tests stay fast."""
    opts: dict[str, Any] = {"backoff_factor": 0.01, "backoff_max": 0.1, "max_retries": 8}
    opts.update(kw)
    return JobNimbusClient(base_url, KEY, **opts)


def anchor(server: SandboxServer) -> datetime:
    return datetime.fromtimestamp(server.company.anchor, UTC)


def listed(server: SandboxServer, name: str) -> int:
    """How many records the API lists for a stream (activities: only status changes)."""
    company = server.company
    if name == "activities":
        return sum(1 for a in company.records("activities") if a.get("is_status_change"))
    return company.count(name)


def pull_everything(client: JobNimbusClient, server: SandboxServer) -> tuple[int, float]:
    """Pull every stream in one window each; check completeness; (records, seconds)."""
    total, started = 0, time.perf_counter()
    for s in STREAMS:
        name = s.name
        ids = Counter(rec["jnid"] for rec in client.iter_window(s, *EVERYTHING))
        expected = listed(server, name)
        assert expected > 10_000 or name in ("payments", "workorders", "materialorders")
        assert sum(ids.values()) == expected, name
        assert ids.most_common(1)[0][1] == 1, f"duplicate {name}"
        total += expected
    return total, time.perf_counter() - started


# ---------------------------------------------------------------- completeness and windows


def test_full_pull_without_faults(server: SandboxServer) -> None:
    with fast_client(server.base_url) as client:
        records, seconds = pull_everything(client, server)
        stats = client.stats
        truth = {rec["jnid"] for rec in server.company.records("jobs")}
        assert {jnid for jnid, _ in client.list_ids(stream("jobs"))} == truth
        assert client.count(stream("jobs")) == len(truth) == server.company.count("jobs")
    changes = listed(server, "activities")
    assert changes > 10_000  # the window crosses the offset cap
    assert all(s["retries"] == 0 for s in stats.values())
    # Keyset paging: about one request per page, not one per record or per split.
    assert stats["activities"]["requests"] <= changes // 1000 + 5
    print(
        f"\nfull pull, no faults: {records} records in {seconds:.1f}s = {records / seconds:.0f}/s"
    )


def test_full_pull_with_ten_percent_faults(server: SandboxServer) -> None:
    # slow answers (0.5 s) exceed the read timeout (0.25 s), so they take the timeout path.
    server.faults = FaultConfig.uniform(0.1, retry_after=0, slow_seconds=0.5, seed=7)
    with fast_client(server.base_url, timeout=(2, 0.25)) as client:
        records, seconds = pull_everything(client, server)
        stats = client.stats
    retries = sum(s["retries"] for s in stats.values())
    requests = sum(s["requests"] for s in stats.values())
    assert retries >= 5
    print(
        f"\nfull pull, 10% faults: {records} records in {seconds:.1f}s = {records / seconds:.0f}/s"
        f" ({requests} requests, {retries} retries)"
    )


def test_window_boundaries(server: SandboxServer) -> None:
    end = anchor(server)
    start = end - timedelta(days=20)
    with fast_client(server.base_url) as client:
        for name in ("jobs", "activities"):
            field = stream(name).window_field
            whole = {r["jnid"]: r[field] for r in client.iter_window(stream(name), start, end)}
            assert whole and all(start.timestamp() <= d < end.timestamp() for d in whole.values())
            # Uneven adjacent windows: disjoint, and together exactly the whole.
            cuts = [start, start + timedelta(hours=7), start + timedelta(days=3, seconds=1)]
            cuts += [start + timedelta(days=11), end]
            parts = [
                {r["jnid"] for r in client.iter_window(stream(name), a, b)}
                for a, b in itertools.pairwise(cuts)
            ]
            assert sum(len(p) for p in parts) == len(whole)
            assert set().union(*parts) == set(whole)
            # A record dated exactly at a window's end belongs to the next window only.
            jnid, d = sorted(whole.items(), key=lambda kv: kv[1])[len(whole) // 2]
            edge = datetime.fromtimestamp(d, UTC)
            before = {
                r["jnid"] for r in client.iter_window(stream(name), edge - timedelta(hours=1), edge)
            }
            after = {
                r["jnid"] for r in client.iter_window(stream(name), edge, edge + timedelta(hours=1))
            }
            assert jnid in after and jnid not in before
            assert client.count(stream(name), start, end) == len(whole)


def test_tiny_pages_walk_ties_without_loss(server: SandboxServer) -> None:
    """With 3-record pages, seconds holding several records go through the offset fallback."""
    end = anchor(server)
    start = end - timedelta(hours=12)
    with fast_client(server.base_url) as big, fast_client(server.base_url, page_size=3) as tiny:
        for name in ("activities", "jobs"):
            expected = [r["jnid"] for r in big.iter_window(stream(name), start, end)]
            got = [r["jnid"] for r in tiny.iter_window(stream(name), start, end)]
            assert len(got) == len(set(got)) == len(expected) > 10
            assert set(got) == set(expected)


def test_empty_window_costs_one_request(server: SandboxServer) -> None:
    with fast_client(server.base_url) as client:
        for s in STREAMS:
            assert list(client.iter_window(s, datetime(2001, 1, 1), datetime(2001, 2, 1))) == []
        assert client.stats == {
            s.name: {"requests": 1, "records": 0, "retries": 0, "duplicates": 0} for s in STREAMS
        }
        client.reset_stats()
        assert client.count(stream("jobs"), datetime(2001, 1, 1), datetime(2001, 2, 1)) == 0
        assert client.stats["jobs"]["requests"] == 1


def test_users_settings_and_resource(server: SandboxServer) -> None:
    resource = JobNimbusResource(api_key=KEY, base_url=server.base_url, timeout_seconds=5)
    with resource.get_client() as client:
        users = client.users()
        assert users and all("email" in u for u in users)
        settings = client.settings()
        assert isinstance(settings["workflows"], list)
        assert client.count(stream("jobs")) == server.company.count("jobs")
        assert client.stats["users"]["requests"] == 1


# ---------------------------------------------------------------- errors


def error_text(exc: BaseException) -> str:
    """Everything a log could show of an exception: message, repr, chain and traceback."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.__context__)


def test_bad_key_is_reported_without_the_key(server: SandboxServer) -> None:
    bad = "wrong-key-5e6f7a8b9c"
    client = JobNimbusClient(server.base_url, bad, max_retries=2)
    with pytest.raises(AuthError) as info:
        list(client.iter_window(stream("jobs"), *EVERYTHING))
    message = str(info.value)
    assert "rejected the API key" in message and "HTTP 401" in message and "/jobs" in message
    assert "JOBNIMBUS_API_KEY" in message
    assert info.value.__cause__ is None and info.value.__context__ is None
    for text in (error_text(info.value), repr(client), str(client)):
        assert bad not in text and KEY not in text
    assert client.stats["jobs"]["retries"] == 0  # 401 is not retried
    resource = JobNimbusResource(api_key=bad, base_url=server.base_url)
    assert bad not in repr(resource) and bad not in str(resource)
    client.close()


def test_not_found_names_the_path(server: SandboxServer) -> None:
    with fast_client(server.url + "/nowhere") as client, pytest.raises(JobNimbusError) as info:
        client.count(stream("materialorders"))
    assert "404" in str(info.value) and "/v2/materialorders" in str(info.value)
    assert info.value.status == 404


def test_truncated_bodies_fail_after_retries(server: SandboxServer) -> None:
    server.faults = FaultConfig(rate_truncated=1.0)
    with fast_client(server.base_url, max_retries=2) as client:
        with pytest.raises(JobNimbusError) as info:
            list(client.iter_window(stream("jobs"), *EVERYTHING))
        assert client.stats["jobs"]["retries"] == 2
    message = str(info.value)
    assert "truncated body" in message and "/jobs" in message and "after 2 retries" in message
    assert info.value.__context__ is None and KEY not in error_text(info.value)


def test_server_errors_fail_after_retries(server: SandboxServer) -> None:
    server.faults = FaultConfig(rate_503=1.0)
    with fast_client(server.base_url, max_retries=3) as client:
        with pytest.raises(JobNimbusError, match=r"HTTP 503 for /payments after 3 retries"):
            client.count(stream("payments"))
        assert client.stats["payments"]["retries"] == 3


def test_dropped_connections_fail_after_retries(server: SandboxServer) -> None:
    server.faults = FaultConfig(rate_drop=1.0)
    with (
        fast_client(server.base_url, max_retries=2) as client,
        pytest.raises(JobNimbusError) as info,
    ):
        client.count(stream("contacts"))
    assert "/contacts" in str(info.value) and info.value.__context__ is None
    assert KEY not in error_text(info.value)


def test_retry_after_is_respected(server: SandboxServer) -> None:
    server.faults = FaultConfig(rate_429=1.0, retry_after=0.3)
    with fast_client(server.base_url, max_retries=2, backoff_max=5) as client:
        started = time.perf_counter()
        with pytest.raises(JobNimbusError, match="HTTP 429"):
            client.count(stream("jobs"))
        assert time.perf_counter() - started >= 0.55  # two waits of Retry-After: 0.3


def test_rate_limit(server: SandboxServer) -> None:
    with fast_client(server.base_url, requests_per_minute=600) as client:
        started = time.perf_counter()
        for _ in range(10):
            client.count(stream("jobs"))
        elapsed = time.perf_counter() - started
        assert client.limiter.total_wait == pytest.approx(0.9, abs=0.1)
    assert elapsed >= 0.85


# ---------------------------------------------------------------- a misbehaving server

Responder = Callable[[str, dict[str, str]], tuple[int, bytes]]


@pytest.fixture
def odd_server() -> Iterator[Callable[[Responder], str]]:
    """Start a throwaway HTTP server answering with ``responder``; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(responder: Responder) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                status, body = responder(parts.path, dict(parse_qsl(parts.query)))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/api1"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_non_json_reported_with_excerpt(odd_server: Callable[[Responder], str]) -> None:
    page = b"<html><body>" + b"Down for maintenance. " * 40 + b"</body></html>"
    base = odd_server(lambda path, q: (200, page))
    with fast_client(base, max_retries=2) as client:
        with pytest.raises(JobNimbusError) as info:
            client.count(stream("jobs"))
        assert client.stats["jobs"]["retries"] == 2
    message = str(info.value)
    assert "not JSON" in message and "/jobs" in message and "Down for maintenance" in message
    assert len(message) < 400


def test_missing_list_key_is_retried_then_reported(odd_server: Callable[[Responder], str]) -> None:
    calls: list[str] = []

    def respond(path: str, q: dict[str, str]) -> tuple[int, bytes]:
        calls.append(path)
        if len(calls) == 1:  # first answer lacks the list key, the retry is good
            return 200, b'{"count": 1, "results": []}'
        return 200, json.dumps(
            {"count": 1, "activity": [{"jnid": "a1", "date_created": 1_700_000_000}]}
        ).encode()

    base = odd_server(respond)
    with fast_client(base) as client:
        assert [r["jnid"] for r in client.iter_window(stream("activities"), *EVERYTHING)] == ["a1"]
        assert client.stats["activities"] == {
            "requests": 1,
            "records": 1,
            "retries": 1,
            "duplicates": 0,
        }


def list_responder(rows: list[dict[str, Any]]) -> Responder:
    """A faithful little list endpoint: range filter, ascending date sort, offset cap, count."""
    rows = sorted(rows, key=lambda r: (r["date_updated"], r["jnid"]))
    dates = [r["date_updated"] for r in rows]

    def respond(path: str, q: dict[str, str]) -> tuple[int, bytes]:
        size, offset = int(q["size"]), int(q["from"])
        if offset + size > 10_000:
            return 400, b'{"error": "Result window is too large"}'
        assert q["sort_field"] == "date_updated" and q["sort_direction"] == "asc"
        bounds = json.loads(q.get("filter", '{"must": [{"range": {"date_updated": {}}}]}'))
        rng = bounds["must"][0]["range"]["date_updated"]
        lo, hi = rng.get("gte", -(2**62)), rng.get("lt", 2**62)
        first, last = bisect.bisect_left(dates, lo), bisect.bisect_left(dates, hi)
        page = rows[first + offset : min(last, first + offset + size)]
        return 200, json.dumps({"count": last - first, "results": page}).encode()

    return respond


def test_crowded_seconds_across_the_cap(odd_server: Callable[[Responder], str]) -> None:
    """Thousands of records sharing a second, 13,000 in all: each returned once, none lost."""
    t = 1_700_000_000
    rows = [{"jnid": f"a{i}", "date_updated": t} for i in range(3_500)]
    rows += [{"jnid": f"b{i}", "date_updated": t + 1 + i // 3} for i in range(4_000)]
    rows += [{"jnid": f"c{i}", "date_updated": t + 5_000} for i in range(5_000)]
    rows += [{"jnid": f"d{i}", "date_updated": t + 6_000 + i} for i in range(500)]
    base = odd_server(list_responder(rows))
    with fast_client(base) as client:
        got = [r["jnid"] for r in client.iter_window(stream("jobs"), *EVERYTHING)]
        assert len(got) == len(set(got)) == len(rows)
        requests = client.stats["jobs"]["requests"]
    assert requests <= 25
    with fast_client(base, page_size=7) as client:
        window = (datetime.fromtimestamp(t + 1, UTC), datetime.fromtimestamp(t + 200, UTC))
        got = [r["jnid"] for r in client.iter_window(stream("jobs"), *window)]
        assert sorted(got) == sorted(
            r["jnid"] for r in rows if t + 1 <= r["date_updated"] < t + 200
        )
        assert len(got) == len(set(got))


def test_single_second_over_the_cap_fails_loudly(odd_server: Callable[[Responder], str]) -> None:
    """10,001 records in one second cannot be paged: the client must say so, not truncate."""

    def respond(path: str, q: dict[str, str]) -> tuple[int, bytes]:
        size, offset = int(q["size"]), int(q["from"])
        if offset + size > 10_000:
            return 400, b'{"error": "Result window is too large"}'
        rows = [{"jnid": f"j{offset + i}", "date_updated": 1_700_000_000} for i in range(size)]
        return 200, json.dumps({"count": 10_001, "results": rows}).encode()

    base = odd_server(respond)
    with fast_client(base) as client, pytest.raises(JobNimbusError, match="10001 jobs share"):
        list(client.iter_window(stream("jobs"), *EVERYTHING))


def test_unsorted_answers_fail_loudly(odd_server: Callable[[Responder], str]) -> None:
    rows = [{"jnid": f"j{i}", "date_updated": 1_700_000_000 - i} for i in range(1000)]
    body = json.dumps({"count": 5000, "results": rows}).encode()
    base = odd_server(lambda path, q: (200, body))
    with fast_client(base) as client, pytest.raises(JobNimbusError, match="ignored sort"):
        list(client.iter_window(stream("jobs"), *EVERYTHING))
