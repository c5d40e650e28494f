"""The bench's peer loader (bench/peer_dlt.py: dlt's rest_api source) against the real sandbox.

Skipped unless the optional ``bench`` extra (dlt) is installed. The company is large enough that
activities pass the API's 10,000-result offset cap, so only keyset paging loads them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

pytest.importorskip("dlt")  # ok: the peer loader is optional (installed with the bench extra)

from bench.peer_dlt import KeysetPaginator, load
from gcc_pipeline.sandbox import Company, CompanyConfig, SandboxServer
from gcc_pipeline.streams import STREAMS
from gcc_pipeline_tests.conftest import create_database, drop_database

KEY = "peer-key"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    cfg = CompanyConfig(jobs=2600, seed=1, anchor=datetime(2026, 11, 1, tzinfo=UTC))
    with SandboxServer(Company(cfg), api_key=KEY) as server:
        yield server


def served(company: Company, stream: str) -> int:
    """What the API serves a stream's list query: the records its filters (term clauses, as the
    registry's are: activities are the status changes only) let through."""
    (spec,) = [s for s in STREAMS if s.name == stream]
    terms = [clause["term"] for clause in spec.filters]
    if not terms:
        return company.count(stream)
    return sum(
        all(record.get(k) == v for term in terms for k, v in term.items())
        for record in company.records(stream)
    )


def test_loads_exactly_the_sandbox_records(sandbox: SandboxServer, pg_server_url: str) -> None:
    url = create_database(pg_server_url, prefix="benchpeer")
    try:
        result = load(sandbox.base_url, KEY, url, "peer")
    finally:
        drop_database(pg_server_url, url)
    expected = {r: served(sandbox.company, r) for r in result["records"]}
    assert expected["activities"] > 10_000  # past the offset cap
    assert result["records"] == expected
    # keyset pages overlap at their boundary: dlt read those rows twice and merged them
    assert all(result["extracted"][r] >= n for r, n in expected.items())
    assert result["child_tables"] > 0  # nested lists normalized into child tables
    assert result["requests"]["activities"] >= 11


def page(values: list[int], start: int = 0) -> list[dict]:
    return [{"jnid": f"r{start + i}", "date_updated": v} for i, v in enumerate(values)]


class _Request:
    """What the paginator touches of a ``requests.Request``: its params."""

    def __init__(self) -> None:
        self.params: dict = {}


def test_keyset_paginator_moves_on_and_steps_through_ties() -> None:
    p = KeysetPaginator("date_updated", size=3)
    req = _Request()
    p.init_request(req)  # type: ignore[arg-type]
    assert req.params == {"sort_field": "date_updated", "sort_direction": "asc", "size": 3,
                          "from": 0}  # fmt: skip
    p.update_state(None, page([1, 2, 5]))  # type: ignore[arg-type]
    p.update_request(req)  # type: ignore[arg-type]
    assert p.has_next_page and req.params["from"] == 0
    assert '"gte":5' in req.params["filter"]
    p.update_state(None, page([5, 5, 5], 2))  # type: ignore[arg-type]  # a page all of one value
    p.update_request(req)  # type: ignore[arg-type]
    assert p.has_next_page and req.params["from"] == 3 and '"gte":5' in req.params["filter"]
    p.update_state(None, page([5, 7, 8], 5))  # type: ignore[arg-type]
    p.update_request(req)  # type: ignore[arg-type]
    assert req.params["from"] == 0 and '"gte":8' in req.params["filter"]
    p.update_state(None, page([8], 7))  # type: ignore[arg-type]  # not full: the last page
    assert not p.has_next_page
    assert p.requests == 4


def test_keyset_paginator_dedupes_in_place_when_asked() -> None:
    p = KeysetPaginator("date_updated", size=2, dedupe=True)
    first = page([1, 2])
    p.update_state(None, first)  # type: ignore[arg-type]
    second = [first[1], *page([3], 9)]  # the boundary row comes back
    p.update_state(None, second)  # type: ignore[arg-type]
    assert [r["jnid"] for r in second] == ["r9"]
    assert p.duplicates == 1
    assert p.has_next_page  # the page was full before de-duplication
