"""List queries: paging, the 10,000 result window, filters, sorting and field selection.

Range filters on the sort field (date_created / date_updated) bisect a sorted view, and the common
link/flag filters are answered from arrays, so window pulls never render or sort the whole company.
Anything else falls back to rendering candidates and testing the payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from .company import Company
from .records import ACT_NOTE, GENERATORS, State, render

MAX_SIZE = 1000
MAX_WINDOW = 10_000
DATE_FIELDS = ("date_created", "date_updated")


class QueryError(ValueError):
    """A bad request (HTTP 400)."""


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer") from None


def parse_filter(raw: str | None) -> list[tuple[str, str, Any]]:
    """``{"must": [clause, ...]}`` -> [(kind, field, spec)]; kinds range, term, terms."""
    if not raw:
        return []
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise QueryError(f"filter is not valid JSON: {e.msg}") from None
    if isinstance(doc, dict) and isinstance(doc.get("bool"), dict):
        doc = doc["bool"]
    if not isinstance(doc, dict) or not set(doc) <= {"must"}:
        raise QueryError('filter must be an object of the form {"must": [clauses]}')
    must = doc.get("must", [])
    if isinstance(must, dict):
        must = [must]
    if not isinstance(must, list):
        raise QueryError("filter.must must be a list of clauses")
    out = []
    for clause in must:
        if not isinstance(clause, dict) or len(clause) != 1:
            raise QueryError(f"bad filter clause: {clause!r}"[:200])
        ((kind, body),) = clause.items()
        if kind not in ("range", "term", "terms") or not isinstance(body, dict) or len(body) != 1:
            raise QueryError(f"unsupported filter clause: {kind!r}")
        ((field, spec),) = body.items()
        if kind == "range":
            if (
                not isinstance(spec, dict)
                or not spec
                or not set(spec) <= {"gte", "gt", "lte", "lt"}
            ):
                raise QueryError("range takes gte/gt/lte/lt")
            try:
                spec = {k: float(v) for k, v in spec.items()}
            except (TypeError, ValueError):
                raise QueryError("range bounds must be numbers") from None
        elif kind == "terms":
            if not isinstance(spec, list):
                raise QueryError("terms takes a list of values")
        elif isinstance(spec, dict) and "value" in spec:
            spec = spec["value"]
        out.append((kind, field, spec))
    return out


def _bounds(keys: np.ndarray, spec: dict[str, float]) -> tuple[int, int]:
    lo, hi = 0, len(keys)
    for op, v in spec.items():
        if op == "gte":
            lo = max(lo, int(np.searchsorted(keys, v, "left")))
        elif op == "gt":
            lo = max(lo, int(np.searchsorted(keys, v, "right")))
        elif op == "lte":
            hi = min(hi, int(np.searchsorted(keys, v, "right")))
        else:
            hi = min(hi, int(np.searchsorted(keys, v, "left")))
    return lo, max(lo, hi)


def _range_mask(vals: np.ndarray, spec: dict[str, float]) -> np.ndarray:
    mask = np.ones(len(vals), dtype=bool)
    for op, v in spec.items():
        mask &= {"gte": vals >= v, "gt": vals > v, "lte": vals <= v, "lt": vals < v}[op]
    return mask


# ---------------------------------------------------------------- payload matching (fallback)
def _values(obj: Any, parts: list[str]) -> Iterator[Any]:
    if isinstance(obj, list):
        for el in obj:
            yield from _values(el, parts)
    elif not parts:
        yield obj
    elif isinstance(obj, dict) and parts[0] in obj:
        yield from _values(obj[parts[0]], parts[1:])


def _eq(value: Any, target: Any) -> bool:
    if isinstance(value, bool) or isinstance(target, bool):
        return value is target or (isinstance(target, str) and str(value).lower() == target.lower())
    if isinstance(value, str) and isinstance(target, str):
        return value.lower() == target.lower()
    if isinstance(value, int | float) and isinstance(target, int | float):
        return value == target
    if isinstance(value, int | float) and isinstance(target, str):
        try:
            return value == float(target)
        except ValueError:
            return False
    return value == target


def _payload_match(rec: Any, kind: str, field: str, spec: Any) -> bool:
    vals = list(_values(rec, field.split("."))) if isinstance(rec, dict) else []
    if kind == "range":
        nums = [v for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
        return any(_range_mask(np.array([v], dtype=np.float64), spec)[0] for v in nums)
    targets = spec if kind == "terms" else [spec]
    return any(_eq(v, t) for v in vals for t in targets)


# ---------------------------------------------------------------- array-backed clauses
def _job_link(co: Company, r: str, cand: np.ndarray) -> np.ndarray | None:
    """Job index each candidate links to (None when the resource has no job link)."""
    job = GENERATORS[r].job
    return None if job is None else job(co)[cand]


def _fast_mask(st: State, r: str, kind: str, field: str, spec: Any, cand: np.ndarray):
    """Boolean mask over generated candidates answered from arrays, or None if unsupported."""
    co = st.co
    if kind == "range" and field in DATE_FIELDS:
        vals = (st.du_all(r) if field == "date_updated" else st.created_all(r))[cand]
        return _range_mask(vals, spec)
    if kind == "range":
        return None
    targets = spec if kind == "terms" else [spec]
    if field == "is_status_change" and r == "activities":
        want = {t is True or (isinstance(t, str) and t.lower() == "true") for t in targets}
        flag = co.act_move[cand] != ACT_NOTE  # a contact's status move is one too
        return np.isin(flag, list(want))
    if field == "jnid":
        ids = [p[1] for t in targets if (p := co.parse_jnid(t)) and p[0] == r]
        return np.isin(cand, ids)
    if field in ("related.id", "primary.id") and all(isinstance(t, str) for t in targets):
        parsed = [co.parse_jnid(t) for t in targets]
        if any(p is None for p in parsed):
            return None
        jobs = [p[1] for p in parsed if p[0] == "jobs"]
        invoices = [p[1] for p in parsed if p[0] == "invoices"]
        contacts = [p[1] for p in parsed if p[0] == "contacts"]
        link = _job_link(co, r, cand)
        if field == "primary.id" and r in ("payments", "contacts"):
            return None  # payment primary is the job or the invoice, decided at render time
        mask = np.zeros(len(cand), dtype=bool)
        if r == "jobs":
            if field == "related.id" or field == "primary.id":
                mask |= np.isin(co.job_contact[cand], contacts)
            return mask
        if link is None:  # contacts relate to nothing
            return mask
        if np.any(link < 0):  # a record without a job links its contact: read the payloads
            return None
        mask |= np.isin(link, jobs)
        if field == "related.id":
            mask |= np.isin(co.job_contact[link], contacts) & (co.job_contact[link] >= 0)
            if r == "payments" and invoices:
                return None
        return mask
    return None


def _apply(st: State, r: str, cand: np.ndarray, clauses: list) -> np.ndarray:
    n = st.n_normal(r)
    slow = []
    for kind, field, spec in clauses:
        normal = cand < n
        mask = _fast_mask(st, r, kind, field, spec, cand[normal])
        if mask is None:
            slow.append((kind, field, spec))
            continue
        keep = np.ones(len(cand), dtype=bool)
        keep[normal] = mask
        hostile = np.flatnonzero(~normal)
        if len(hostile):
            recs = render(st, r, cand[hostile])
            keep[hostile] = [_payload_match(x, kind, field, spec) for x in recs]
        cand = cand[keep]
    if slow:
        keep = np.zeros(len(cand), dtype=bool)
        for start in range(0, len(cand), 2000):
            recs = render(st, r, cand[start : start + 2000])
            for k, rec in enumerate(recs):
                keep[start + k] = all(_payload_match(rec, *c) for c in slow)
        cand = cand[keep]
    return cand


def _sort_key(value: Any) -> tuple:
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, int | float):
        return (1, value, "")
    if isinstance(value, str):
        return (2, 0, value.lower())
    return (0, 0, "")  # missing / null sort first ascending


def list_query(co: Company, r: str, params: dict[str, str]) -> tuple[int, list[Any]]:
    """(count of all matches, the requested page of payloads)."""
    size = _int(params, "size", MAX_SIZE)
    frm = _int(params, "from", 0)
    if size < 0 or size > MAX_SIZE:
        raise QueryError(f"size must be between 0 and {MAX_SIZE}")
    if frm < 0:
        raise QueryError("from must not be negative")
    if frm + size > MAX_WINDOW:
        raise QueryError(
            "Result window is too large, from + size must be less than or equal to: "
            f"[{MAX_WINDOW}] but was [{frm + size}]. See the scroll api for a more efficient way "
            "to request large data sets."
        )
    sort_field = params.get("sort_field") or "date_created"
    direction = (params.get("sort_direction") or "desc").lower()
    if direction not in ("asc", "desc"):
        raise QueryError("sort_direction must be asc or desc")
    clauses = parse_filter(params.get("filter"))
    st = co.state()
    base = sort_field if sort_field in DATE_FIELDS else "date_created"
    order, keys = st.view(r, base)
    lo, hi = 0, len(keys)
    rest = []
    for kind, field, spec in clauses:
        if kind == "range" and field == base:
            a, b = _bounds(keys, spec)
            lo, hi = max(lo, a), min(hi, b)
        else:
            rest.append((kind, field, spec))
    cand = order[lo : max(lo, hi)]
    if rest:
        cand = _apply(st, r, cand, rest)
    if sort_field == "recid":
        cand = np.sort(cand, kind="stable")
    elif sort_field not in DATE_FIELDS:
        values = []
        for start in range(0, len(cand), 2000):
            for rec in render(st, r, cand[start : start + 2000]):
                got = list(_values(rec, sort_field.split("."))) if isinstance(rec, dict) else []
                values.append(_sort_key(got[0] if got else None))
        perm = sorted(range(len(cand)), key=values.__getitem__)
        cand = cand[np.array(perm, dtype=np.int64)] if perm else cand
    if direction == "desc":
        cand = cand[::-1]
    page = cand[frm : frm + size]
    results = render(st, r, page) if size else []
    fields = [f for f in (params.get("fields") or "").split(",") if f.strip()]
    if fields:
        fields = [f.strip() for f in fields]
        results = [
            {f: rec[f] for f in fields if f in rec} if isinstance(rec, dict) else rec
            for rec in results
        ]
    return len(cand), results
