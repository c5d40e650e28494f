"""HTTP client for the JobNimbus API: windows, keyset paging, retries, rate limit, stats.

Paging never relies on offsets past the API's 10,000 cap: a window is walked by keyset on its date
field (sorted ascending, ``gte`` the last value seen, ``from=0``), and only a single second holding
more than one page falls back to offset paging, which fails loudly past the cap. Transport faults
(429, 5xx, connect/read errors) are retried by urllib3's ``Retry`` on the session adapter; bodies
that arrive truncated or malformed are retried by the same ``Retry`` object's ``increment`` and
``sleep`` so one budget and one backoff policy cover both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Hashable, Iterator
from datetime import UTC, datetime
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from .endpoints import DEFAULT_BASE_URL, MAX_PAGE_SIZE, OFFSET_CAP, RESOURCES, Endpoint
from .errors import AuthError, JobNimbusError, NotFoundError, excerpt
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

USER_AGENT = "gcc-pipeline/0.1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.ConnectionError,  # includes read timeouts while streaming the body
)

Timeout = float | tuple[float, float]


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


def to_epoch(value: datetime) -> int:
    """Unix seconds for a window bound; naive datetimes are taken as UTC.

    Rounded up, so that ``[start, end)`` over integer-second dates keeps its meaning when a bound
    carries a fraction of a second.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.ceil(value.timestamp())


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


class JobNimbusClient:
    """A synchronous JobNimbus API client; one per thread (a ``requests.Session`` underneath).

    ``stats`` counts, per resource, logical ``requests`` (a page, a count), ``records`` yielded and
    ``retries`` (extra HTTP attempts), so HTTP attempts = requests + retries.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        *,
        timeout: Timeout = (5, 30),
        max_retries: int = 6,
        backoff_factor: float = 0.5,
        backoff_max: float = 60,
        backoff_jitter: float | None = None,
        requests_per_minute: float = 0,
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
        self.limiter = RateLimiter(requests_per_minute)
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
        self, resource: str, start: datetime | None, end: datetime | None
    ) -> Iterator[dict[str, Any]]:
        """Yield every record whose date field lies in ``[start, end)``, each ``jnid`` once.

        ``None`` leaves that side open. Streams page by page; an empty window costs one request.
        """
        lo = None if start is None else to_epoch(start)
        hi = None if end is None else to_epoch(end)
        yield from self._walk(resource, lo, hi, fields=None)

    def iter_all(self, resource: str) -> Iterator[dict[str, Any]]:
        """Every record of a windowed resource (a full reconciliation pull)."""
        return self.iter_window(resource, None, None)

    def list_ids(
        self, resource: str, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[tuple[str, int]]:
        """Yield ``(jnid, date_updated)`` for reconciliation, asking only for those fields."""
        ep = self._windowed(resource)
        fields = ["jnid", "date_updated"]
        if ep.date_field not in fields:
            fields.append(str(ep.date_field))
        lo = None if start is None else to_epoch(start)
        hi = None if end is None else to_epoch(end)
        for record in self._walk(resource, lo, hi, fields=",".join(fields)):
            jnid = record.get("jnid") if isinstance(record, dict) else None
            if jnid is not None:  # a record without an id cannot be reconciled
                yield str(jnid), _date(record, "date_updated") or 0

    def count(
        self, resource: str, start: datetime | None = None, end: datetime | None = None
    ) -> int:
        """Number of records in ``[start, end)`` (or all), via one ``size=0`` request."""
        ep = self._windowed(resource)
        lo = None if start is None else to_epoch(start)
        hi = None if end is None else to_epoch(end)
        params = self._list_params(ep, lo, hi, offset=0, size=0)
        data = self._get(resource, ep, params, need_list=False)
        return int(data["count"])

    def users(self) -> list[dict[str, Any]]:
        """All users of the account (sales reps' names and emails)."""
        ep = RESOURCES["users"]
        data = self._get("users", ep, {}, need_list=True)
        users = data if isinstance(data, list) else data[str(ep.list_key)]
        self._bump("users", "records", len(users))
        return users

    def settings(self) -> dict[str, Any]:
        """The account settings object (workflows with their statuses)."""
        data = self._get("settings", RESOURCES["settings"], {}, need_list=False)
        self._bump("settings", "records", 1)
        return data

    # ------------------------------------------------------------------ paging

    def _windowed(self, resource: str) -> Endpoint:
        ep = RESOURCES.get(resource)
        if ep is None:
            raise ValueError(f"Unknown JobNimbus resource {resource!r}; known: {sorted(RESOURCES)}")
        if not ep.windowed:
            raise ValueError(f"JobNimbus resource {resource!r} is not a windowed list")
        return ep

    @staticmethod
    def _list_params(
        ep: Endpoint,
        lo: int | None,
        hi: int | None,
        *,
        offset: int,
        size: int,
        fields: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "size": size,
            "from": offset,
            "sort_field": ep.date_field,
            "sort_direction": "asc",
        }
        bounds: dict[str, int] = {}
        if lo is not None:
            bounds["gte"] = lo
        if hi is not None:
            bounds["lt"] = hi
        if bounds:
            clause = {"range": {ep.date_field: bounds}}
            params["filter"] = json.dumps({"must": [clause]}, separators=(",", ":"))
        if fields:
            params["fields"] = fields
        return params

    def _walk(
        self, resource: str, lo: int | None, hi: int | None, fields: str | None
    ) -> Iterator[dict[str, Any]]:
        """Keyset walk of ``[lo, hi)``: each query starts at ``from=0`` with ``gte`` the cursor.

        The cursor moves to the last (largest) date of each page; records sharing that date are
        fetched again and dropped by ``jnid``. A page whose records all share one second cannot
        move the cursor, so that second is paged by offset (see ``_walk_second``).
        """
        ep = self._windowed(resource)
        field = str(ep.date_field)
        seen: dict[Hashable, int | None] = {}
        cursor = lo
        while hi is None or cursor is None or cursor < hi:
            size = self.page_size
            params = self._list_params(ep, cursor, hi, offset=0, size=size, fields=fields)
            data = self._get(resource, ep, params, need_list=True)
            page: list[dict[str, Any]] = data[str(ep.list_key)]
            count = int(data.get("count", len(page)))
            yield from self._fresh(resource, page, field, lo, hi, seen)
            if len(page) < size or count <= len(page):
                return
            dates = [d for d in (_date(r, field) for r in page) if d is not None]
            if not dates:
                raise JobNimbusError(f"A {resource} page held no records", path=ep.path)
            first, last = dates[0], dates[-1]
            if first == last:
                yield from self._walk_second(resource, ep, last, fields, lo, hi, seen)
                cursor = last + 1
            else:
                cursor = last
            # Only records dated at or after the cursor can come back: forgetting the others keeps
            # memory flat however large the window (a backfill's window is the whole range).
            for identity in [k for k, d in seen.items() if d is not None and d < cursor]:
                del seen[identity]

    def _walk_second(
        self,
        resource: str,
        ep: Endpoint,
        second: int,
        fields: str | None,
        lo: int | None,
        hi: int | None,
        seen: dict[Hashable, int | None],
    ) -> Iterator[dict[str, Any]]:
        """Offset-page the records of one second; more than the offset cap cannot be read."""
        field = str(ep.date_field)
        offset = 0
        while True:
            size = min(self.page_size, OFFSET_CAP - offset)
            params = self._list_params(
                ep, second, second + 1, offset=offset, size=size, fields=fields
            )
            data = self._get(resource, ep, params, need_list=True)
            page: list[dict[str, Any]] = data[str(ep.list_key)]
            count = int(data.get("count", 0))
            if count > OFFSET_CAP:
                when = datetime.fromtimestamp(second, UTC).isoformat()
                raise JobNimbusError(
                    f"{count} {resource} share {field} = {second} ({when}); the API cannot page "
                    f"past {OFFSET_CAP} matches and no narrower window exists",
                    path=ep.path,
                )
            yield from self._fresh(resource, page, field, lo, hi, seen)
            offset += len(page)
            if not page or offset >= count:
                return

    def _fresh(
        self,
        resource: str,
        page: list[dict[str, Any]],
        field: str,
        lo: int | None,
        hi: int | None,
        seen: dict[Hashable, int | None],
    ) -> Iterator[dict[str, Any]]:
        """Records of a page not yet yielded, checked against the window and the sort order.

        Keyset paging is only sound when the server sorts ascending, so a page out of order is an
        error rather than a silent gap. Records outside the window (an unreliable server filter)
        are dropped: they belong to another window.
        """
        previous = None
        for record in page:
            value = _date(record, field)
            if value is not None:
                if previous is not None and value < previous:
                    raise JobNimbusError(
                        f"JobNimbus ignored sort_field={field} ascending for {resource}; "
                        "keyset paging would miss records",
                        path=RESOURCES[resource].path,
                    )
                previous = value
                if (lo is not None and value < lo) or (hi is not None and value >= hi):
                    log.warning(
                        "Dropping a %s with %s=%s outside the window", resource, field, value
                    )
                    continue
            identity = _identity(record)
            if identity in seen:
                if seen[identity] == value:
                    continue  # the same record again, re-read at a page boundary
                # Another version of a record already yielded (a duplicate jnid with other
                # content, or a change during the walk): pass it on, the newest version wins.
                self._bump(resource, "duplicates")
            seen[identity] = value
            self._bump(resource, "records")
            yield record

    # ------------------------------------------------------------------ one logical request

    def _get(self, resource: str, ep: Endpoint, params: dict[str, Any], *, need_list: bool) -> Any:
        """GET ``ep.path`` and return its JSON, retrying transport and body faults.

        Raises outside ``except`` blocks so no requests exception (whose request carries the
        Authorization header) is chained onto ours.
        """
        path = ep.path
        url = self.base_url + path
        state = self._retry
        self._bump(resource, "requests")
        while True:
            self.limiter.acquire()
            error: JobNimbusError | None = None
            response: requests.Response | None = None
            try:
                response = self._session.get(url, params=params, timeout=self.timeout, stream=True)
            except requests.RequestException as exc:
                error = JobNimbusError(
                    f"JobNimbus request to {path} failed after retries: "
                    f"{type(exc).__name__}: {self._redact(excerpt(str(exc)))}",
                    path=path,
                )
            if error is not None or response is None:
                self._bump(resource, "retries", max(0, state.total or 0))
                raise error or JobNimbusError(f"No response from {path}", path=path)

            # Fold the adapter's retries into this request's budget and backoff history.
            used = getattr(response.raw, "retries", None)
            if used is not None and used.history:
                self._bump(resource, "retries", len(used.history))
                state = state.new(
                    total=(state.total or 0) - len(used.history),
                    history=state.history + used.history,
                )

            body, problem = self._read(response)
            status = response.status_code
            if not 200 <= status < 300:
                raise self._status_error(status, path, body, len(state.history))
            data: Any = None
            if problem is None:
                try:
                    data = json.loads(body)
                except ValueError:
                    problem = "a body that is not JSON"
                else:
                    problem = self._shape_problem(data, ep, need_list)
            if problem is None:
                return data

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
            self._bump(resource, "retries")
            state.sleep()

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

    @staticmethod
    def _shape_problem(data: Any, ep: Endpoint, need_list: bool) -> str | None:
        if ep.list_key is None:
            return None if isinstance(data, dict) else "JSON that is not an object"
        if isinstance(data, list) and ep.path == RESOURCES["users"].path:
            return None  # tolerate a bare list of users
        if not isinstance(data, dict):
            return "JSON that is not an object"
        if need_list and not isinstance(data.get(ep.list_key), list):
            return f"JSON without the list key {ep.list_key!r}"
        if ep.date_field is not None and not isinstance(data.get("count"), int):
            return "JSON without an integer 'count'"
        return None

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
