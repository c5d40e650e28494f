"""The owners' metrics computed in Python from the payloads a sandbox company serves.

This is the "known truth" the analytics views and the README's dashboard queries are checked
against. It parses the payloads with the project's parsers (what a record *is* is settled there)
and resolves stages with the mapping file, but computes every metric here, from the definitions
in README "Metrics", never from the warehouse's SQL.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from gcc_pipeline.jobnimbus.records import (
    parse_activity,
    parse_contact,
    parse_job,
    parse_materialorder,
    parse_payment,
    parse_workorder,
)
from gcc_pipeline.stage_mapping import STAGES, load_mapping, lookup_rows, status_key
from gcc_pipeline.streams import STREAMS

ORDER = {stage: i + 1 for i, stage in enumerate(STAGES)}
FUNNEL = STAGES[:6]  # Lead .. Completed
PIPELINE_STAGES = ("Estimating", "Sold", "In Production")  # the PRD's pipeline value
OPEN_STAGES = ("Lead", "Estimating", "Sold", "In Production", "Accounts Receivable")
UNASSIGNED = "(unassigned)"
ZERO = Decimal("0.00")


def live(row: dict[str, Any]) -> bool:
    """Active and not archived (the API soft-deletes with is_active = false)."""
    return row["is_active"] is not False and row["is_archived"] is not True


def days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def ratio(numerator: float | Decimal, denominator: float | Decimal) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


@dataclass
class Payment:
    """A payment that counts as revenue, with the dimensions every breakdown uses."""

    id: str
    day: date
    revenue: Decimal  # total - credit - refunded
    gross: Decimal
    record_type_name: str
    is_legacy: bool
    sales_rep_id: str
    payment_method: str
    lead_source: str
    job_id: str | None

    @property
    def month(self) -> date:
        return self.day.replace(day=1)


@dataclass
class Job:
    """A live, non-test job (legacy included) with what its history says."""

    row: dict[str, Any]
    stage: str | None
    history: list[tuple[datetime, str, str | None]]  # (when, status name, stage)
    source: str
    rep: str
    local: ZoneInfo

    @property
    def id(self) -> str:
        return self.row["id"]

    def first(self, test: Any) -> datetime | None:
        return min((t for t, name, stage in self.history if test(name, stage)), default=None)

    @property
    def date_sold(self) -> datetime | None:
        return self.first(lambda _, s: s is not None and 3 <= ORDER[s] <= 6)

    @property
    def date_lost(self) -> datetime | None:
        return self.first(lambda _, s: s == "Lost")

    @property
    def date_completed(self) -> datetime | None:
        return self.first(lambda n, s: s == "Completed" or status_key(n) == "paid & closed")

    @property
    def won(self) -> bool:
        return self.date_sold is not None

    @property
    def lost(self) -> bool:
        return self.stage == "Lost" and not self.won

    @property
    def estimate(self) -> Decimal:
        return self.row["approved_estimate_total"] or ZERO

    @property
    def pipeline_value(self) -> Decimal:
        return self.estimate if self.stage in PIPELINE_STAGES else ZERO

    @property
    def days_to_close(self) -> float | None:
        sold, created = self.date_sold, self.row["date_created"]
        return days(sold, created) if sold and created else None

    def month_of(self, moment: datetime | None) -> date | None:
        return moment.astimezone(self.local).date().replace(day=1) if moment else None

    def entries(self) -> list[tuple[datetime, str]]:
        """Stage entries: rows without a stage skipped, consecutive same-stage rows collapsed."""
        out: list[tuple[datetime, str]] = []
        for t, _, stage in self.history:
            if stage is not None and (not out or out[-1][1] != stage):
                out.append((t, stage))
        return out

    @property
    def stage_entered_at(self) -> datetime | None:
        entries = self.entries()
        if entries and entries[-1][1] == self.stage:
            return entries[-1][0]
        return self.row["date_status_change"] or self.row["date_created"]

    @property
    def is_open(self) -> bool:
        """In Lead .. Accounts Receivable and not completed (Paid & Closed)."""
        completed = status_key(self.row["status_name"] or "") == "paid & closed"
        return self.stage in OPEN_STAGES and not completed

    def left(self, stage: str) -> int:
        """Visits to a stage that ended (a later stage was entered)."""
        return sum(s1 == stage for (_, s1), _ in pairwise(self.entries()))

    def days_in(self, stage: str) -> float | None:
        """Days spent in a stage over the visits that ended (None: never left it)."""
        spent = [days(t2, t1) for (t1, s1), (t2, _) in pairwise(self.entries()) if s1 == stage]
        return sum(spent) if spent else None


@dataclass
class Truth:
    tz: str
    jobs: dict[str, Job]  # live, non-test jobs
    all_jobs: dict[str, dict[str, Any]]  # every parsed job (archived, test, ...)
    contacts: dict[str, dict[str, Any]]
    payments: list[Payment]  # those that count as revenue
    costs: list[tuple[dict[str, Any], dict[str, Any] | None]]  # (expense, its job) that count
    rep_names: dict[str, str]
    now: datetime  # the company's clock
    raw: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    # ------------------------------------------------------------ building

    @classmethod
    def of(cls, company: Any, tz: str) -> "Truth":
        local = ZoneInfo(tz)
        raw = {s.name: list(company.records(s.name)) for s in STREAMS}
        lookup = {
            (r.record_type_id, status_key(r.status_name)): r
            for r in lookup_rows(load_mapping(), company.settings())
        }
        by_id = {(r.record_type_id, r.status_id): r for r in lookup.values() if r.status_id}
        contacts = {c["id"]: c for c in map(parse_contact, raw["contacts"])}
        all_jobs = {j["id"]: j for j in map(parse_job, raw["jobs"])}

        def stage(job: dict[str, Any], name: str, status_id: int | None) -> str | None:
            row = lookup.get((job["record_type_id"], status_key(name)))
            if row is None or row.stage is None:
                row = by_id.get((job["record_type_id"], status_id)) or row
            return row.stage if row else None

        changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for act in raw["activities"]:
            change = parse_activity(act)
            if change and change["job_id"] in all_jobs:
                changes[change["job_id"]].append(change)
        jobs = {}
        for job_id, job in all_jobs.items():
            if not live(job) or job["is_test"]:
                continue
            mine = sorted(changes.get(job_id, []), key=lambda c: (c["changed_at"], c["id"]))
            first = mine[0] if mine else None
            created = (
                (first["previous_status_name"], first["previous_status_id"])
                if first
                else (job["status_name"], job["status_id"])
            )
            history = [(job["date_created"], created[0], stage(job, *created))]
            history += [
                (c["changed_at"], c["status_name"], stage(job, c["status_name"], c["status_id"]))
                for c in mine
            ]
            contact = contacts.get(job["primary_contact_id"]) or {}
            jobs[job_id] = Job(
                row=job,
                stage=stage(job, job["status_name"], None) if job["status_name"] else None,
                history=history,
                source=job["source_name"] or contact.get("lead_source") or UNASSIGNED,
                rep=job["sales_rep_id"] or UNASSIGNED,
                local=local,
            )
        payments = []
        for p in map(parse_payment, raw["payments"]):
            job = all_jobs.get(p["job_id"])
            paid_at = p["date_payment"] or p["date_created"]
            payer = contacts.get(p["contact_id"]) or {}
            if not live(p) or paid_at is None:
                continue
            if (job and job["is_test"]) or (job is None and payer.get("is_test")):
                continue
            job_contact = contacts.get(job["primary_contact_id"]) or {} if job else {}
            payments.append(
                Payment(
                    id=p["id"],
                    day=paid_at.astimezone(local).date(),
                    revenue=(p["amount"] or ZERO) - p["credit"] - p["refunded_amount"],
                    gross=p["amount"] or ZERO,
                    record_type_name=(job or {}).get("record_type_name") or UNASSIGNED,
                    is_legacy=bool(job and job["is_legacy"]),
                    sales_rep_id=(job or {}).get("sales_rep_id") or p["sales_rep_id"] or UNASSIGNED,
                    payment_method=p["payment_method"] or UNASSIGNED,
                    lead_source=(job or {}).get("source_name")
                    or job_contact.get("lead_source")
                    or payer.get("lead_source")
                    or UNASSIGNED,
                    job_id=job["id"] if job else None,
                )
            )
        costs = []
        for e in [*map(parse_workorder, raw["workorders"]),
                  *map(parse_materialorder, raw["materialorders"])]:  # fmt: skip
            job = all_jobs.get(e["job_id"])
            draft = e["source_entity"] == "materialorder" and status_key(
                e["status_name"] or ""
            ) in ("draft", "cancelled", "canceled")
            if live(e) and not draft and not (job and job["is_test"]):
                costs.append((e, job))
        rep_names = {u["id"]: u["name"] for u in company.users()}
        for record in raw["jobs"] + raw["contacts"]:
            if record.get("sales_rep") and record.get("sales_rep_name"):
                rep_names.setdefault(record["sales_rep"], record["sales_rep_name"])
        now = datetime.fromtimestamp(company.now, tz=ZoneInfo("UTC"))
        return cls(tz, jobs, all_jobs, contacts, payments, costs, rep_names, now, raw)

    # ------------------------------------------------------------ helpers

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.tz)).date()

    def month(self, moment: datetime) -> date:
        return self.local_date(moment).replace(day=1)

    def revenue(self, **dims: Any) -> Decimal:
        """Revenue of the payments whose dimensions equal `dims` (day_from/day_to: a range)."""
        return sum((p.revenue for p in self.select(**dims)), ZERO)

    def select(self, day_from: date | None = None, day_to: date | None = None,
               **dims: Any) -> Iterator[Payment]:  # fmt: skip
        for p in self.payments:
            if (day_from and p.day < day_from) or (day_to and p.day > day_to):
                continue
            if all(getattr(p, k) == v for k, v in dims.items()):
                yield p

    def rep_name(self, rep: str) -> str:
        return UNASSIGNED if rep == UNASSIGNED else self.rep_names.get(rep, rep)

    def cost_month(self, expense: dict[str, Any]) -> date:
        return self.month(expense["date_expense"])

    def leads(self) -> list[dict[str, Any]]:
        """Contacts that are leads: live, not test records, not subcontractors."""
        return [
            c
            for c in self.contacts.values()
            if live(c) and not c["is_test"] and not c["is_sub_contractor"]
        ]

    def velocity(self) -> dict[tuple[str, bool, str, str], list[float]]:
        out: dict[tuple[str, bool, str, str], list[float]] = defaultdict(list)
        for job in self.jobs.values():
            entries = job.entries()
            for (t1, s1), (t2, s2) in pairwise(entries):
                rt = job.row["record_type_name"] or UNASSIGNED
                out[(rt, job.row["is_legacy"], s1, s2)].append(days(t2, t1))
        return out
