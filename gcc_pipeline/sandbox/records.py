"""Clock snapshots and lazy rendering of API payloads from the company's arrays.

A ``State`` is immutable for one clock value: a request keeps the snapshot it started with, and
``advance`` swaps in a new one, so readers never need a lock. Sorted views (by date_created and
date_updated) are built lazily once per snapshot and then answered by bisection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .names import (
    CITIES,
    COMPANIES,
    FIRST_NAMES,
    LABOR_ITEMS,
    LAST_NAMES,
    MATERIALS,
    NOTE_SECOND_LINES,
    NOTES,
    SOURCES,
    STREETS,
    SUPPLIERS,
    mix,
)
from .workflows import CONTACT_TYPES

if TYPE_CHECKING:
    from .company import Company

# Activities that are not a job's status move (act_move holds the move index otherwise).
ACT_NOTE, ACT_CONTACT = -1, -2

_ASCII = str.maketrans("áéíóúñüëöçåÁÉÍÓÚÑÜËÖ", "aeiounueocaAEIOUNUEO", " '")


@dataclass
class Hostile:
    """A hand-made malformed record; ``born``/``created``/``updated`` drive lists and sorting."""

    payload: Any
    born: int
    created: int
    updated: int


class State:
    """The company as seen at clock ``now``."""

    def __init__(self, co: Company, now: int) -> None:
        self.co = co
        self.now = int(now)
        starts = co.move_off[:-1]
        k = np.add.reduceat((co.move_time <= self.now).astype(np.int32), starts)
        self.job_cur = starts + np.maximum(k, 1) - 1
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ arrays
    def n_normal(self, r: str) -> int:
        return len(_static(self.co, r, "born")) - len(self.co.hostile[r])

    def born_all(self, r: str) -> np.ndarray:
        return _static(self.co, r, "born")

    def created_all(self, r: str) -> np.ndarray:
        return _static(self.co, r, "created")

    def born_mask(self, r: str) -> np.ndarray:
        return self.born_all(r) <= self.now

    def plain(self, r: str) -> bool:
        """No hostile records: the table is in creation order and born == date_created."""
        return not self.co.hostile[r]

    def n_visible(self, r: str) -> int:
        if self.plain(r):
            return int(np.searchsorted(self.created_all(r), self.now, "right"))
        return int(np.count_nonzero(self.born_mask(r)))

    def du_all(self, r: str) -> np.ndarray:
        key = (r, "du")
        got = self._cache.get(key)
        if got is None:
            got = self._du(r)
            if not self.plain(r):
                got = np.concatenate([got, [h.updated for h in self.co.hostile[r]]])
            got = got.astype(np.int64, copy=False)
            self._cache[key] = got
        return got

    def _du(self, r: str) -> np.ndarray:
        return GENERATORS[r].updated(self)

    def visible(self, r: str) -> np.ndarray:
        key = (r, "visible")
        got = self._cache.get(key)
        if got is None:
            if self.plain(r):
                got = np.arange(self.n_visible(r), dtype=np.int32)
            else:
                got = np.flatnonzero(self.born_mask(r))
            self._cache[key] = got
        return got

    def view(self, r: str, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(record indices, their ``field`` values) of visible records sorted ascending."""
        key = (r, "view:" + field)
        got = self._cache.get(key)
        if got is None:
            with self._lock:
                got = self._cache.get(key)
                if got is None:
                    got = self._build_view(r, field)
                    self._cache[key] = got
        return got

    def _build_view(self, r: str, field: str) -> tuple[np.ndarray, np.ndarray]:
        vis = self.visible(r)
        if self.plain(r):
            k = len(vis)
            if field == "date_created":
                return vis, self.created_all(r)[:k]
            vals = self.du_all(r)[:k]
            order = np.argsort(vals, kind="stable").astype(np.int32)
            return order, vals[order]
        vals = (self.du_all(r) if field == "date_updated" else self.created_all(r))[vis]
        order = np.argsort(vals, kind="stable")
        return vis[order], vals[order]


def _static(co: Company, r: str, what: str) -> np.ndarray:
    """Creation-time arrays incl. the hostile corpus (cached on the company: they never change)."""
    cache = co.__dict__.setdefault("_static_cache", {})
    key = (r, what)
    if key not in cache:
        base = GENERATORS[r].created(co)
        extra = [getattr(h, what) for h in co.hostile[r]]
        if extra:
            base = np.concatenate([base, np.array(extra, dtype=np.int64)])
        cache[key] = base.astype(np.int64, copy=False)
    return cache[key]


# ---------------------------------------------------------------------- rendering
def render(st: State, r: str, idx: np.ndarray) -> list[dict]:
    """Payload dicts for record indices ``idx`` (in that order)."""
    n = st.n_normal(r)
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) and idx.max() >= n:
        hostile = st.co.hostile[r]
        normal = idx[idx < n]
        rendered = iter(_RENDER[r](st, normal)) if len(normal) else iter(())
        return [hostile[i - n].payload if i >= n else next(rendered) for i in idx.tolist()]
    return _RENDER[r](st, idx) if len(idx) else []


class _Ctx:
    """Per-company lookups shared by the renderers (rep names, ids)."""

    def __init__(self, co: Company) -> None:
        self.reps = []
        for r in range(co.n_reps):
            first, last = co.rep_name(r)
            self.reps.append((co.jnid("users", r), f"{first} {last}"))
        self.office = [
            (co.jnid("users", 1000), "Olivia Office"),
            (co.jnid("users", 1001), "Pat Production"),
        ]
        self.rt = [(rt.id, rt.name) for rt in co.wf.record_types]
        self.status = [(s.id, s.name, s.is_lead, s.is_closed) for s in co.wf.statuses]
        self.old_name = [s.old_name for s in co.wf.statuses]
        self.contact_wf = co.wf.contact_workflows


def _ctx(co: Company) -> _Ctx:
    ctx = co.__dict__.get("_render_ctx")
    if ctx is None:
        ctx = _Ctx(co)
        co.__dict__["_render_ctx"] = ctx
    return ctx


def contact_name(co: Company, ci: int) -> tuple[str, str, str]:
    special = co.special_contacts.get(ci)
    if special:
        return special
    h = mix(co._salt ^ (0xC0000000 + ci))
    first, last = FIRST_NAMES[h % len(FIRST_NAMES)], LAST_NAMES[(h >> 16) % len(LAST_NAMES)]
    return first, last, f"{first} {last}"


def _address(h: int) -> dict:
    city, state, zip3, lat, lon = CITIES[(h >> 8) % len(CITIES)]
    return {
        "address_line1": f"{100 + h % 9800} {STREETS[(h >> 24) % len(STREETS)]}",
        "address_line2": "" if h & 0x10000 else f"Unit {1 + (h >> 40) % 20}",
        "city": city,
        "state_text": state,
        "zip": f"{zip3}{(h >> 32) % 100:02d}",
        "country_name": "United States",
        "geo": {
            "lat": round(lat + ((h >> 12) % 2000 - 1000) / 10000, 6),
            "lon": round(lon + ((h >> 44) % 2000 - 1000) / 10000, 6),
        },
    }


def _ref(jnid: str, name: str, number: str, typ: str) -> dict:
    return {"id": jnid, "name": name, "number": number, "type": typ}


def _job_ref(co: Company, j: int) -> dict:
    ci = int(co.job_contact[j])
    name = contact_name(co, ci)[2] if ci >= 0 else f"Job {j + 1}"
    rt_name = co.wf.record_types[int(co.job_rt[j])].name
    return _ref(co.jnid("jobs", j), f"{name} - {rt_name}", str(j + 1), "job")


def _contact_ref(co: Company, ci: int) -> dict:
    return _ref(co.jnid("contacts", ci), contact_name(co, ci)[2], str(ci + 1), "contact")


def _common(co: Company, ctx: _Ctx, r: str, i: int, typ: str, created: int, du: int, rep: int):
    rep_id, rep_name = ctx.reps[rep]
    return {
        "jnid": co.jnid(r, i),
        "type": typ,
        "recid": i + 1,
        "number": str(i + 1),
        "customer": co.customer,
        "created_by": rep_id,
        "created_by_name": rep_name,
        "date_created": created,
        "date_updated": du,
        "is_active": True,
        "is_archived": False,
        "owners": [{"id": rep_id}],
        "sales_rep": rep_id,
        "sales_rep_name": rep_name,
        "tags": [],
        "location": {"id": 1},
    }


def _contacts(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx = st.co, _ctx(st.co)
    cols = zip(
        idx.tolist(),
        co.contact_created[idx].tolist(),
        st.du_all("contacts")[idx].tolist(),
        co.contact_type[idx].tolist(),
        co.contact_source[idx].tolist(),
        co.contact_rep[idx].tolist(),
        co.contact_edit_t[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, ctype, src, rep, et in cols:
        h = mix(co._salt ^ (0xC0000000 + i))
        first, last, display = contact_name(co, i)
        rec = _common(co, ctx, "contacts", i, "contact", created, du, rep)
        wf = ctx.contact_wf[ctype]
        status = wf["status"][1 if h & 0x300 else 0]
        email_ok = h % 7 != 0
        rec.update(
            {
                "first_name": first,
                "last_name": last,
                "display_name": display,
                "company": COMPANIES[(h >> 28) % len(COMPANIES)] if ctype else "",
                "email": f"{first}.{last}{i}".translate(_ASCII).lower() + "@example.com"
                if email_ok
                else "",
                "home_phone": f"(720) 555-{(h >> 4) % 10000:04d}" if h & 0x4000 else "",
                "mobile_phone": f"(303) 555-{(h >> 18) % 10000:04d}",
                "work_phone": "",
                "record_type": wf["id"],
                "record_type_name": CONTACT_TYPES[ctype],
                "status": status["id"],
                "status_name": status["name"],
                "source": src + 1,
                "source_name": SOURCES[src][0],
                "is_sub_contractor": CONTACT_TYPES[ctype] == "Subcontractor",
                "primary": None,
                "related": [],
                **_address(h),
            }
        )
        if 0 < et <= st.now:
            rec["tags"] = ["Follow Up"]
        out.append(rec)
    return out


def _jobs(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cur = st.job_cur[idx]
    cols = zip(
        idx.tolist(),
        co.job_created[idx].tolist(),
        st.du_all("jobs")[idx].tolist(),
        co.job_rt[idx].tolist(),
        co.job_contact[idx].tolist(),
        co.job_rep[idx].tolist(),
        co.job_source[idx].tolist(),
        co.job_value[idx].tolist(),
        co.job_edit_k[idx].tolist(),
        co.job_edit_t[idx].tolist(),
        co.move_status[cur].tolist(),
        co.move_time[cur].tolist(),
        co.job_t_est[idx].tolist(),
        co.job_t_ar[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, rt, ci, rep, src, value, ek, et, gsi, tsc, t_est, t_ar in cols:
        rec = _common(co, ctx, "jobs", i, "job", created, du, rep)
        rt_id, rt_name = ctx.rt[rt]
        sid, sname, is_lead, is_closed = ctx.status[gsi]
        est = value / 100 if t_est <= now else 0.0
        inv = value / 100 if t_ar <= now else 0.0
        if ci >= 0:
            cref = _contact_ref(co, ci)
            name = f"{cref['name']} - {rt_name}"
            addr = _address(mix(co._salt ^ (0xC0000000 + ci)))
            rec["primary"] = cref
            rec["related"] = [cref]
        else:
            addr = _address(mix(co._salt ^ (0x70000000 + i)))
            name = f"{addr['address_line1']} - {rt_name}"
            rec["related"] = []
        edited = 0 < et <= now
        rec.update(
            {
                "name": name,
                "display_name": name,
                "record_type": rt_id,
                "record_type_name": rt_name,
                "status": sid,
                "status_name": sname,
                "date_status_change": tsc,
                "is_lead": is_lead,
                "is_closed": is_closed,
                "source": src + 1,
                "source_name": SOURCES[src][0],
                "approved_estimate_total": est,
                "approved_invoice_total": inv,
                "approved_invoice_due": inv,
                "last_estimate": est,
                "last_invoice": inv,
                "last_budget_revenue": est,
                "last_budget_gross_profit": round(est * 0.35, 2),
                "last_budget_gross_margin": 35.0 if est else 0.0,
                "description": "",
                "subcontractors": [],
                "cf_string_1": ("Asphalt Shingle", "Metal", "Tile", "Flat/TPO")[value % 4],
                **addr,
            }
        )
        if edited:
            if ek == 1:
                rec["tags"] = ["Follow Up"]
            elif ek == 2:
                rec["is_archived"] = True
            elif ek == 3:
                rec["is_active"] = False
        out.append(rec)
    return out


def _child_links(co: Company, j: int) -> tuple[dict, list[dict]]:
    jref = _job_ref(co, j)
    ci = int(co.job_contact[j])
    related = [jref] if ci < 0 else [jref, _contact_ref(co, ci)]
    return jref, related


def _payments(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.pay_created[idx].tolist(),
        st.du_all("payments")[idx].tolist(),
        co.pay_job[idx].tolist(),
        co.pay_amount[idx].tolist(),
        co.pay_edit_k[idx].tolist(),
        co.pay_edit_t[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, j, cents, ek, et in cols:
        h = _payment_hash(co, i)
        rec = _common(co, ctx, "payments", i, "payment", created, du, int(co.job_rep[j]))
        jref, related = _child_links(co, j)
        total = cents / 100
        inv = int(co.inv_of_job[j])
        inv_jnid = co.jnid("invoices", inv)
        inv_no = inv + 1
        iref = _ref(inv_jnid, f"#{inv_no}", str(inv_no), "invoice")
        # The owners' shape: the invoice is in related; primary is the job (sometimes the invoice)
        rec["primary"] = iref if h % 5 == 0 else jref
        rec["related"] = [*related, iref]
        card = h & 0x100 != 0
        credit, refunded = _payment_deductions(h, total)
        online = card and (h >> 24) % 3 != 0
        rec.update(
            {
                "total": total,
                "credit": credit,
                "refunded_amount": refunded,
                "date_payment": created - created % 86400 + 43200,
                "method_id": 3 if card else 1,
                "method": "Credit Card" if card else "Check",
                "created_by_processor": "Payrix" if online else None,
                "PaymentSource": "Payrix" if online else "Manual",
                "reference": f"txn_{h >> 30:x}"[:14] if online else f"Check #{1000 + h % 9000}",
                "invoices": [
                    {
                        "amount": total,
                        "invoice_id": inv_jnid,
                        "invoice_no": str(inv_no),
                        "jnid": f"{rec['jnid']}_1",  # the payment's own line, not the invoice
                    }
                ],
                "description": "",
            }
        )
        if refunded:
            rec["refund_id"] = f"rf_{(h >> 32) & 0xFFFFFFF:07x}"
        if 0 < et <= now:
            if ek == 2:
                rec["is_archived"] = True
            elif ek == 3:
                rec["is_active"] = False
        out.append(rec)
    return out


def _payment_deductions(h: int, total: float) -> tuple[float, float]:
    """(credit, refunded_amount) of a payment of ``total`` dollars whose hash is ``h``."""
    credit = round(total * (2 + (h >> 12) % 14) / 100, 2) if (h >> 9) % 10 == 0 else 0.0
    refund = (h >> 20) % 40
    if refund == 0:  # a partial refund
        refunded = round(min(total - credit, total * 0.1), 2)
    elif refund == 1:  # the whole payment refunded
        refunded = round(total - credit, 2)
    else:
        refunded = 0.0
    return credit, refunded


def _payment_hash(co: Company, i: int) -> int:
    return mix(co._salt ^ (0x9A000000 + i))


def _items(h: int, budget_cents: int, n: int) -> list[tuple[float, int]]:
    """n (unit cost, quantity) pairs whose total is about ``budget_cents``."""
    out = []
    for k in range(n):
        qty = 1 + (h >> (8 * k)) % 4
        share = budget_cents / n * (0.6 + ((h >> (8 * k + 3)) % 9) / 10)
        out.append((max(1, round(share / qty)) / 100, qty))
    return out


def _workorders(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.wo_created[idx].tolist(),
        st.du_all("workorders")[idx].tolist(),
        co.wo_job[idx].tolist(),
        co.wo_start[idx].tolist(),
        co.wo_end[idx].tolist(),
        co.wo_sub[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, j, ds, de, sub in cols:
        h = mix(co._salt ^ (0x3B000000 + i))
        rec = _common(co, ctx, "workorders", i, "workorder", created, du, int(co.job_rep[j]))
        jref, related = _child_links(co, j)
        n = 1 + h % 3
        pairs = _items(h >> 2, int(co.job_value[j]) * 38 // 100, n)
        items = [
            {
                "name": LABOR_ITEMS[(h >> (5 * k + 7)) % len(LABOR_ITEMS)].title(),
                "item_type": LABOR_ITEMS[(h >> (5 * k + 7)) % len(LABOR_ITEMS)],
                "cost": c,
                "price": round(c * 1.4, 2),
                "quantity": q,
            }
            for k, (c, q) in enumerate(pairs)
        ]
        subs = []
        if sub >= 0:
            sc = int(co.sub_contacts[sub])
            subs = [{"id": co.jnid("contacts", sc), "name": contact_name(co, sc)[2]}]
        done = 0 < de <= now
        rec.update(
            {
                "primary": jref,
                "related": related,
                "record_type": 2 if subs else 1,
                "record_type_name": "Subcontractor Work Order" if subs else "Crew Work Order",
                "status": 902 if done else 901,
                "status_name": "Completed" if done else "Scheduled",
                "date_start": ds,
                "date_end": de,
                "items": items,
                "total_line_item_cost": round(sum(it["cost"] * it["quantity"] for it in items), 2),
                "total_line_item_price": round(
                    sum(it["price"] * it["quantity"] for it in items), 2
                ),
                "subcontractors": subs,
                "description": "",
            }
        )
        out.append(rec)
    return out


def _materialorders(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.mo_created[idx].tolist(),
        st.du_all("materialorders")[idx].tolist(),
        co.mo_job[idx].tolist(),
        co.mo_upd[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, j, upd in cols:
        h = mix(co._salt ^ (0x4C000000 + i))
        rec = _common(
            co, ctx, "materialorders", i, "materialorder", created, du, int(co.job_rep[j])
        )
        jref, related = _child_links(co, j)
        budget = int(co.job_value[j]) * 28 // 100
        n = 1 + h % 4
        items = []
        for k in range(n):
            sku, uom, cost, price = MATERIALS[(h >> (4 * k + 3)) % len(MATERIALS)]
            qty = max(1, round(budget / n / (cost * 100)))
            items.append(
                {"sku": sku, "name": sku, "uom": uom, "cost": cost, "price": price, "quantity": qty}
            )
        fate = (h >> 40) % 12  # 0: never sent (a draft), 1: cancelled, else submitted
        if upd > now or fate == 0:
            status_id, status_name = 911, "Draft"
        elif fate == 1:
            status_id, status_name = 913, "Cancelled"
        else:
            status_id, status_name = 912, "Submitted"
        supplier = SUPPLIERS[(h >> 20) % len(SUPPLIERS)]
        rec.update(
            {
                "primary": jref,
                "related": related,
                "date_materialorder": created,
                "status": status_id,
                "status_name": status_name,
                "supplier": {
                    "type": "supplier",
                    "name": supplier,
                    "branch": CITIES[(h >> 28) % len(CITIES)][0],
                    "status": "active",
                    "po": f"PO-{i + 1:06d}",
                },
                "items": items,
                "total_line_item_cost": round(sum(it["cost"] * it["quantity"] for it in items), 2),
                "total_line_item_price": round(
                    sum(it["price"] * it["quantity"] for it in items), 2
                ),
                "description": "",
            }
        )
        out.append(rec)
    return out


def _activities(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx = st.co, _ctx(st.co)
    cols = zip(
        idx.tolist(),
        co.act_created[idx].tolist(),
        co.act_job[idx].tolist(),
        co.act_move[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, j, mv in cols:
        h = mix(co._salt ^ (0xAC000000 + i))
        rep = int(co.job_rep[j])
        rec = _common(co, ctx, "activities", i, "activity", created, created, rep)
        if h % 4 == 0:
            uid, uname = ctx.office[(h >> 3) % 2]
            rec["created_by"], rec["created_by_name"] = uid, uname
        jref = _job_ref(co, j)
        ci = int(co.job_contact[j])
        primary = jref
        related = [jref] if ci < 0 else [jref, _contact_ref(co, ci)]
        ids: dict[str, int] = {}
        if mv >= 0:
            to = _status_at(ctx, int(co.move_status[mv]), created, co.renamed_at)
            ids["status_id"] = ctx.status[int(co.move_status[mv])][0]
            if mv == int(co.move_off[j]):  # the first status (only when log_first_status)
                frm = "(none)"
            else:
                frm = _status_at(ctx, int(co.move_status[mv - 1]), created, co.renamed_at)
                ids["previous_status_id"] = ctx.status[int(co.move_status[mv - 1])][0]
            note = f"Status: {frm} => {to}" if i % 2 == 0 else f"Status changed from {frm} to {to}"
            if h % 6 == 1:  # free text under the change: only the first line is the change
                note += "\n" + NOTE_SECOND_LINES[(h >> 5) % len(NOTE_SECOND_LINES)]
        elif mv == ACT_CONTACT:  # the contact's own status moved; its job is only in related
            flow = ctx.contact_wf[int(co.contact_type[ci])]["status"]
            note = f"Status: {flow[0]['name']} => {flow[1]['name']}"
            ids = {"status_id": flow[1]["id"], "previous_status_id": flow[0]["id"]}
            primary = _contact_ref(co, ci)
            related = [primary, jref]
        else:
            note = NOTES[(h >> 8) % len(NOTES)]
        rec.update(
            {
                "record_type": 1,
                "record_type_name": "Note",
                "is_status_change": mv != ACT_NOTE,
                "note": note,
                "primary": primary,
                "related": related,
                **ids,
            }
        )
        out.append(rec)
    return out


def _invoice_paid(st: State, j: int) -> tuple[float, int]:
    """(dollars paid, time of the latest payment) of job ``j``'s invoice at the state's clock:
    its payments that count (arrived, not archived or deleted since), net of credits and refunds,
    so the invoice's due agrees with the job's approved_invoice_total minus its revenue."""
    co, now = st.co, st.now
    paid, last = 0.0, 0
    for p in co.pay_by_job[co.pay_job_off[j] : co.pay_job_off[j + 1]].tolist():
        created = int(co.pay_created[p])
        if created > now:
            continue
        et = int(co.pay_edit_t[p])
        if co.pay_edit_k[p] > 0 and 0 < et <= now:
            continue
        total = int(co.pay_amount[p]) / 100
        credit, refunded = _payment_deductions(_payment_hash(co, p), total)
        paid += total - credit - refunded
        last = max(last, created)
    return round(paid, 2), last


def _invoices(st: State, idx: np.ndarray) -> list[dict]:
    from .company import INV_MAIN, INV_NO_JOB, INV_VOID

    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.inv_created[idx].tolist(),
        st.du_all("invoices")[idx].tolist(),
        co.inv_kind[idx].tolist(),
        co.inv_job[idx].tolist(),
        co.inv_contact[idx].tolist(),
        co.inv_cents[idx].tolist(),
        co.inv_terms[idx].tolist(),
        co.inv_event_t[idx].tolist(),
        co.inv_archive_t[idx].tolist(),
        co.inv_rep[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, kind, j, ci, cents, terms, event, archive, rep in cols:
        rec = _common(co, ctx, "invoices", i, "invoice", created, du, rep)
        total = cents / 100
        paid, changed, paid_at = 0.0, created, 0
        status = (2, "Sent")
        if kind == INV_MAIN:
            paid, last = _invoice_paid(st, j)
            changed = max(created, last)
            if paid >= total:
                status, paid_at = (4, "Paid"), last
            elif paid > 0:
                status = (3, "Partially Paid")
        elif kind == INV_VOID:  # a draft the job's invoice replaced, then voided
            # (a void keeps its due: the API says so)
            status, changed = ((5, "Void"), event) if event <= now else ((1, "Draft"), created)
        elif kind == INV_NO_JOB and event <= now:
            paid, status, changed, paid_at = total, (4, "Paid"), event, event
        related = [] if j < 0 else [_job_ref(co, j)]
        if ci >= 0:
            related.append(_contact_ref(co, ci))
        rec.update(
            {
                "primary": related[0] if related else None,
                "related": related,
                "status": status[0],
                "status_name": status[1],
                "date_status_change": changed,
                "date_invoice": created,
                "date_due": created + terms,
                "date_paid_in_full": paid_at,
                "subtotal": total,
                "tax": 0.0,
                "total": total,
                "total_paid": paid,
                "due": round(total - paid, 2),
                "items": [],
                "payments": [],
            }
        )
        if archive <= now:
            rec["is_archived"] = True
        out.append(rec)
    return out


ESTIMATE_STATUS = {0: (2, "Sent"), 1: (3, "Approved"), 2: (4, "Declined")}


def _estimates(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.est_created[idx].tolist(),
        st.du_all("estimates")[idx].tolist(),
        co.est_job[idx].tolist(),
        co.est_fate[idx].tolist(),
        co.est_fate_t[idx].tolist(),
        co.est_cents[idx].tolist(),
        co.est_archive_t[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, j, fate, fate_t, cents, archive in cols:
        rec = _common(co, ctx, "estimates", i, "estimate", created, du, int(co.job_rep[j]))
        jref, related = _child_links(co, j)
        decided = fate_t <= now
        status = ESTIMATE_STATUS[fate if decided else 0]
        total = cents / 100
        rec.update(
            {
                "primary": jref,
                "related": related,
                "status": status[0],
                "status_name": status[1],
                "date_estimate": created,
                "date_status_change": fate_t if decided else created,
                "subtotal": total,
                "tax": 0.0,
                "total": total,
                "items": [],
            }
        )
        if archive <= now:
            rec["is_archived"] = True
        out.append(rec)
    return out


TASK_TYPES = ("Appointment", "Follow Up", "Inspection", "Phone Call")


def _tasks(st: State, idx: np.ndarray) -> list[dict]:
    co, ctx, now = st.co, _ctx(st.co), st.now
    cols = zip(
        idx.tolist(),
        co.task_created[idx].tolist(),
        st.du_all("tasks")[idx].tolist(),
        co.task_job[idx].tolist(),
        co.task_contact[idx].tolist(),
        co.task_start[idx].tolist(),
        co.task_end[idx].tolist(),
        co.task_done_t[idx].tolist(),
        co.task_gone_t[idx].tolist(),
        co.task_gone_k[idx].tolist(),
        co.task_rep[idx].tolist(),
        co.task_kind[idx].tolist(),
        co.task_priority[idx].tolist(),
        strict=True,
    )
    out = []
    for i, created, du, j, ci, start, end, done, gone, gone_k, rep, kind, prio in cols:
        rec = _common(co, ctx, "tasks", i, "task", created, du, max(rep, 0))
        del rec["sales_rep"], rec["sales_rep_name"]  # tasks are assigned through owners
        if rep < 0:
            rec["owners"] = []
        related = [] if j < 0 else [_job_ref(co, j)]
        if ci >= 0:
            related.append(_contact_ref(co, ci))
        about = related[0]["name"] if related else "office"
        rec.update(
            {
                "primary": related[0] if related else None,
                "related": related,
                "title": f"{TASK_TYPES[kind]}: {about}",
                "record_type": kind + 1,
                "record_type_name": TASK_TYPES[kind],
                "date_start": start,
                "date_end": end,
                "is_completed": done <= now,
                "priority": prio,
                "description": "",
            }
        )
        if gone <= now:
            rec["is_archived" if gone_k == 2 else "is_active"] = gone_k == 2
        out.append(rec)
    return out


def _status_at(ctx: _Ctx, gsi: int, when: int, renamed_at: int) -> str:
    """A status's name as an activity logged at `when` spells it (the old name before a rename)."""
    old = ctx.old_name[gsi]
    return old if old is not None and when < renamed_at else ctx.status[gsi][1]


def _later(now: int, base: np.ndarray, *events: np.ndarray) -> np.ndarray:
    """date_updated: the latest of ``base`` and the ``events`` that happened by ``now``."""
    out = base
    for t in events:
        out = np.where((t > out) & (t <= now), t, out)
    return out


def _invoices_updated(st: State) -> np.ndarray:
    from .company import INV_MAIN

    co, now = st.co, st.now
    arrived = np.where(co.pay_created <= now, co.pay_created, 0)
    edited = np.where((co.pay_edit_k > 0) & (co.pay_edit_t > 0) & (co.pay_edit_t <= now),
                      co.pay_edit_t, 0)  # fmt: skip
    per_job = np.zeros(co.n_jobs, dtype=np.int64)
    np.maximum.at(per_job, co.pay_job, np.maximum(arrived, edited))
    paid = np.where(co.inv_kind == INV_MAIN, per_job[np.maximum(co.inv_job, 0)], 0)
    return _later(now, co.inv_created, paid, co.inv_event_t, co.inv_archive_t)


@dataclass(frozen=True)
class Generator:
    """How the company serves one stream: its records' creation times, their date_updated at a
    clock, their payloads, and (for fast link filters) the job each belongs to (-1: none)."""

    created: Callable[[Company], np.ndarray]
    updated: Callable[[State], np.ndarray]
    render: Callable[[State, np.ndarray], list[dict]]
    job: Callable[[Company], np.ndarray] | None = None


# Every stream of the registry (streams.py) has its generator here; company.py draws the arrays.
GENERATORS: dict[str, Generator] = {
    "contacts": Generator(lambda co: co.contact_created,
                          lambda st: _later(st.now, st.co.contact_created, st.co.contact_edit_t),
                          _contacts),
    "jobs": Generator(lambda co: co.job_created,
                      lambda st: _later(st.now, st.co.move_time[st.job_cur], st.co.job_edit_t),
                      _jobs),
    "payments": Generator(lambda co: co.pay_created,
                          lambda st: _later(st.now, st.co.pay_created, st.co.pay_edit_t),
                          _payments, lambda co: co.pay_job),
    "workorders": Generator(lambda co: co.wo_created,
                            lambda st: _later(st.now, st.co.wo_created, st.co.wo_end),
                            _workorders, lambda co: co.wo_job),
    "materialorders": Generator(lambda co: co.mo_created,
                                lambda st: _later(st.now, st.co.mo_created, st.co.mo_upd),
                                _materialorders, lambda co: co.mo_job),
    "invoices": Generator(lambda co: co.inv_created, _invoices_updated, _invoices,
                          lambda co: co.inv_job),
    "estimates": Generator(lambda co: co.est_created,
                           lambda st: _later(st.now, st.co.est_created, st.co.est_fate_t,
                                             st.co.est_archive_t),
                           _estimates, lambda co: co.est_job),
    "tasks": Generator(lambda co: co.task_created,
                       lambda st: _later(st.now, st.co.task_created, st.co.task_done_t,
                                         st.co.task_gone_t),
                       _tasks, lambda co: co.task_job),
    "activities": Generator(lambda co: co.act_created, lambda st: st.co.act_created,
                            _activities, lambda co: co.act_job),
}  # fmt: skip
_RENDER = {r: g.render for r, g in GENERATORS.items()}
