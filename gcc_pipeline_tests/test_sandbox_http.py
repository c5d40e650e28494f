"""The sandbox's HTTP contract, over real loopback HTTP (no mocks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from gcc_pipeline.sandbox import Company, CompanyConfig, SandboxServer

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
KEY = "test-key-5f2c"
PATHS = {
    "contacts": ("contacts", "results"),
    "jobs": ("jobs", "results"),
    "payments": ("payments", "results"),
    "workorders": ("v2/workorders", "results"),
    "materialorders": ("v2/materialorders", "results"),
    "activities": ("activities", "activity"),
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    cfg = CompanyConfig(jobs=2000, seed=11, anchor=ANCHOR, unmapped_status_share=0.05)
    with SandboxServer(Company(cfg), api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {KEY}"
        yield s


def get(http: requests.Session, sb: SandboxServer, resource: str, **params) -> dict:
    path, _ = PATHS[resource]
    if isinstance(params.get("filter"), dict):
        params["filter"] = json.dumps(params["filter"])
    r = http.get(f"{sb.base_url}/{path}", params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def rows(body: dict, resource: str) -> list[dict]:
    return body[PATHS[resource][1]]


@pytest.mark.parametrize("resource", list(PATHS))
def test_envelope_and_list_keys(sandbox, http, resource):
    body = get(http, sandbox, resource, size=5)
    assert set(body) == {"count", PATHS[resource][1]}
    assert body["count"] == sandbox.company.count(resource) > 0
    page = rows(body, resource)
    assert len(page) == 5
    for rec in page:
        for key in (
            "jnid",
            "type",
            "recid",
            "number",
            "date_created",
            "date_updated",
            "is_active",
            "is_archived",
            "owners",
            "related",
            "sales_rep",
            "tags",
            "location",
        ):
            assert key in rec, (resource, key)
    # default sort: date_created desc
    created = [r["date_created"] for r in page]
    assert created == sorted(created, reverse=True)


def test_users_and_settings(sandbox, http):
    users = http.get(f"{sandbox.base_url}/account/users", timeout=10).json()
    assert users["count"] == len(users["users"]) >= 3
    assert {"id", "first_name", "last_name", "name", "email", "is_active"} <= set(users["users"][0])
    user_ids = {u["id"] for u in users["users"]}
    jobs = rows(get(http, sandbox, "jobs", size=1000), "jobs")
    assert {j["sales_rep"] for j in jobs} - user_ids, "one rep must be missing from users"
    settings = http.get(f"{sandbox.base_url}/account/settings", timeout=10).json()
    wfs = settings["workflows"]
    job_wfs = {w["id"]: w for w in wfs if w["object_type"] == "job"}
    assert any(w["object_type"] == "contact" for w in wfs)
    assert {47, 57, 58, 59, 61, 62, 63, 64, 65} == set(job_wfs)
    for w in job_wfs.values():
        ids = [s["id"] for s in w["status"]]
        assert len(ids) == len(set(ids))
    lost_ids = {s["id"] for w in job_wfs.values() for s in w["status"] if s["name"] == "Lost"}
    assert len(lost_ids) > 1, "same status name must have different ids per workflow"
    for j in jobs:
        st = {s["id"]: s["name"] for s in job_wfs[j["record_type"]]["status"]}
        assert st[j["status"]] == j["status_name"]


def test_paging_limits_and_errors(sandbox, http):
    base = f"{sandbox.base_url}/activities"
    assert http.get(base, params={"from": 9000, "size": 1000}).status_code == 200
    for params in (
        {"from": 9001, "size": 1000},
        {"from": 10000, "size": 1},
        {"size": 1001},
        {"from": -1},
        {"size": "abc"},
        {"filter": "{not json"},
        {"filter": json.dumps({"should": []})},
        {"filter": json.dumps({"must": [{"wildcard": {"name": "x*"}}]})},
        {"sort_direction": "sideways"},
    ):
        r = http.get(base, params=params)
        assert r.status_code == 400, (params, r.text)
        assert "error" in r.json()
    r = http.get(base, params={"from": 9500, "size": 1000})
    assert "Result window is too large" in r.json()["error"]


def test_offset_paging_is_consistent(sandbox, http):
    full = rows(
        get(http, sandbox, "jobs", size=1000, sort_field="recid", sort_direction="asc"), "jobs"
    )
    a = rows(get(http, sandbox, "jobs", size=300, sort_field="recid", sort_direction="asc"), "jobs")
    b = rows(
        get(
            http,
            sandbox,
            "jobs",
            size=300,
            sort_field="recid",
            sort_direction="asc",
            **{"from": 300},
        ),
        "jobs",
    )
    assert [r["jnid"] for r in a + b] == [r["jnid"] for r in full[:600]]
    assert [r["recid"] for r in full] == sorted(r["recid"] for r in full)


def test_size_zero_and_fields(sandbox, http):
    body = get(http, sandbox, "payments", size=0)
    assert body["count"] == sandbox.company.count("payments") and body["results"] == []
    body = get(http, sandbox, "payments", size=7, fields="jnid,date_updated")
    assert all(set(r) == {"jnid", "date_updated"} for r in body["results"])


def test_range_filter_matches_brute_force(sandbox, http):
    co = sandbox.company
    lo, hi = co.now - 40 * 86400, co.now - 10 * 86400
    for resource in ("jobs", "activities", "payments"):
        for field in ("date_updated", "date_created"):
            flt = {"must": [{"range": {field: {"gte": lo, "lt": hi}}}]}
            body = get(
                http,
                sandbox,
                resource,
                size=1000,
                sort_field=field,
                sort_direction="asc",
                filter=flt,
            )
            expected = [r for r in co.records(resource) if lo <= r[field] < hi]
            assert body["count"] == len(expected) > 0
            got = [r[field] for r in rows(body, resource)]
            assert got == sorted(got) and all(lo <= v < hi for v in got)
            assert {r["jnid"] for r in rows(body, resource)} <= {r["jnid"] for r in expected}
    # gt / lte, and a range on a field other than the sort field
    flt = {"must": [{"range": {"date_created": {"gt": lo, "lte": hi}}}]}
    body = get(http, sandbox, "jobs", size=1000, sort_field="date_updated", filter=flt)
    assert body["count"] == sum(lo < r["date_created"] <= hi for r in co.records("jobs"))


def test_sort_directions(sandbox, http):
    for field in ("date_updated", "date_created"):
        asc = [
            r[field]
            for r in rows(
                get(http, sandbox, "jobs", sort_field=field, sort_direction="asc", size=200), "jobs"
            )
        ]
        desc = [
            r[field]
            for r in rows(
                get(http, sandbox, "jobs", sort_field=field, sort_direction="DESC", size=200),
                "jobs",
            )
        ]
        assert asc == sorted(asc) and desc == sorted(desc, reverse=True)
        assert asc[0] <= desc[-1] and desc[0] >= asc[-1]
    totals = [
        r["total"]
        for r in rows(
            get(http, sandbox, "payments", sort_field="total", sort_direction="desc", size=50),
            "payments",
        )
    ]
    assert totals == sorted(totals, reverse=True)
    assert totals[0] == max(r["total"] for r in sandbox.company.records("payments"))


def test_term_filters(sandbox, http):
    co = sandbox.company
    job = next(j for j in co.records("jobs") if j["date_created"] < co.now - 200 * 86400)
    flt = {"must": [{"term": {"related.id": job["jnid"]}}]}
    acts = rows(get(http, sandbox, "activities", filter=flt), "activities")
    assert acts and all(any(x["id"] == job["jnid"] for x in a["related"]) for a in acts)
    expected = [a for a in co.records("activities") if a["primary"]["id"] == job["jnid"]]
    assert len(acts) == len(expected)
    # status changes only, by flag
    flt = {"must": [{"term": {"related.id": job["jnid"]}}, {"term": {"is_status_change": True}}]}
    moves = rows(get(http, sandbox, "activities", filter=flt), "activities")
    assert moves and all(a["is_status_change"] for a in moves)
    # the contact in related of jobs
    contact_id = job["primary"]["id"]
    flt = {"must": [{"term": {"related.id": contact_id}}]}
    jobs = rows(get(http, sandbox, "jobs", filter=flt), "jobs")
    assert job["jnid"] in {j["jnid"] for j in jobs}
    # case-insensitive term on a text field, terms with several values
    flt = {"must": [{"term": {"status_name": "LOST"}}]}
    body = get(http, sandbox, "jobs", filter=flt)
    assert body["count"] == sum(j["status_name"] == "Lost" for j in co.records("jobs")) > 0
    flt = {"must": [{"terms": {"record_type_name": ["repairs", "Insurance"]}}]}
    body = get(http, sandbox, "jobs", filter=flt, size=1000)
    assert {j["record_type_name"] for j in body["results"]} == {"Repairs", "Insurance"}
    # term on the jnid itself, and a payment's job through related
    pay = next(iter(co.records("payments")))
    job_id = next(x["id"] for x in pay["related"] if x["type"] == "job")
    flt = {"must": [{"term": {"related.id": job_id}}]}
    assert pay["jnid"] in {
        p["jnid"] for p in rows(get(http, sandbox, "payments", filter=flt), "payments")
    }
    flt = {"must": [{"term": {"jnid": pay["jnid"]}}]}
    assert [p["jnid"] for p in get(http, sandbox, "payments", filter=flt)["results"]] == [
        pay["jnid"]
    ]


def test_single_record_by_jnid(sandbox, http):
    job = next(iter(sandbox.company.records("jobs")))
    r = http.get(f"{sandbox.base_url}/jobs/{job['jnid']}", timeout=10)
    assert r.status_code == 200 and r.json() == job
    assert http.get(f"{sandbox.base_url}/jobs/jNOPE", timeout=10).status_code == 404


def test_auth(sandbox):
    url = f"{sandbox.base_url}/jobs?size=1"
    bad = [
        {},
        {"Authorization": "Bearer wrong-key-value"},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
    ]
    for headers in bad:
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 401
        assert KEY not in r.text and "wrong-key-value" not in r.text
        assert "error" in r.json()
    for scheme in ("Bearer", "bearer", "BEARER"):
        r = requests.get(url, headers={"Authorization": f"{scheme} {KEY}"}, timeout=10)
        assert r.status_code == 200 and KEY not in r.text
    r = requests.get(f"{sandbox.url}/sandbox/state", timeout=10)
    assert r.status_code == 401


def test_keyset_full_pull_gets_every_record(sandbox, http):
    """The documented pull: date_updated asc with gte on the last value seen, de-dup on jnid."""
    co = sandbox.company
    for resource in ("jobs", "activities"):
        seen: set[str] = set()
        last = 0
        while True:
            flt = {"must": [{"range": {"date_updated": {"gte": last}}}]}
            page = rows(
                get(
                    http,
                    sandbox,
                    resource,
                    size=1000,
                    sort_field="date_updated",
                    sort_direction="asc",
                    filter=flt,
                ),
                resource,
            )
            seen.update(r["jnid"] for r in page)
            if len(page) < 1000:
                break
            last = page[-1]["date_updated"]
        assert len(seen) == co.count(resource)


def test_data_shape(sandbox, http):
    co = sandbox.company
    jobs = list(co.records("jobs"))
    contacts = list(co.records("contacts"))
    names = {c["display_name"] for c in contacts}
    assert "Jane Tester" in names
    assert any("'" in n for n in names) and any(not n.isascii() for n in names)
    assert any(c["is_sub_contractor"] for c in contacts)
    assert {c["record_type_name"] for c in contacts} >= {"Customer", "Realtor", "Subcontractor"}
    no_contact = [j for j in jobs if not j.get("primary")]
    assert len(no_contact) == 1 and not any(
        x["type"] == "contact" for x in no_contact[0]["related"]
    )
    assert any(not j["is_active"] for j in jobs) and any(j["is_archived"] for j in jobs)
    mapping = {"Waiting on HOA", "Permit Pending", "On Hold - Weather", "Financing Review"}
    assert any(j["status_name"] in mapping for j in jobs)
    pays = list(co.records("payments"))
    by_invoice = [p for p in pays if p["primary"]["type"] == "invoice"]
    assert by_invoice and all(any(x["type"] == "job" for x in p["related"]) for p in by_invoice)
    assert any(p["credit"] > 0 for p in pays) and all(p["credit"] <= p["total"] for p in pays)
    assert all(p["date_payment"] > 0 for p in pays if p["is_active"])
    assert any(p["is_archived"] for p in pays) and {p["method_id"] for p in pays} == {1, 3}
    assert {p["created_by_processor"] for p in pays} == {"Payrix", None}
    wos = list(co.records("workorders"))
    assert any(w["subcontractors"] for w in wos) and any(w["date_end"] == 0 for w in wos)
    for w in wos + list(co.records("materialorders")):
        cost = sum(it["cost"] * it["quantity"] for it in w["items"])
        assert abs(w["total_line_item_cost"] - cost) < 0.01
        assert w["primary"]["type"] == "job"
    per_job = sum(co.count(r) for r in PATHS) / co.count("jobs")
    assert 6 <= per_job <= 12, per_job
