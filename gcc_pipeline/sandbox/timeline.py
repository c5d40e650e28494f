"""Status paths through a workflow and the gap between moves.

Paths are drawn once per (record type, outcome) as a small set of templates; each job picks a
template, so building a million jobs' histories stays vectorised numpy work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .workflows import FUNNEL, STAGE_ORDER, Workflows

WON, LOST, STALLED, NONE = 0, 1, 2, 3
KINDS = (WON, LOST, STALLED, NONE)
KIND_PROB = {WON: 0.62, LOST: 0.27, STALLED: 0.08, NONE: 0.03}
TEMPLATES_PER_KIND = 40

# Median days spent before entering a status of each stage (index = stage code; last = unmapped).
GAP_DAYS = np.array([2.5, 5.0, 9.0, 6.0, 10.0, 18.0, 25.0, 40.0, 10.0])


@dataclass
class Templates:
    flat: np.ndarray  # int16 gsi of every template, concatenated
    offset: np.ndarray  # int64 start of each template in flat
    length: np.ndarray  # int64 length of each template
    start: np.ndarray  # [record type, kind] -> first template id
    count: np.ndarray  # [record type, kind] -> number of templates (0 = kind impossible)
    prob: np.ndarray  # [record type, kind] -> probability, rows sum to 1


def _pick(rnd: random.Random, names: list[int], first: bool) -> list[int]:
    """Some statuses of one stage, in workflow order (the first stage always starts at its head)."""
    r = rnd.random()
    k = min(1 if r < 0.78 else (2 if r < 0.96 else 3), len(names))
    if first:
        rest = rnd.sample(names[1:], min(k - 1, len(names) - 1)) if len(names) > 1 else []
        return [names[0], *sorted(rest, key=names.index)]
    return sorted(rnd.sample(names, k), key=names.index)


def build_templates(wf: Workflows, seed: int) -> Templates:
    rnd = random.Random(seed * 7919 + 17)
    flat: list[int] = []
    offsets: list[int] = []
    lengths: list[int] = []
    n_rt = len(wf.record_types)
    start = np.zeros((n_rt, len(KINDS)), dtype=np.int64)
    count = np.zeros((n_rt, len(KINDS)), dtype=np.int64)
    prob = np.zeros((n_rt, len(KINDS)))
    for rt in wf.record_types:
        st = rt.stages
        funnel = [s for s in FUNNEL if s in st]
        by_kind: dict[int, list[list[int]]] = {k: [] for k in KINDS}
        for _ in range(TEMPLATES_PER_KIND):
            won: list[int] = []
            for i, stage in enumerate(funnel):
                won += _pick(rnd, st[stage], first=i == 0)
            by_kind[WON].append(won)
            if len(won) > 2:
                by_kind[STALLED].append(won[: rnd.randint(1, len(won) - 2)])
            if "Lost" in st:
                upto = [s for s in funnel if STAGE_ORDER[s] <= STAGE_ORDER["Estimating"]]
                upto = upto[: rnd.randint(1, len(upto))]
                path: list[int] = []
                for i, stage in enumerate(upto):
                    path += _pick(rnd, st[stage], first=i == 0)
                lost = st["Lost"]
                path.append(lost[-1] if rnd.random() < 0.7 else rnd.choice(lost))
                by_kind[LOST].append(path)
            if "None" in st:
                by_kind[NONE].append([*_pick(rnd, st[funnel[0]], first=True), st["None"][0]])
        for kind in KINDS:
            start[rt.index, kind] = len(offsets)
            count[rt.index, kind] = len(by_kind[kind])
            if by_kind[kind]:
                prob[rt.index, kind] = KIND_PROB[kind]
            for path in by_kind[kind]:
                offsets.append(len(flat))
                lengths.append(len(path))
                flat += path
        prob[rt.index] /= prob[rt.index].sum()
    return Templates(
        np.array(flat, dtype=np.int16),
        np.array(offsets, dtype=np.int64),
        np.array(lengths, dtype=np.int64),
        start,
        count,
        prob,
    )


def choose_templates(tpl: Templates, rt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Template id per job: an outcome by the record type's odds, then one of its templates."""
    cum = np.cumsum(tpl.prob, axis=1)[rt]
    kind = (rng.random(len(rt))[:, None] > cum).sum(axis=1)
    kind = np.minimum(kind, len(KINDS) - 1)
    cnt = tpl.count[rt, kind]
    return tpl.start[rt, kind] + (rng.random(len(rt)) * cnt).astype(np.int64)
