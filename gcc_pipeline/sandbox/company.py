"""The synthetic roofing company: compact arrays, a precomputed timeline and a movable clock.

Every record's whole life (creation, status moves, payments, later edits) is drawn up front,
including events after the anchor. The clock ``now`` only decides which events are visible, so
advancing it changes exactly the records with an event in the interval, and a record's
``date_updated`` is the time of its latest visible event. Payload dicts are rendered lazily per
page from these arrays (see ``records.py``); nothing per-record is kept as a Python object.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from gcc_pipeline import clock
from gcc_pipeline.streams import STREAMS

from . import records
from .names import FIRST_NAMES, LAST_NAMES, SOURCES, SPECIAL_NAMES, b36, mix
from .records import ACT_CONTACT, ACT_NOTE
from .timeline import GAP_DAYS, build_templates, choose_templates
from .workflows import CONTACT_TYPES, RECORD_TYPE_WEIGHTS, STAGE_ORDER, load_workflows

DAY = 86400
BIG = np.iinfo(np.int64).max
# The company models every stream of the registry (records.py renders each).
RESOURCES = tuple(s.name for s in STREAMS)
PREFIX = {
    "contacts": "c",
    "jobs": "j",
    "payments": "p",
    "workorders": "w",
    "materialorders": "m",
    "activities": "a",
    "users": "u",
    "invoices": "i",
    "estimates": "e",
    "tasks": "t",
}
# Invoice kinds: a job's invoice (paid by its payments), an earlier version voided, a $0
# invoice, an invoice made for a contact without a job.
INV_MAIN, INV_VOID, INV_ZERO, INV_NO_JOB = 0, 1, 2, 3
# Estimate fates: still sent, approved, declined (at est_fate_t; BIG: never).
EST_SENT, EST_APPROVED, EST_DECLINED = 0, 1, 2
# Job value (dollars): median and log-sigma per record type name.
VALUE = {
    "Legacy (Bob's Workflow)": (9000, 0.5),
    "Insurance": (16000, 0.5),
    "Repairs": (1200, 0.7),
    "Maintenance Plan": (350, 0.3),
    "Real Estate": (7000, 0.5),
    "Roof Replacement": (14000, 0.45),
    "Window Replacement": (9000, 0.5),
    "Siding Replacement": (18000, 0.45),
    "Gutter Replacement": (2500, 0.4),
}
# Job edit kinds (a later event that is not a status move).
EDIT_NONE, EDIT_TAG, EDIT_ARCHIVE, EDIT_DELETE = 0, 1, 2, 3


def _this_minute() -> datetime:
    return clock.now().replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Changes:
    """Records of one resource a clock move created or changed, in the state that holds them."""

    state: records.State
    indices: np.ndarray
    created: np.ndarray  # per index: born in this move (else changed)

    def payloads(self, resource: str) -> list[dict]:
        return records.render(self.state, resource, self.indices)


@dataclass(frozen=True)
class CompanyConfig:
    """Size and shape of the company; same config (incl. anchor) => byte-identical records."""

    jobs: int = 2000
    seed: int = 1
    anchor: datetime | None = None  # None: the clock's current minute
    history_days: int = 730
    unmapped_status_share: float = 0.0
    hostile: bool = False
    future_days: int = 365  # timeline drawn past the anchor, for advance()
    # Real accounts log no activity for a job's first status (only changes); True logs
    # "(none) => <first status>" at creation, as some automations do.
    log_first_status: bool = False
    # Share of jobs in the Legacy workflow (None: the reference account's 2%); a small test
    # company asks for more to have legacy jobs with payments.
    legacy_share: float | None = None


def _segments_first(mask: np.ndarray, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per job, the smallest ``values`` where ``mask`` holds (BIG when none)."""
    return np.minimum.reduceat(np.where(mask, values, BIG), starts)


def _within(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each segment of a CSR layout, concatenated."""
    offs = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) - offs


def _seg_cumsum(values: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every segment start (``k == 0``)."""
    cum = np.cumsum(values)
    starts = np.flatnonzero(k == 0)
    base = cum[starts] - values[starts]
    lengths = np.diff(np.append(starts, len(values)))
    return cum - np.repeat(base, lengths)


class Company:
    """A deterministic JobNimbus account with a clock (see module docstring)."""

    def __init__(self, cfg: CompanyConfig | None = None) -> None:
        cfg = cfg or CompanyConfig()
        if cfg.anchor is None:
            cfg = CompanyConfig(**{**cfg.__dict__, "anchor": _this_minute()})
        anchor = cfg.anchor
        assert anchor is not None
        if anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        self.cfg = cfg
        self.anchor = int(anchor.timestamp())
        self.wf = load_workflows(cfg.unmapped_status_share > 0)
        self._salt = mix(cfg.seed * 1_000_003 + 11)
        self._id_base = 36**8 + self._salt % (36**8)
        self.customer = "acct" + b36(self._salt % (36**6))
        self._lock = threading.RLock()
        self._generate()
        self.hostile: dict[str, list[records.Hostile]] = {r: [] for r in RESOURCES}
        if cfg.hostile:
            from .hostile import build_hostile

            self.hostile = build_hostile(self)
        self._state = records.State(self, self.anchor)

    # ---------------------------------------------------------------- generation
    def _generate(self) -> None:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, 0x5A4D])
        wf = self.wf
        a = self.anchor
        n_hist = max(1, int(cfg.jobs))
        n_fut = round(n_hist * cfg.future_days / max(1, cfg.history_days))
        self.start = a - cfg.history_days * DAY
        # Statuses renamed halfway through the history: older activities carry the old name.
        self.renamed_at = a - cfg.history_days * DAY // 2
        created = np.concatenate(
            [
                rng.integers(self.start, a + 1, n_hist),
                rng.integers(a + 1, a + cfg.future_days * DAY + 1, n_fut),
            ]
        )
        created.sort()
        n = len(created)
        self.n_jobs = n
        self.job_created = created
        # record type, then a status path (template) and the times of its moves
        names = [rt.name for rt in wf.record_types]
        w = np.array([RECORD_TYPE_WEIGHTS.get(x, 0.01) for x in names])
        if cfg.legacy_share is not None:
            legacy = np.array(["legacy" in x.lower() for x in names])
            w = np.where(legacy, w / w[legacy].sum() * cfg.legacy_share,
                         w / w[~legacy].sum() * (1 - cfg.legacy_share))  # fmt: skip
        self.job_rt = rng.choice(len(names), size=n, p=w / w.sum()).astype(np.int8)
        tpl = build_templates(wf, cfg.seed)
        tid = choose_templates(tpl, self.job_rt.astype(np.int64), rng)
        lens = tpl.length[tid]
        starts = np.cumsum(lens) - lens
        self.move_off = np.append(starts, lens.sum()).astype(np.int64)
        pos = _within(lens)
        self.move_status = tpl.flat[np.repeat(tpl.offset[tid], lens) + pos]
        m = len(self.move_status)
        stage = wf.stage_code[self.move_status].astype(np.int64)
        gap = GAP_DAYS[stage] * DAY * rng.lognormal(0.0, 0.8, m)
        gap = np.maximum(gap, 3600.0)
        gap[pos == 0] = 0.0
        cum = np.cumsum(gap)
        rel = cum - np.repeat(cum[starts], lens)
        self.move_time = np.repeat(created, lens) + rel.astype(np.int64)
        self.move_job = np.repeat(np.arange(n, dtype=np.int32), lens)
        if cfg.unmapped_status_share > 0:
            self._apply_unmapped(rng, n_hist)
        stage = wf.stage_code[self.move_status]
        funnel = (stage >= STAGE_ORDER["Estimating"]) & (stage <= STAGE_ORDER["Completed"])
        self.job_t_est = _segments_first(funnel, self.move_time, starts)
        self.job_t_sold = _segments_first(
            (stage >= STAGE_ORDER["Sold"]) & (stage <= STAGE_ORDER["Completed"]),
            self.move_time,
            starts,
        )
        self.job_t_ip = _segments_first(
            (stage >= STAGE_ORDER["In Production"]) & (stage <= STAGE_ORDER["Completed"]),
            self.move_time,
            starts,
        )
        self.job_t_ar = _segments_first(
            (stage >= STAGE_ORDER["Accounts Receivable"]) & (stage <= STAGE_ORDER["Completed"]),
            self.move_time,
            starts,
        )
        # money
        med = np.array([VALUE.get(x, (5000, 0.5))[0] for x in names], dtype=np.float64)
        sig = np.array([VALUE.get(x, (5000, 0.5))[1] for x in names], dtype=np.float64)
        rt = self.job_rt.astype(np.int64)
        self.job_value = (med[rt] * 100 * rng.lognormal(0.0, 1.0, n) ** sig[rt]).astype(np.int64)
        # sales reps and later edits (tags, archive, soft delete)
        self.n_reps = int(min(200, max(3, n_hist // 200)))
        u = rng.random(n)
        self.job_edit_k = np.select(
            [u < 0.015, u < 0.04, u < 0.12], [EDIT_DELETE, EDIT_ARCHIVE, EDIT_TAG], EDIT_NONE
        ).astype(np.int8)
        self.job_edit_t = np.where(
            self.job_edit_k > 0,
            created + (rng.exponential(90.0, n) * DAY).astype(np.int64) + 3600,
            0,
        )
        self._gen_contacts(rng, n_hist)
        self._gen_payments(rng)
        self._gen_workorders(rng)
        self._gen_materialorders(rng)
        self._gen_activities(rng)
        # Streams added later draw from their own generator, so the records above never change.
        later = np.random.default_rng([cfg.seed, 0x21])
        self._gen_invoices(later, n_hist)
        self._gen_estimates(later)
        self._gen_tasks(later)
        del self.move_job  # only needed while building activities

    def _apply_unmapped(self, rng: np.random.Generator, n_hist: int) -> None:
        """Put a share of existing jobs into a status the mapping file lacks, as of the anchor."""
        starts = self.move_off[:-1]
        k = np.add.reduceat((self.move_time <= self.anchor).astype(np.int64), starts)
        chosen = np.nonzero((rng.random(self.n_jobs) < self.cfg.unmapped_status_share) & (k > 0))
        chosen = chosen[0]
        chosen = chosen[chosen < n_hist]
        cur = starts[chosen] + k[chosen] - 1
        unm = np.array([rt.unmapped for rt in self.wf.record_types], dtype=np.int16)
        pick = rng.integers(0, unm.shape[1], len(chosen))
        self.move_status[cur] = unm[self.job_rt[chosen].astype(np.int64), pick]

    def _gen_contacts(self, rng: np.random.Generator, n_hist: int) -> None:
        n = self.n_jobs
        new = rng.random(n) < 0.93
        new[0] = True
        ncb = np.cumsum(new)
        job_contact = np.where(new, ncb - 1, (rng.random(n) * ncb).astype(np.int64))
        n_cust = int(ncb[-1])
        self.n_subs = max(3, n_hist // 250)
        c_created = np.empty(n_cust + self.n_subs, dtype=np.int64)
        c_created[:n_cust] = self.job_created[new] - rng.integers(0, 3 * DAY, n_cust)
        c_created[n_cust:] = self.start - rng.integers(DAY, 60 * DAY, self.n_subs)
        self.contact_created = c_created
        nc = len(c_created)
        u = rng.random(nc)
        ctype = np.select([u < 0.06, u < 0.10, u < 0.15], [1, 2, 3], 0).astype(np.int8)
        ctype[n_cust:] = CONTACT_TYPES.index("Subcontractor")
        self.contact_type = ctype
        sw = np.array([s[1] for s in SOURCES], dtype=np.float64)
        self.contact_source = rng.choice(len(SOURCES), nc, p=sw / sw.sum()).astype(np.int8)
        self.contact_rep = rng.integers(0, self.n_reps, nc).astype(np.int16)
        self.contact_edit_t = np.where(
            rng.random(nc) < 0.35, c_created + (rng.exponential(60.0, nc) * DAY).astype(np.int64), 0
        )
        # number contacts in creation order, like every other table (sorted views come free)
        order = np.argsort(c_created, kind="stable")
        rank = np.empty(nc, dtype=np.int64)
        rank[order] = np.arange(nc)
        for name in (
            "contact_created",
            "contact_type",
            "contact_source",
            "contact_rep",
            "contact_edit_t",
        ):
            setattr(self, name, getattr(self, name)[order])
        job_contact = rank[job_contact]
        self.sub_contacts = rank[n_cust:].astype(np.int64)
        self.special_contacts = {
            int(rank[k]): name for k, name in enumerate(SPECIAL_NAMES) if k < n_cust
        }
        # one job (not the first) without any contact
        self.no_contact_job = min(n - 1, max(1, n_hist // 3))
        job_contact[self.no_contact_job] = -1
        self.job_contact = job_contact.astype(np.int32)
        safe = np.maximum(job_contact, 0)
        self.job_rep = np.where(
            rng.random(n) < 0.85, self.contact_rep[safe], rng.integers(0, self.n_reps, n)
        ).astype(np.int16)
        self.job_source = np.where(
            job_contact >= 0, self.contact_source[safe], rng.integers(0, len(SOURCES), n)
        ).astype(np.int8)

    def _children(
        self, rng: np.random.Generator, t_from: np.ndarray, probs: tuple[float, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Child records of jobs that reached a stage: (job index, k-th child) per child."""
        jobs = np.nonzero(t_from < BIG)[0]
        cum = np.cumsum(probs)
        cnt = 1 + (rng.random(len(jobs))[:, None] > cum[:-1]).sum(axis=1)
        return np.repeat(jobs, cnt).astype(np.int32), _within(cnt)

    @staticmethod
    def _by_time(created: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
        """Order a child table by creation time, so recids grow with time as in the real API."""
        order = np.argsort(created, kind="stable")
        return [created[order], *(c[order] for c in cols)]

    def _gen_payments(self, rng: np.random.Generator) -> None:
        job, k = self._children(rng, self.job_t_ar, (0.7, 0.25, 0.05))
        n = len(job)
        gap = ((1.0 + rng.exponential(12.0, n)) * DAY).astype(np.int64)
        t = self.job_t_ar[job] + _seg_cumsum(gap, k)
        cnt = np.bincount(job, minlength=self.n_jobs)[job]
        val = self.job_value[job]
        amount = np.where(k == cnt - 1, val - (val // cnt) * (cnt - 1), val // cnt)
        u = rng.random(n)
        kind = np.select([u < 0.02, u < 0.08], [EDIT_DELETE, EDIT_ARCHIVE], EDIT_NONE).astype(
            np.int8
        )
        et = np.where(kind > 0, t + (rng.exponential(20.0, n) * DAY).astype(np.int64) + 60, 0)
        (self.pay_created, self.pay_job, self.pay_amount, self.pay_edit_k, self.pay_edit_t) = (
            self._by_time(t, job, amount, kind, et)
        )

    def _gen_workorders(self, rng: np.random.Generator) -> None:
        job, k = self._children(rng, self.job_t_ip, (0.85, 0.15))
        n = len(job)
        t = self.job_t_ip[job] + k * DAY * 2 + rng.integers(600, DAY, n)
        ds = t + rng.integers(1, 10, n) * DAY
        de = np.where(rng.random(n) < 0.15, 0, ds + rng.integers(1, 4, n) * DAY)
        sub = np.where(rng.random(n) < 0.4, rng.integers(0, self.n_subs, n), -1).astype(np.int32)
        (self.wo_created, self.wo_job, self.wo_start, self.wo_end, self.wo_sub) = self._by_time(
            t, job, ds, de, sub
        )

    def _gen_materialorders(self, rng: np.random.Generator) -> None:
        job, k = self._children(rng, self.job_t_sold, (0.85, 0.15))
        n = len(job)
        t = self.job_t_sold[job] + k * 3 * DAY + rng.integers(DAY, 7 * DAY, n)
        upd = t + rng.integers(DAY // 2, 5 * DAY, n)
        (self.mo_created, self.mo_job, self.mo_upd) = self._by_time(t, job, upd)

    def _gen_invoices(self, rng: np.random.Generator, n_hist: int) -> None:
        """One invoice per job that reached Accounts Receivable (its payments pay it), plus the
        awkward ones: an earlier draft voided when the job's invoice replaced it, $0 invoices,
        invoices of a contact without a job (some paid, some archived)."""
        main = np.flatnonzero(self.job_t_ar < BIG)
        t_main = self.job_t_ar[main]
        void = main[rng.random(len(main)) < 0.05]
        t_void = self.job_t_ar[void] - rng.integers(DAY, 3 * DAY, len(void))
        zero = main[rng.random(len(main)) < 0.03]
        t_zero = self.job_t_ar[zero] + rng.integers(DAY, 30 * DAY, len(zero))
        n_free = max(3, n_hist // 60)
        customers = np.flatnonzero(self.contact_type != CONTACT_TYPES.index("Subcontractor"))
        free_contact = rng.choice(customers, n_free)
        t_free = (
            self.contact_created[free_contact]
            + (rng.exponential(40.0, n_free) * DAY).astype(np.int64)
            + 3600
        )
        created = np.concatenate([t_main, t_void, t_zero, t_free])
        n = len(created)
        kind = np.concatenate(
            [np.full(len(main), INV_MAIN), np.full(len(void), INV_VOID),
             np.full(len(zero), INV_ZERO), np.full(n_free, INV_NO_JOB)]
        )  # fmt: skip
        job = np.concatenate([main, void, zero, np.full(n_free, -1)])
        contact = np.concatenate(
            [self.job_contact[main], self.job_contact[void], self.job_contact[zero], free_contact]
        )
        cents = np.concatenate(
            [self.job_value[main], self.job_value[void] * 11 // 10, np.zeros(len(zero), np.int64),
             (15000 * rng.lognormal(0.0, 0.6, n_free)).astype(np.int64)]
        )  # fmt: skip
        terms = rng.choice(np.array([15, 30]), n) * DAY
        # the moment a void is voided (the job's invoice replaces it) or a free invoice is paid
        pay_delay = (rng.exponential(20.0, n_free) * DAY).astype(np.int64)
        free_paid = np.where(rng.random(n_free) < 0.6, t_free + pay_delay, BIG)
        event = np.concatenate(
            [np.full(len(main), BIG), self.job_t_ar[void], np.full(len(zero), BIG), free_paid]
        )
        # archived: some job-less invoices and $0 ones (neither changes a job's receivable)
        archived = np.isin(kind, (INV_NO_JOB, INV_ZERO)) & (rng.random(n) < 0.3)
        archive = np.where(archived, created + 60 * DAY, BIG)
        rep = np.where(job >= 0, self.job_rep[np.maximum(job, 0)],
                       self.contact_rep[np.maximum(contact, 0)])  # fmt: skip
        (self.inv_created, self.inv_kind, self.inv_job, self.inv_contact, self.inv_cents,
         self.inv_terms, self.inv_event_t, self.inv_archive_t, self.inv_rep) = self._by_time(
            created, kind.astype(np.int8), job.astype(np.int32), contact.astype(np.int32), cents,
            terms, event, archive, rep.astype(np.int16))  # fmt: skip
        self.inv_of_job = np.full(self.n_jobs, -1, dtype=np.int64)
        is_main = self.inv_kind == INV_MAIN
        self.inv_of_job[self.inv_job[is_main]] = np.flatnonzero(is_main)
        # payments per job (CSR), for the paid amounts of each job's invoice
        order = np.argsort(self.pay_job, kind="stable")
        self.pay_by_job = order.astype(np.int64)
        self.pay_job_off = np.searchsorted(self.pay_job[order], np.arange(self.n_jobs + 1))

    def _gen_estimates(self, rng: np.random.Generator) -> None:
        """1-3 versions per job that reached Estimating, a few days apart; earlier versions are
        declined when the next is sent; the last is approved when the job sold, else declined
        for some jobs, else still sent. A few are archived."""
        job, k = self._children(rng, self.job_t_est, (0.65, 0.25, 0.10))
        n = len(job)
        cnt = np.bincount(job, minlength=self.n_jobs)[job]
        created = self.job_t_est[job] + k * (2 * DAY) + rng.integers(600, DAY, n)
        last = k == cnt - 1
        sold = self.job_t_sold[job]
        declined_t = created + (rng.exponential(20.0, n) * DAY).astype(np.int64) + 3600
        declines = rng.random(n) < 0.35
        fate = np.where(~last, EST_DECLINED,
                        np.where(sold < BIG, EST_APPROVED,
                                 np.where(declines, EST_DECLINED, EST_SENT)))  # fmt: skip
        fate_t = np.where(~last, created + 2 * DAY,
                          np.where(sold < BIG, np.maximum(sold, created + 3600),
                                   np.where(declines, declined_t, BIG)))  # fmt: skip
        cents = self.job_value[job] * (100 + 8 * (cnt - 1 - k)) // 100
        archive = np.where(rng.random(n) < 0.02, created + 90 * DAY, BIG)
        (self.est_created, self.est_job, self.est_fate, self.est_fate_t, self.est_cents,
         self.est_archive_t) = self._by_time(created, job, fate.astype(np.int8), fate_t, cents,
                                             archive)  # fmt: skip

    def _gen_tasks(self, rng: np.random.Generator) -> None:
        """0-3 tasks per job (and a few per contact only): most get done, some never; start and
        end are often unset, some have no assignee, some are archived or deleted."""
        per_job = rng.choice(4, self.n_jobs, p=[0.3, 0.4, 0.2, 0.1])
        job = np.repeat(np.arange(self.n_jobs), per_job).astype(np.int32)
        created = self.job_created[job] + (rng.exponential(10.0, len(job)) * DAY).astype(np.int64)
        n_free = max(2, self.n_jobs // 50)
        free_contact = rng.integers(0, len(self.contact_created), n_free)
        free_created = (
            self.contact_created[free_contact]
            + (rng.exponential(15.0, n_free) * DAY).astype(np.int64)
            + 600
        )
        created = np.concatenate([created, free_created])
        job = np.concatenate([job, np.full(n_free, -1, np.int32)])
        contact = np.concatenate([self.job_contact[job[: len(job) - n_free]], free_contact])
        n = len(created)
        start = np.where(rng.random(n) < 0.8, created + rng.integers(0, 7, n) * DAY + 9 * 3600, 0)
        end = np.where((start > 0) & (rng.random(n) < 0.55), start + 3600, 0)
        work = (rng.exponential(4.0, n) * DAY).astype(np.int64) + 1800
        done = np.where(rng.random(n) < 0.8, np.maximum(created, start) + work, BIG)
        u = rng.random(n)
        gone = np.where(u < 0.03, created + 30 * DAY, BIG)  # archived (or deleted below)
        gone_kind = np.where(u < 0.01, 3, 2).astype(np.int8)
        rep = np.where(job >= 0, self.job_rep[np.maximum(job, 0)],
                       self.contact_rep[np.maximum(contact, 0)])  # fmt: skip
        rep = np.where(rng.random(n) < 0.1, -1, rep)
        kind = rng.integers(0, 4, n).astype(np.int8)
        priority = rng.choice(3, n, p=[0.6, 0.3, 0.1]).astype(np.int8)
        (self.task_created, self.task_job, self.task_contact, self.task_start, self.task_end,
         self.task_done_t, self.task_gone_t, self.task_gone_k, self.task_rep, self.task_kind,
         self.task_priority) = self._by_time(created, job, contact.astype(np.int32), start, end,
                                             done, gone, gone_kind, rep.astype(np.int16), kind,
                                             priority)  # fmt: skip

    def _gen_activities(self, rng: np.random.Generator) -> None:
        """Status changes (not the first status unless configured), plain notes, and status
        changes of contacts (primary = the contact, related lists its job)."""
        moves = np.arange(len(self.move_status), dtype=np.int32)
        if not self.cfg.log_first_status:
            first = np.zeros(len(moves), dtype=bool)
            first[self.move_off[:-1]] = True
            moves = moves[~first]
        n_notes = int(self.n_jobs * 0.1)
        note_job = rng.integers(0, self.n_jobs, n_notes).astype(np.int32)
        note_t = self.job_created[note_job] + (rng.exponential(25.0, n_notes) * DAY).astype(
            np.int64
        )
        with_contact = np.flatnonzero(self.job_contact >= 0)
        cs_job = with_contact[rng.random(len(with_contact)) < 0.06].astype(np.int32)
        cs_t = self.job_created[cs_job] + (rng.exponential(8.0, len(cs_job)) * DAY).astype(np.int64)
        t = np.concatenate([self.move_time[moves], note_t, cs_t + 600])
        job = np.concatenate([self.move_job[moves], note_job, cs_job])
        notes = np.full(n_notes, ACT_NOTE, np.int32)
        move = np.concatenate([moves, notes, np.full(len(cs_job), ACT_CONTACT, np.int32)])
        self.act_created, self.act_job, self.act_move = self._by_time(t, job, move)

    # ---------------------------------------------------------------- ids and names
    def jnid(self, resource: str, index: int) -> str:
        return PREFIX[resource] + b36(self._id_base + index)

    def parse_jnid(self, jnid: str) -> tuple[str, int] | None:
        """(resource, index) of a generated jnid, or None."""
        if not isinstance(jnid, str) or len(jnid) < 2 or len(jnid) > 20:
            return None
        for res, p in PREFIX.items():
            if jnid[0] == p:
                try:
                    idx = int(jnid[1:], 36) - self._id_base
                except ValueError:
                    return None
                return (res, idx) if idx >= 0 else None
        return None

    def rep_name(self, r: int) -> tuple[str, str]:
        h = mix(self._salt ^ (0xAB00 + r))
        return FIRST_NAMES[h % 36], LAST_NAMES[(h >> 20) % 36]

    def users(self) -> list[dict]:
        """Users of ``account/users``: reps (minus one seen only on records) and office staff."""
        out = []
        for r in range(self.n_reps - 1):
            first, last = self.rep_name(r)
            out.append(
                {
                    "id": self.jnid("users", r),
                    "first_name": first,
                    "last_name": last,
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}.{r}@gcc-roofing.example".lower(),
                    "phone": f"(303) 555-{1000 + r:04d}",
                    "is_active": r != 1,
                    "is_sales_rep": True,
                }
            )
        for i, (first, last) in enumerate((("Olivia", "Office"), ("Pat", "Production"))):
            out.append(
                {
                    "id": self.jnid("users", 1000 + i),
                    "first_name": first,
                    "last_name": last,
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}@gcc-roofing.example".lower(),
                    "phone": f"(303) 555-09{i:02d}",
                    "is_active": True,
                    "is_sales_rep": False,
                }
            )
        return out

    def settings(self) -> dict:
        return {
            "company": "Growth Command Roofing (sandbox)",
            "customer": self.customer,
            "time_zone": "America/Denver",
            "currency": "USD",
            "workflows": self.wf.settings_workflows(),
            "sources": [{"id": i + 1, "name": s[0]} for i, s in enumerate(SOURCES)],
        }

    # ---------------------------------------------------------------- clock and access
    @property
    def now(self) -> int:
        return self._state.now

    def state(self) -> records.State:
        """The current immutable snapshot (readers keep it for a whole request)."""
        return self._state

    def count(self, resource: str) -> int:
        return self._state.n_visible(resource)

    def records(self, resource: str, chunk: int = 1000) -> Iterator[dict]:
        """All visible records (incl. inactive/archived) as the API would serve them."""
        st = self._state
        if st.plain(resource):
            n = st.n_visible(resource)
            for i in range(0, n, chunk):
                yield from records.render(st, resource, np.arange(i, min(n, i + chunk)))
            return
        vis = st.visible(resource)
        for i in range(0, len(vis), chunk):
            yield from records.render(st, resource, vis[i : i + chunk])

    def hostile_ids(self) -> dict[str, list[str | None]]:
        """jnids of the hostile corpus per resource (None where the record lacks one)."""
        return {
            r: [h.payload.get("jnid") if isinstance(h.payload, dict) else None for h in hs]
            for r, hs in self.hostile.items()
            if hs
        }

    @property
    def timeline_end(self) -> int:
        """The last moment the drawn timeline covers (anchor + future_days)."""
        return self.anchor + self.cfg.future_days * DAY

    def advance_to(self, moment: float) -> dict[str, int]:
        """Move the clock up to `moment` (Unix seconds); a moment already passed changes nothing."""
        with self._lock:
            if int(moment) <= self._state.now:
                return dict.fromkeys(RESOURCES, 0)
            return self._move(int(moment))

    def advance(self, days: float = 1.0) -> dict[str, int]:
        """Move the clock; returns per resource the records created or changed."""
        if days < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            return self._move(self._state.now + round(days * DAY))

    def _move(self, to: int) -> dict[str, int]:
        return {r: len(c.indices) for r, c in self._move_changes(to).items()}

    def advance_to_changes(self, moment: float) -> dict[str, Changes]:
        """`advance_to`, saying which records were created or changed (what a JobNimbus
        automation would post a webhook for)."""
        with self._lock:
            if int(moment) <= self._state.now:
                return {}
            return self._move_changes(int(moment))

    def _move_changes(self, to: int) -> dict[str, Changes]:
        with self._lock:
            old = self._state
            new = records.State(self, to)
            out = {}
            for r in RESOURCES:
                before, after = old.du_all(r), new.du_all(r)
                vis_b, vis_a = old.born_mask(r), new.born_mask(r)
                moved = vis_a & (~vis_b | (before != after))
                indices = np.flatnonzero(moved)
                out[r] = Changes(new, indices, ~vis_b[indices])
            self._state = new
        return out
