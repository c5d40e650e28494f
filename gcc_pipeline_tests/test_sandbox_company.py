"""The synthetic company: determinism, the clock, status history, hostile records, speed."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from gcc_pipeline.sandbox import Company, CompanyConfig, SandboxServer
from gcc_pipeline.sandbox.company import RESOURCES
from gcc_pipeline.sandbox.workflows import STAGE_ORDER, load_workflows

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
KEY = "clock-key"
_NOTE = re.compile(r"^Status(?:: (.*) => (.*)| changed from (.*) to (.*))$")


def dump(co: Company) -> dict[str, dict[str, str]]:
    return {r: {x["jnid"]: json.dumps(x, sort_keys=True) for x in co.records(r)} for r in RESOURCES}


def raw_dump(co: Company) -> dict[str, list[str]]:
    """Every payload as JSON text, in serving order (works for records lacking a jnid)."""
    return {r: [json.dumps(x, sort_keys=True) for x in co.records(r)] for r in RESOURCES}


def status_moves(co: Company) -> dict[str, list[tuple]]:
    """job jnid -> [(time, from, to, recid, from id, to id)] from the jobs' status-change
    activities (the change is the note's first line), in time order."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for a in co.records("activities"):
        if a["is_status_change"] and a["primary"]["type"] == "job":
            m = _NOTE.match(a["note"].split("\n")[0])
            assert m, a["note"]
            frm, to = (m.group(1), m.group(2)) if m.group(1) is not None else m.group(3, 4)
            ids = (a.get("previous_status_id"), a["status_id"])
            out[a["primary"]["id"]].append((a["date_created"], frm, to, a["recid"], *ids))
    for v in out.values():
        v.sort(key=lambda x: (x[0], x[3]))
    return out


def test_same_seed_identical_different_seed_differs():
    cfg = CompanyConfig(jobs=800, seed=5, anchor=ANCHOR, hostile=True)
    a, b = raw_dump(Company(cfg)), raw_dump(Company(cfg))
    assert a == b
    c = raw_dump(Company(CompanyConfig(jobs=800, seed=6, anchor=ANCHOR, hostile=True)))
    assert c["jobs"] != a["jobs"] and c["payments"] != a["payments"]


def test_every_status_change_has_an_activity_but_the_first_status_is_not_logged():
    co = Company(CompanyConfig(jobs=1500, seed=2, anchor=ANCHOR, unmapped_status_share=0.1))
    moves = status_moves(co)
    never_moved = 0
    for job in co.records("jobs"):
        hist = moves.get(job["jnid"], [])
        if not hist:  # still in the status it was created in: no activity at all
            never_moved += 1
            assert job["date_status_change"] == job["date_created"]
            continue
        assert hist[0][1] != "(none)" and hist[0][0] > job["date_created"]
        for prev, nxt in itertools.pairwise(hist):
            assert nxt[4] == prev[5]  # a chain of moves (by status id: names may be old ones)
        assert hist[-1][5] == job["status"]
        assert hist[-1][0] == job["date_status_change"]
    assert never_moved > 0
    notes = [a for a in co.records("activities") if not a["is_status_change"]]
    assert notes
    texts = [a["note"] for a in co.records("activities") if a["is_status_change"]]
    assert any(t.startswith("Status: ") for t in texts)
    assert any(t.startswith("Status changed from") for t in texts)


def test_log_first_status_logs_none_to_the_first_status_at_creation():
    co = Company(CompanyConfig(jobs=600, seed=2, anchor=ANCHOR, log_first_status=True))
    moves = status_moves(co)
    for job in co.records("jobs"):
        hist = moves[job["jnid"]]
        assert hist[0][1] == "(none)" and hist[0][0] == job["date_created"]
        assert hist[-1][5] == job["status"]


def test_the_sandbox_serves_the_cases_that_hid_metric_defects():
    """Each shape a real account has and the analytics once got wrong (issue 12)."""
    co = Company(CompanyConfig(jobs=1500, seed=2, anchor=ANCHOR))
    jobs = {j["jnid"]: j for j in co.records("jobs")}
    changes = [a for a in co.records("activities") if a["is_status_change"]]
    # multi-line notes: the change is the first line
    assert any("\n" in a["note"] for a in changes)
    # a contact's status change: primary is the contact, related lists a job
    contact_changes = [a for a in changes if a["primary"]["type"] == "contact"]
    assert contact_changes
    assert all(any(r["type"] == "job" for r in a["related"]) for a in contact_changes)
    # renamed statuses: old activities carry the old name, newer ones the current name, and both
    # carry the status id, which a rename keeps
    renamed = {s.id: (s.old_name, s.name) for s in co.wf.statuses if s.old_name}
    spelled = defaultdict(set)
    for a in changes:
        if a.get("status_id") in renamed and a["primary"]["type"] == "job":
            to = _NOTE.match(a["note"].split("\n")[0])
            spelled[a["date_created"] < co.renamed_at].add(to.group(2) or to.group(4))
    assert spelled[True] <= {old for old, _ in renamed.values()} and spelled[True]
    assert spelled[False] <= {new for _, new in renamed.values()} and spelled[False]
    # payments: legacy jobs have some, refunds carry an id, the owners' invoice shape
    payments = list(co.records("payments"))
    paid_jobs = {next(r["id"] for r in p["related"] if r["type"] == "job") for p in payments}
    assert any(jobs[j]["record_type_name"].startswith("Legacy") for j in paid_jobs)
    refunded = [p for p in payments if p["refunded_amount"]]
    assert refunded and all(p["refund_id"] for p in refunded)
    for p in payments:
        (line,) = p["invoices"]
        assert line["jnid"] == f"{p['jnid']}_1"
        assert {"id": line["invoice_id"], "type": "invoice"}.items() <= next(
            r for r in p["related"] if r["type"] == "invoice"
        ).items()
    # material orders that are not costs
    statuses = {m["status_name"] for m in co.records("materialorders")}
    assert {"Draft", "Cancelled", "Submitted"} <= statuses
    # the owners' test record, spelled as people type it
    names = {c["display_name"] for c in co.records("contacts")}
    assert {"Jane Tester", "jane  TESTER", "Jane Tester Jr"} <= names


def _stage(wf, rt_name: str, status: str) -> int | None:
    rt = next(r for r in wf.record_types if r.name == rt_name)
    for stage, gsis in rt.stages.items():
        if any(wf.statuses[g].name == status for g in gsis):
            return STAGE_ORDER[stage]
    return None


@pytest.fixture(scope="module")
def clock_server() -> Iterator[SandboxServer]:
    co = Company(CompanyConfig(jobs=2000, seed=9, anchor=ANCHOR))
    with SandboxServer(co, api_key=KEY) as server:
        yield server


def test_advance_touches_only_changed_records(clock_server):
    co = clock_server.company
    wf = load_workflows(False)
    before = dump(co)
    moves_before = status_moves(co)
    old_now = co.now
    r = requests.post(
        f"{clock_server.url}/sandbox/advance",
        params={"days": 5},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["now"] == old_now + 5 * 86400 == co.now
    after = dump(co)
    moved = 0
    for res in RESOURCES:
        b, a = before[res], after[res]
        assert set(b) <= set(a)
        changed = [k for k in b if a[k] != b[k]]
        created = set(a) - set(b)
        assert summary["changed"][res] == len(changed) + len(created)
        for k in changed:
            old, new = json.loads(b[k]), json.loads(a[k])
            assert old_now < new["date_updated"] <= co.now, (res, k)
        for k in created:
            assert old_now < json.loads(a[k])["date_created"] <= co.now
        untouched = set(b) - set(changed)
        assert all(json.loads(a[k])["date_updated"] <= old_now for k in untouched)
        if res == "jobs":
            moves_after = status_moves(co)
            for k in changed:
                old, new = json.loads(b[k]), json.loads(a[k])
                if old["status_name"] == new["status_name"]:
                    continue
                moved += 1
                fresh = moves_after[k][len(moves_before[k]) :]
                assert fresh and fresh[-1][2] == new["status_name"]
                assert all(old_now < t <= co.now for t, *_ in fresh)
                s_old = _stage(wf, old["record_type_name"], old["status_name"])
                s_new = _stage(wf, new["record_type_name"], new["status_name"])
                if s_new is not None and s_new <= STAGE_ORDER["Completed"]:
                    assert s_old <= s_new, (old["status_name"], new["status_name"])
    assert moved > 0
    assert sum(summary["changed"].values()) > 0
    state = requests.get(
        f"{clock_server.url}/sandbox/state", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
    ).json()
    assert state["now"] == co.now and state["counts"]["jobs"] == co.count("jobs")


def test_advance_is_deterministic_and_cumulative():
    cfg = CompanyConfig(jobs=600, seed=4, anchor=ANCHOR)
    a, b = Company(cfg), Company(cfg)
    a.advance(3)
    b.advance(1)
    b.advance(2)
    assert dump(a) == dump(b)
    assert a.count("jobs") > 600  # new jobs arrive


def test_hostile_corpus_is_served():
    co = Company(CompanyConfig(jobs=300, seed=3, anchor=ANCHOR, hostile=True))
    ids = co.hostile_ids()
    assert None in ids["jobs"] and any(i and len(i) == 10_000 for i in ids["jobs"])
    with SandboxServer(co, api_key=KEY) as server, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {KEY}"
        lo = co.anchor - 30 * 86400
        texts = []
        for path in ("jobs", "payments"):
            seen = []
            start = 0
            while True:
                flt = {"must": [{"range": {"date_updated": {"gte": lo}}}]}
                r = s.get(
                    f"{server.base_url}/{path}",
                    params={
                        "filter": json.dumps(flt),
                        "sort_field": "date_updated",
                        "sort_direction": "asc",
                        "size": 100,
                        "from": start,
                    },
                    timeout=60,
                )
                assert r.status_code == 200
                texts.append(r.text)
                page = json.loads(r.text)["results"]  # the standard library reads NaN
                seen += page
                if len(page) < 100:
                    break
                start += 100
            got = [x.get("jnid") for x in seen]
            for jnid in ids[path]:
                assert jnid in got
            assert len(got) - len(set(got)) >= 1  # the duplicate jnid
        raw = "".join(texts)
        assert "NaN" in raw and "Infinity" in raw and "\\ud800" in raw and "\\u0000" in raw
        assert max(len(t) for t in texts) > 5_000_000


def test_generation_rate(capsys):
    for jobs in (2_000, 20_000):
        t0 = time.perf_counter()
        co = Company(CompanyConfig(jobs=jobs, seed=1, anchor=ANCHOR))
        n = sum(co.count(r) for r in RESOURCES)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        rendered = sum(1 for _ in co.records("jobs"))
        rt = time.perf_counter() - t0
        with capsys.disabled():
            print(
                f"\nsandbox: {jobs} jobs -> {n} records generated in {dt:.3f}s "
                f"({n / dt:,.0f} records/s); jobs rendered at {rendered / rt:,.0f}/s"
            )
        assert n > 6 * jobs
