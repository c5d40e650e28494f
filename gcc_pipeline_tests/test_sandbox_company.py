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


def status_moves(co: Company) -> dict[str, list[tuple[int, str, str]]]:
    """job jnid -> [(time, from, to)] from status-change activities, in time order."""
    out: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for a in co.records("activities"):
        if a["is_status_change"]:
            m = _NOTE.match(a["note"])
            assert m, a["note"]
            frm, to = (m.group(1), m.group(2)) if m.group(1) is not None else m.group(3, 4)
            out[a["primary"]["id"]].append((a["date_created"], frm, to, a["recid"]))
    for v in out.values():
        v.sort(key=lambda x: (x[0], x[3]))
    return out


def test_same_seed_identical_different_seed_differs():
    cfg = CompanyConfig(jobs=800, seed=5, anchor=ANCHOR, hostile=True)
    a, b = raw_dump(Company(cfg)), raw_dump(Company(cfg))
    assert a == b
    c = raw_dump(Company(CompanyConfig(jobs=800, seed=6, anchor=ANCHOR, hostile=True)))
    assert c["jobs"] != a["jobs"] and c["payments"] != a["payments"]


def test_every_status_move_has_an_activity():
    co = Company(CompanyConfig(jobs=1500, seed=2, anchor=ANCHOR, unmapped_status_share=0.1))
    moves = status_moves(co)
    for job in co.records("jobs"):
        hist = moves[job["jnid"]]
        assert hist, job["jnid"]
        assert hist[0][1] == "(none)" and hist[0][0] == job["date_created"]
        for prev, nxt in itertools.pairwise(hist):
            assert nxt[1] == prev[2]  # each move starts where the last ended
        assert hist[-1][2] == job["status_name"]
        assert hist[-1][0] == job["date_status_change"]
    notes = [a for a in co.records("activities") if not a["is_status_change"]]
    assert notes
    texts = [a["note"] for a in co.records("activities") if a["is_status_change"]]
    assert any(t.startswith("Status: ") for t in texts)
    assert any(t.startswith("Status changed from") for t in texts)


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
                page = r.json()["results"]
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
