"""Workflows of the sandbox's reference account: record types, status ids, stages.

Read from the sandbox's own copy of the reference mapping (``reference_account.yaml``), not from the
users' editable ``gcc_pipeline/stage_mappings.yaml``: editing the mapping must never change the
synthetic company, or a mapping fix could not be tested against a fixed account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from gcc_pipeline.stage_mapping import STAGES

REFERENCE_FILE = Path(__file__).with_name("reference_account.yaml")

FUNNEL, SIDE = STAGES[:6], STAGES[6:]  # Lead .. Completed; Lost and None
STAGE_ORDER = {name: i for i, name in enumerate(STAGES)}
UNMAPPED_STAGE = -1

# Status names that exist in the account but are missing from the mapping file (the "gap" a
# stage-mapping completeness check must report).
UNMAPPED_NAMES = ("Waiting on HOA", "Permit Pending", "On Hold - Weather", "Financing Review")

# Relative frequency of each record type name among jobs (Legacy is rare, as in the reference;
# CompanyConfig.legacy_share asks for more).
RECORD_TYPE_WEIGHTS = {
    "Legacy (Bob's Workflow)": 0.02,
    "Insurance": 0.25,
    "Repairs": 0.16,
    "Maintenance Plan": 0.05,
    "Real Estate": 0.05,
    "Roof Replacement": 0.32,
    "Window Replacement": 0.06,
    "Siding Replacement": 0.05,
    "Gutter Replacement": 0.04,
}

CONTACT_TYPES = ("Customer", "Realtor", "Insurance Adjuster", "Property Manager", "Subcontractor")
CONTACT_STATUSES = ("New", "Active", "Inactive")


@dataclass(frozen=True)
class Status:
    """One status of one workflow; ``gsi`` is its index in the global status table."""

    gsi: int
    id: int
    name: str
    stage: str | None
    workflow_id: int
    order: int
    old_name: str | None = None  # the name before a rename (old activities still carry it)

    @property
    def stage_code(self) -> int:
        return STAGE_ORDER[self.stage] if self.stage else UNMAPPED_STAGE

    @property
    def is_lead(self) -> bool:
        return self.stage == "Lead"

    @property
    def is_closed(self) -> bool:
        return self.stage in ("Completed", "Lost")


@dataclass
class RecordType:
    index: int
    id: int
    name: str
    workflow: str
    stages: dict[str, list[int]] = field(default_factory=dict)  # stage -> gsi in list order
    unmapped: list[int] = field(default_factory=list)


@dataclass
class Workflows:
    record_types: list[RecordType]
    statuses: list[Status]
    contact_workflows: list[dict]
    stage_code: np.ndarray  # gsi -> stage code (int8), -1 unmapped

    def settings_workflows(self) -> list[dict]:
        """The ``workflows`` list of ``account/settings``."""
        out: list[dict] = []
        for rt in self.record_types:
            sts = [s for s in self.statuses if s.workflow_id == rt.id]
            out.append(
                {
                    "id": rt.id,
                    "name": rt.name,
                    "object_type": "job",
                    "is_active": True,
                    "status": [
                        {
                            "id": s.id,
                            "name": s.name,
                            "is_lead": s.is_lead,
                            "is_closed": s.is_closed,
                            "is_active": True,
                            "is_archived": False,
                            "order": s.order,
                        }
                        for s in sts
                    ],
                }
            )
        return out + self.contact_workflows


@lru_cache(maxsize=4)
def load_workflows(with_unmapped: bool) -> Workflows:
    """Build the account's workflows; status ids are fixed (independent of the seed)."""
    doc = yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))
    renamed = doc.get("renamed") or {}
    statuses: list[Status] = []
    record_types: list[RecordType] = []
    next_id = 480
    for i, rt_doc in enumerate(doc["record_types"]):
        rt = RecordType(i, int(rt_doc["id"]), str(rt_doc["name"]), str(rt_doc["workflow"]))
        wf = doc["workflows"][rt.workflow]
        old_names = renamed.get(rt.workflow) or {}
        order = 1
        for stage in FUNNEL + SIDE:
            for name in wf.get(stage, []) or []:
                old = old_names.get(name)
                st = Status(len(statuses), next_id, str(name), stage, rt.id, order, old)
                statuses.append(st)
                rt.stages.setdefault(stage, []).append(st.gsi)
                next_id += 1
                order += 1
        if with_unmapped:
            for k, name in enumerate(UNMAPPED_NAMES):
                # ids from their own range, so mapped statuses keep their ids either way
                st = Status(len(statuses), 2000 + 10 * i + k, name, None, rt.id, order)
                statuses.append(st)
                rt.unmapped.append(st.gsi)
                order += 1
        next_id += 7  # gaps between workflows, as in a real account
        record_types.append(rt)
    contact_wfs = []
    cid = 1
    for j, ctype in enumerate(CONTACT_TYPES):
        contact_wfs.append(
            {
                "id": 10 + j,
                "name": ctype,
                "object_type": "contact",
                "is_active": True,
                "status": [
                    {
                        "id": 300 + cid + k,
                        "name": name,
                        "is_lead": name == "New",
                        "is_closed": name == "Inactive",
                        "is_active": True,
                        "is_archived": False,
                        "order": k + 1,
                    }
                    for k, name in enumerate(CONTACT_STATUSES)
                ],
            }
        )
        cid += len(CONTACT_STATUSES)
    stage_code = np.array([s.stage_code for s in statuses], dtype=np.int8)
    return Workflows(record_types, statuses, contact_wfs, stage_code)
