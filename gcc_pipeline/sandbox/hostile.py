"""A small corpus of malformed job and payment records, for robustness tests (``hostile=True``).

Every record has an int ``date_updated`` inside the history window, so a plain window fetch
returns it; the damage is elsewhere in the payload. One exception: a job whose ``date_updated``
lies a year ahead of its company's clock (a date typed wrong, a device clock gone wrong), which
must neither be lost nor make later catch-ups skip what changes before that date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .company import RESOURCES
from .records import Hostile

if TYPE_CHECKING:
    from .company import Company

BIG_NOTE_CHARS = 5_000_000
LONG_JNID = "jHOSTILELONG" + "x" * (10_000 - 12)


def _base(co: Company, jnid: str | None, typ: str, t: int) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "type": typ,
        "recid": 900_000,
        "number": "H-1",
        "customer": co.customer,
        "date_created": t,
        "date_updated": t,
        "is_active": True,
        "is_archived": False,
        "owners": [],
        "tags": ["hostile"],
        "location": {"id": 1},
    }
    if jnid is not None:
        rec = {"jnid": jnid, **rec}
    return rec


def build_hostile(co: Company) -> dict[str, list[Hostile]]:
    """Hostile jobs and payments, dated a few days before the anchor (minutes apart)."""
    t0 = co.anchor - 5 * 86400
    rt = co.wf.record_types[0]
    jobs: list[dict[str, Any]] = []

    def job(jnid: str | None, **fields: Any) -> None:
        rec = _base(co, jnid, "job", t0 + 60 * len(jobs))
        rec.update({"record_type": rt.id, "record_type_name": rt.name, "status_name": "Lead"})
        rec.update(fields)
        jobs.append(rec)

    job(None, name="job without a jnid")
    job(LONG_JNID, name="job with a 10,000 character jnid")
    job("jHOSTILESTRNUM", approved_invoice_total="12,50", approved_estimate_total="1.234,56",
        recid="abc", date_status_change="2024-01-05")  # fmt: skip
    job("jHOSTILENAN", approved_estimate_total=float("nan"),
        approved_invoice_total=float("inf"), geo={"lat": float("-inf"), "lon": 0})  # fmt: skip
    job("jHOSTILEEPOCH", date_created=-86400, date_status_change=1_700_000_000_000)
    job("jHOSTILENULLS", primary=None, related=[None], owners=None, location=None, tags=None)
    job("jHOSTILERTYPE", record_type=999_999, record_type_name="Mystery Workflow",
        status=424_242, status_name="Under Review")  # fmt: skip
    job("jHOSTILETEXT", name="Bad \ud800 surrogate and NUL \u0000 here",
        description="line\u0000break \udfff")  # fmt: skip
    job("jHOSTILEBIG", name="very large payload", description="A" * BIG_NOTE_CHARS)
    job("jHOSTILEDUP", name="duplicate jnid, first copy", status_name="Lead")
    job("jHOSTILEDUP", name="duplicate jnid, second copy", status_name="Estimating")
    # One fault each, so every quarantine reason is reachable (jHOSTILETEXT and jHOSTILEEPOCH
    # hold two faults and are stopped by the first one checked).
    job("jHOSTILESURROGATE", name="unpaired \udc00 surrogate only")
    job("jHOSTILEMSEPOCH", date_status_change=1_700_000_000_000)
    job("jHOSTILEFUTURE", name="job last updated a year from now",
        date_updated=co.anchor + 400 * 86400)  # fmt: skip

    pays: list[dict[str, Any]] = []

    def pay(jnid: str | None, **fields: Any) -> None:
        rec = _base(co, jnid, "payment", t0 + 60 * len(pays) + 30)
        rec.update({"total": 100.0, "credit": 0.0, "date_payment": t0, "method_id": 1})
        rec.update(fields)
        pays.append(rec)

    job0 = {"id": co.jnid("jobs", 0), "type": "job", "name": "job 1", "number": "1"}
    pay(None, related=[job0])
    pay("pHOSTILESTRNUM", total="12,50", credit="0,00", related=[job0])
    pay("pHOSTILENAN", total=float("nan"), credit=float("inf"), related=[job0])
    pay("pHOSTILEEPOCH", date_payment=1_700_000_000_000, date_created=-1, related=[job0])
    pay("pHOSTILENULLS", primary=None, related=[None], invoices=[None])
    pay("pHOSTILENOJOB", related=[{"id": "jDOESNOTEXIST", "type": "job"}])
    pay("pHOSTILETEXT", reference="ref \ud800\u0000", related=[job0])
    pay("pHOSTILEDUP", total=50.0, related=[job0])
    pay("pHOSTILEDUP", total=75.0, related=[job0])

    def wrap(recs: list[dict[str, Any]]) -> list[Hostile]:
        out = []
        for rec in recs:
            created = rec["date_created"]
            out.append(
                Hostile(
                    rec,
                    born=co.start,
                    created=created if isinstance(created, int) else 0,
                    updated=rec["date_updated"],
                )
            )
        return out

    return {r: [] for r in RESOURCES} | {"jobs": wrap(jobs), "payments": wrap(pays)}
