"""HTTP client for the JobNimbus API: windows, keyset paging, retries, rate limit, stats.

Paging never relies on offsets past the API's 10,000 cap: a window is walked by keyset on its date
field (sorted ascending, ``gte`` the last value seen, ``from=0``), and only a single second holding
more than one page falls back to offset paging, which fails loudly past the cap. Transport faults
(429, 5xx, connect/read errors) are retried by urllib3's ``Retry`` on the session adapter; bodies
that arrive truncated or malformed are retried by the same ``Retry`` object's ``increment`` and
``sleep`` so one budget and one backoff policy cover both.

The client knows paths, not resources: callers pass a ``Listing`` (the registry's ``Stream``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from .errors import AuthError, JobNimbusError, NotFoundError, excerpt
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

#: The API answers an error when ``from + size`` exceeds this, so no query may page past it.
OFFSET_CAP = 10_000
#: Largest page the API serves.
MAX_PAGE_SIZE = 1_000
#: jnids asked for in one list query (a `terms` filter): the filter travels in the URL, and 100
#: ids keep it near 2 KB, well inside what proxies in front of an API accept.
IDS_PER_REQUEST = 100
USERS_PATH = "/account/users"
SETTINGS_PATH = "/account/settings"
USER_AGENT = "gcc-pipeline/0.1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.ConnectionError,  # includes read timeouts while streaming the body
)

Timeout = float | tuple[float, float]
ShapeCheck = Callable[[Any], str | None]


class Listing(Protocol):
    """What the client needs of a list resource (the registry's `Stream` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def list_key(self) -> str: ...
    @property
    def window_field(self) -> str: ...
    @property
    def filters(self) -> Sequence[Mapping[str, Any]]: ...


class _Retry(Retry):
    """urllib3's ``Retry``, tolerant of a malformed ``Retry-After``.

    urllib3 accepts only whole seconds or an HTTP date and otherwise raises ``InvalidHeader``,
    failing the request outright; here ``0.5`` is honoured and garbage falls back to backoff.
    """

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            try:
                seconds = float(retry_after)
            except ValueError:
                return 0.0
            return min(max(seconds, 0.0), float(self.retry_after_max))


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def transport_reason(exc: BaseException, base_url: str) -> str:
    """What went wrong under requests' and urllib3's wrappers, whole and short: "cannot connect
    to 127.0.0.1:9 (Connection refused)", "timed out", rather than a cut pool repr."""
    host = urlsplit(base_url).netloc or base_url
    text = str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        kind = "connecting" if isinstance(exc, requests.exceptions.ConnectTimeout) else "reading"
        return f"timed out {kind} {host}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS to {host} failed ({excerpt(text.rsplit(': ', 1)[-1], 120)})"
    found = _ERRNO.search(text)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if found:
            return f"cannot connect to {host} ({found.group(1).strip()})"
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return f"{host} closed the connection without answering"
        return f"cannot connect to {host} ({type(exc).__name__})"
    return f"{type(exc).__name__}: {excerpt(text)}"


def to_epoch(value: datetime) -> int:
    """Unix seconds for a window bound; naive datetimes are taken as UTC.

    Rounded up, so that ``[start, end)`` over integer-second dates keeps its meaning when a bound
    carries a fraction of a second.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.ceil(value.timestamp())


class NonFinite(float):
    """NaN or Infinity as some servers write them (not JSON): kept, and marked, so landing can
    quarantine the record instead of storing a number jsonb cannot hold."""


def decode(body: bytes) -> Any:
    """JSON through orjson; what it refuses (NaN, lone surrogates, huge integers) through the
    standard library, which accepts them."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body, parse_constant=NonFinite)


def _bound(value: datetime | None) -> int | None:
    return None if value is None else to_epoch(value)


def _date(record: Any, field: str) -> int | None:
    """The record's date as Unix seconds; 0 when unset or unreadable, None for a non-object."""
    if not isinstance(record, dict):
        return None
    value = record.get(field) or 0
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _identity(record: Any) -> Hashable:
    """What de-duplication keys on: the ``jnid``, or for a record without one its content."""
    jnid = record.get("jnid") if isinstance(record, dict) else None
    if isinstance(jnid, str | int) and not isinstance(jnid, bool):
        return jnid
    content = json.dumps(record, sort_keys=True, default=str).encode("utf-8", "surrogatepass")
    return ("content", hashlib.sha256(content).hexdigest())


def _list_shape(listing: Listing) -> ShapeCheck:
    def check(data: Any) -> str | None:
        if not isinstance(data, dict):
            return "JSON that is not an object"
        if not isinstance(data.get(listing.list_key), list):
            return f"JSON without the list key {listing.list_key!r}"
        if not isinstance(data.get("count"), int):
            return "JSON without an integer 'count'"
        return None

    return check


def _count_shape(data: Any) -> str | None:
    ok = isinstance(data, dict) and isinstance(data.get("count"), int)
    return None if ok else "JSON without an integer 'count'"


def _object_shape(data: Any) -> str | None:
    return None if isinstance(data, dict) else "JSON that is not an object"


def _users_shape(data: Any) -> str | None:
    if isinstance(data, list) or (isinstance(data, dict) and isinstance(data.get("users"), list)):
        return None  # a bare list of users is tolerated
    return "JSON without the list key 'users'"


class JobNimbusClient:
    """A synchronous JobNimbus API client; one per thread (a ``requests.Session`` underneath).

    Clients of one run may share a ``RateLimiter`` so the limit holds across threads.
    ``stats`` counts, per resource, logical ``requests`` (a page, a count), ``records`` yielded and
    ``retries`` (extra HTTP attempts), so HTTP attempts = requests + retries.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        *,
        timeout: Timeout = (5, 30),
        max_retries: int = 6,
        backoff_factor: float = 0.5,
        backoff_max: float = 60,
        backoff_jitter: float | None = None,
        requests_per_minute: float = 0,
        limiter: RateLimiter | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not api_key:
            raise AuthError("No JobNimbus API key given; set JOBNIMBUS_API_KEY")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.max_retries = max_retries
        self._retry = _Retry(
            total=max_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            backoff_jitter=backoff_factor if backoff_jitter is None else backoff_jitter,
            respect_retry_after_header=True,
            retry_after_max=backoff_max,  # type: ignore[arg-type]  # honoured up to the cap
            raise_on_status=False,  # hand back the last 429/5xx so the error names status and body
        )
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=self._retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )
        self.limiter = limiter or RateLimiter(requests_per_minute)
        self._stats: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------------ lifecycle and reporting

    def __repr__(self) -> str:
        return f"JobNimbusClient(base_url={self.base_url!r}, page_size={self.page_size})"

    __str__ = __repr__

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Per-resource counters: ``requests``, ``records``, ``retries`` (a copy)."""
        return {name: dict(counts) for name, counts in self._stats.items()}

    def reset_stats(self) -> None:
        self._stats.clear()

    def _bump(self, resource: str, key: str, n: int = 1) -> None:
        counts = self._stats.setdefault(
            resource, {"requests": 0, "records": 0, "retries": 0, "duplicates": 0}
        )
        counts[key] += n

    # ------------------------------------------------------------------ public reads

    def iter_window(
        self, listing: Listing, start: datetime | None, end: datetime | None
    ) -> Iterator[dict[str, Any]]:
        """Yield every record whose window field lies in ``[start, end)``, each ``jnid`` once.

        ``None`` leaves that side open. Streams page by page; an empty window costs one request.
        """
        yield from self._walk(listing, _bound(start), _bound(end), fields=None)

    def list_ids(
        self, listing: Listing, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[tuple[str, int]]:
        """Yield ``(jnid, date_updated)`` for reconciliation, asking only for those fields."""
        fields = list(dict.fromkeys(["jnid", "date_updated", listing.window_field]))
        for record in self._walk(listing, _bound(start), _bound(end), fields=",".join(fields)):
            jnid = record.get("jnid") if isinstance(record, dict) else None
            if jnid is not None:  # a record without an id cannot be reconciled
                yield str(jnid), _date(record, "date_updated") or 0

    def fetch_ids(self, listing: Listing, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The records with these jnids (whatever their dates), by list queries with a `terms`
        filter on `jnid`: one request per 100 ids, however long ago the records changed. An id
        the API does not list (a hard-deleted record) is simply not yielded."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            batch = wanted[start : start + IDS_PER_REQUEST]
            params = self._list_params(listing, None, None, offset=0, size=len(batch))
            must = json.loads(params.get("filter", '{"must": []}'))["must"]
            must.append({"terms": {"jnid": batch}})
            params["filter"] = json.dumps({"must": must}, separators=(",", ":"))
            data = self._get(listing.name, listing.path, params, _list_shape(listing))
            asked = set(batch)
            for record in data[listing.list_key]:
                if isinstance(record, dict) and record.get("jnid") in asked:
                    asked.discard(record["jnid"])  # each id once, whatever the server repeats
                    self._bump(listing.name, "records")
                    yield record

    def fetch_linked(
        self, listing: Listing, field: str, ids: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """The records whose `field` (such as `primary.id`) is one of `ids`: the status changes
        of jobs a webhook named. A `terms` filter per 100 ids, paged by offset (a job has tens
        of status changes, never thousands); each record once."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        seen: set[str] = set()
        size = self.page_size
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            batch = wanted[start : start + IDS_PER_REQUEST]
            offset = 0
            while True:
                params = self._list_params(listing, None, None, offset=offset, size=size)
                must = json.loads(params.get("filter", '{"must": []}'))["must"]
                must.append({"terms": {field: batch}})
                params["filter"] = json.dumps({"must": must}, separators=(",", ":"))
                data = self._get(listing.name, listing.path, params, _list_shape(listing))
                page = data[listing.list_key]
                for record in page:
                    jnid = record.get("jnid") if isinstance(record, dict) else None
                    if isinstance(jnid, str) and jnid not in seen:
                        seen.add(jnid)
                        self._bump(listing.name, "records")
                        yield record
                offset += len(page)
                if len(page) < size or offset >= int(data.get("count", offset)):
                    break

    def count(
        self, listing: Listing, start: datetime | None = None, end: datetime | None = None
    ) -> int:
        """Number of records in ``[start, end)`` (or all), via one ``size=0`` request."""
        params = self._list_params(listing, _bound(start), _bound(end), offset=0, size=0)
        data = self._get(listing.name, listing.path, params, _count_shape)
        return int(data["count"])

    def oldest(self, listing: Listing) -> tuple[bool, datetime | None]:
        """(whether the listing has any record, the oldest window-field value when readable):
        one ``size=1`` request, so a load never pages through months before the first record."""
        field = listing.window_field
        page, _ = self._page(listing, None, None, 0, 1, fields=f"jnid,{field}")
        if not page:
            return False, None
        seconds = _date(page[0], field)
        return True, (datetime.fromtimestamp(seconds, UTC) if seconds is not None else None)

    def users(self) -> list[dict[str, Any]]:
        """All users of the account (sales reps' names and emails)."""
        data = self._get("users", USERS_PATH, {}, _users_shape)
        users = data if isinstance(data, list) else data["users"]
        self._bump("users", "records", len(users))
        return users

    def settings(self) -> dict[str, Any]:
        """The account settings object (workflows with their statuses, the time zone)."""
        data = self._get("settings", SETTINGS_PATH, {}, _object_shape)
        self._bump("settings", "records", 1)
        return data

    # ------------------------------------------------------------------ paging

    @staticmethod
    def _list_params(
        listing: Listing,
        lo: int | None,
        hi: int | None,
        *,
        offset: int,
        size: int,
        fields: str | None = None,
    ) -> dict[str, Any]:
        field = listing.window_field
        params: dict[str, Any] = {
            "size": size,
            "from": offset,
            "sort_field": field,
            "sort_direction": "asc",
        }
        bounds: dict[str, int] = {}
        if lo is not None:
            bounds["gte"] = lo
        if hi is not None:
            bounds["lt"] = hi
        must = [*listing.filters, *([{"range": {field: bounds}}] if bounds else [])]
        if must:
            params["filter"] = json.dumps({"must": must}, separators=(",", ":"))
        if fields:
            params["fields"] = fields
        return params

    def _page(
        self,
        listing: Listing,
        lo: int | None,
        hi: int | None,
        offset: int,
        size: int,
        fields: str | None,
    ) -> tuple[list[dict[str, Any]], int]:
        params = self._list_params(listing, lo, hi, offset=offset, size=size, fields=fields)
        data = self._get(listing.name, listing.path, params, _list_shape(listing))
        page: list[dict[str, Any]] = data[listing.list_key]
        return page, int(data.get("count", len(page)))

    def _walk(
        self, listing: Listing, lo: int | None, hi: int | None, fields: str | None
    ) -> Iterator[dict[str, Any]]:
        """Keyset walk of ``[lo, hi)``: each query starts at ``from=0`` with ``gte`` the cursor.

        The cursor moves to the last (largest) date of each page; records sharing that date are
        fetched again and dropped by ``jnid``. A page whose records all share one second cannot
        move the cursor, so that second is paged by offset (see ``_walk_second``).
        """
        field = listing.window_field
        seen: dict[Hashable, int | None] = {}
        cursor = lo
        while hi is None or cursor is None or cursor < hi:
            page, count = self._page(listing, cursor, hi, 0, self.page_size, fields)
            yield from self._fresh(listing, page, lo, hi, seen)
            if len(page) < self.page_size or count <= len(page):
                return
            dates = [d for d in (_date(r, field) for r in page) if d is not None]
            if not dates:
                raise JobNimbusError(f"A {listing.name} page held no records", path=listing.path)
            first, last = dates[0], dates[-1]
            if first == last:
                yield from self._walk_second(listing, last, fields, lo, hi, seen)
                cursor = last + 1
            else:
                cursor = last
            # Only records dated at or after the cursor can come back: forgetting the others keeps
            # memory flat however large the window (a backfill's window is the whole range).
            for identity in [k for k, d in seen.items() if d is not None and d < cursor]:
                del seen[identity]

    def _walk_second(
        self,
        listing: Listing,
        second: int,
        fields: str | None,
        lo: int | None,
        hi: int | None,
        seen: dict[Hashable, int | None],
    ) -> Iterator[dict[str, Any]]:
        """Offset-page the records of one second; more than the offset cap cannot be read."""
        offset = 0
        while True:
            size = min(self.page_size, OFFSET_CAP - offset)
            page, count = self._page(listing, second, second + 1, offset, size, fields)
            if count > OFFSET_CAP:
                when = datetime.fromtimestamp(second, UTC).isoformat()
                raise JobNimbusError(
                    f"{count} {listing.name} share {listing.window_field} = {second} ({when}); "
                    f"the API cannot page past {OFFSET_CAP} matches and no narrower window exists",
                    path=listing.path,
                )
            yield from self._fresh(listing, page, lo, hi, seen)
            offset += len(page)
            if not page or offset >= count:
                return

    def _fresh(
        self,
        listing: Listing,
        page: list[dict[str, Any]],
        lo: int | None,
        hi: int | None,
        seen: dict[Hashable, int | None],
    ) -> Iterator[dict[str, Any]]:
        """Records of a page not yet yielded, checked against the window and the sort order.

        Keyset paging is only sound when the server sorts ascending, so a page out of order is an
        error rather than a silent gap. Records outside the window (an unreliable server filter)
        are dropped: they belong to another window.
        """
        name, field = listing.name, listing.window_field
        previous = None
        for record in page:
            value = _date(record, field)
            if value is not None:
                if previous is not None and value < previous:
                    raise JobNimbusError(
                        f"JobNimbus ignored sort_field={field} ascending for {name}; "
                        "keyset paging would miss records",
                        path=listing.path,
                    )
                previous = value
                if (lo is not None and value < lo) or (hi is not None and value >= hi):
                    log.warning("Dropping a %s with %s=%s outside the window", name, field, value)
                    continue
            identity = _identity(record)
            if identity in seen:
                if seen[identity] == value:
                    continue  # the same record again, re-read at a page boundary
                # Another version of a record already yielded (a duplicate jnid with other
                # content, or a change during the walk): pass it on, the newest version wins.
                self._bump(name, "duplicates")
            seen[identity] = value
            self._bump(name, "records")
            yield record

    # ------------------------------------------------------------------ one logical request

    def _get(self, name: str, path: str, params: dict[str, Any], shape: ShapeCheck) -> Any:
        """GET ``path`` and return its JSON, retrying transport and body faults on one budget.

        Raises outside ``except`` blocks so no requests exception (whose request carries the
        Authorization header) is chained onto ours.
        """
        state = self._retry
        self._bump(name, "requests")
        while True:
            with self.limiter.in_flight():
                response = self._send(name, path, params, state)
                state = self._fold_adapter_retries(name, state, response)
                body, problem = self._read(response)
            status = response.status_code
            if not 200 <= status < 300:
                raise self._status_error(status, path, body, len(state.history))
            data, problem = self._decode(body, problem, shape)
            if problem is None:
                return data
            state = self._retry_body(name, state, path, problem, body, status)

    def _send(
        self, name: str, path: str, params: dict[str, Any], state: Retry
    ) -> requests.Response:
        """One request; the adapter has already retried transport faults when this raises."""
        self.limiter.acquire()
        error: JobNimbusError | None = None
        try:
            return self._session.get(
                self.base_url + path, params=params, timeout=self.timeout, stream=True
            )
        except requests.RequestException as exc:
            error = JobNimbusError(
                f"JobNimbus request to {path} failed after retries: "
                f"{self._redact(transport_reason(exc, self.base_url))}",
                path=path,
            )
        self._bump(name, "retries", max(0, state.total or 0))
        raise error

    def _fold_adapter_retries(self, name: str, state: Retry, response: requests.Response) -> Retry:
        """Count the adapter's retries against this request's budget and backoff history."""
        used = getattr(response.raw, "retries", None)
        if used is None or not used.history:
            return state
        self._bump(name, "retries", len(used.history))
        return state.new(
            total=(state.total or 0) - len(used.history), history=state.history + used.history
        )

    @staticmethod
    def _decode(body: bytes, problem: str | None, shape: ShapeCheck) -> tuple[Any, str | None]:
        if problem is not None:
            return None, problem
        try:
            data = decode(body)
        except ValueError:
            return None, "a body that is not JSON"
        return data, shape(data)

    def _retry_body(
        self, name: str, state: Retry, path: str, problem: str, body: bytes, status: int
    ) -> Retry:
        """Spend one retry on a bad body (backing off), or raise when the budget is gone."""
        exhausted = False
        try:
            state = state.increment(method="GET", url=path)
        except MaxRetryError:
            exhausted = True
        if exhausted or state.is_exhausted():
            raise JobNimbusError(
                f"JobNimbus sent {problem} for {path} after {len(state.history)} retries: "
                f"{self._redact(excerpt(body))!r}",
                path=path,
                status=status,
            )
        log.warning("JobNimbus sent %s for %s; retrying", problem, path)
        self._bump(name, "retries")
        state.sleep()
        return state

    @staticmethod
    def _read(response: requests.Response) -> tuple[bytes, str | None]:
        """Read the whole body, keeping what arrived if the connection broke mid-way."""
        chunks: list[bytes] = []
        problem = None
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                chunks.append(chunk)
        except _BODY_ERRORS as exc:
            problem = f"a truncated body ({type(exc).__name__})"
        finally:
            response.close()
        return b"".join(chunks), problem

    def _status_error(self, status: int, path: str, body: bytes, retries: int) -> JobNimbusError:
        if status in (401, 403):
            return AuthError(
                f"JobNimbus rejected the API key (HTTP {status}) for {path}; "
                "check JOBNIMBUS_API_KEY",
                path=path,
                status=status,
            )
        if status == 404:
            return NotFoundError(
                f"JobNimbus has no {path} (HTTP 404); check JOBNIMBUS_BASE_URL ({self.base_url})",
                path=path,
                status=status,
            )
        after = f" after {retries} retries" if status in RETRY_STATUSES else ""
        return JobNimbusError(
            f"JobNimbus answered HTTP {status} for {path}{after}: {self._redact(excerpt(body))!r}",
            path=path,
            status=status,
        )

    def _redact(self, text: str) -> str:
        """Blank the key out of server-provided text, in case a server ever echoes it back."""
        key = str(self._session.headers.get("Authorization", ""))[len("Bearer ") :]
        return text.replace(key, "***") if len(key) >= 6 else text
