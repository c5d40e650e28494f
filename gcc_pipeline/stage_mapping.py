"""The stage-mapping file (users edit it for their account) joined with account/settings.

A record type uses a workflow; each workflow maps status names to stages. Status ids come only from
account/settings and are never compared across workflows; the key is the normalized status name.
A workflow's `aliases` name statuses it renamed (old name -> current name): old activities keep
the old name, and the lookup gives it the current name's stage.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gcc_pipeline.settings import STAGE_MAPPINGS_FILE, ConfigError

STAGES = (
    "Lead",
    "Estimating",
    "Sold",
    "In Production",
    "Accounts Receivable",
    "Completed",
    "Lost",
    "None",
)
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc`\u00b4"})


def status_key(name: str) -> str:
    """Same rule as SQL gcc_status_key: apostrophes unified, whitespace collapsed, lower case."""
    return re.sub(r"\s+", " ", name.translate(_APOSTROPHES).strip()).lower()


@dataclass(frozen=True)
class LookupRow:
    record_type_id: int
    record_type_name: str
    workflow: str
    status_id: int | None
    status_name: str
    stage: str | None
    alias_of: str | None = None  # the current name, when status_name is an old (renamed) name

    COLUMNS = (
        "record_type_id",
        "record_type_name",
        "workflow",
        "status_id",
        "status_name",
        "stage",
        "alias_of",
    )

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, c) for c in self.COLUMNS)


def load_mapping(path: Path = STAGE_MAPPINGS_FILE) -> dict[str, Any]:
    try:
        mapping = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the stage mapping {path}: {exc}") from None
    workflows = mapping.get("workflows") or {}
    for workflow, stages in workflows.items():
        unknown = set(stages) - set(STAGES)
        if unknown:
            raise ConfigError(
                f"{path.name}: workflow {workflow!r} uses unknown stages {sorted(unknown)}"
            )
    for workflow, aliases in (mapping.get("aliases") or {}).items():
        if workflow not in workflows:
            raise ConfigError(f"{path.name}: aliases of unknown workflow {workflow!r}")
        current = {status_key(n) for names in workflows[workflow].values() for n in names}
        for old, new in (aliases or {}).items():
            if status_key(str(new)) not in current:
                raise ConfigError(
                    f"{path.name}: alias {old!r} of workflow {workflow!r} points to {new!r}, "
                    "which is not one of its statuses"
                )
            if status_key(str(old)) in current:
                raise ConfigError(
                    f"{path.name}: alias {old!r} of workflow {workflow!r} is also a current "
                    "status name; a name means one status"
                )
    return mapping


def _settings_workflows(settings: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    flows = settings.get("workflows") or []
    return [w for w in flows if isinstance(w, Mapping) and w.get("object_type", "job") == "job"]


def lookup_rows(mapping: Mapping[str, Any], settings: Mapping[str, Any]) -> list[LookupRow]:
    """Every (record type, status) the mapping or the API knows, with its stage or None."""
    workflows: Mapping[str, Mapping[str, list[str]]] = mapping.get("workflows") or {}
    stage_of = {
        wf: {status_key(name): stage for stage, names in stages.items() for name in names}
        for wf, stages in workflows.items()
    }
    names_of = {
        wf: {status_key(name): name for names in stages.values() for name in names}
        for wf, stages in workflows.items()
    }
    record_types: dict[int, tuple[str, str]] = {}
    workflow_by_name: dict[str, str] = {}
    for rt in mapping.get("record_types") or []:
        record_types[int(rt["id"])] = (rt["name"], rt["workflow"])
        workflow_by_name[status_key(rt["name"])] = rt["workflow"]
    api_statuses: dict[int, dict[str, tuple[int | None, str]]] = {}
    for flow in _settings_workflows(settings):
        try:
            rt_id = int(flow["id"])
        except (KeyError, TypeError, ValueError):
            continue
        name = str(flow.get("name") or rt_id)
        workflow = workflow_by_name.get(status_key(name)) or name
        record_types.setdefault(rt_id, (name, workflow))
        statuses = flow.get("status") or flow.get("statuses") or []
        api_statuses[rt_id] = {
            status_key(str(s["name"])): (s.get("id"), str(s["name"]))
            for s in statuses
            if isinstance(s, Mapping) and s.get("name")
        }
    aliases: Mapping[str, Mapping[str, str]] = mapping.get("aliases") or {}
    rows = []
    for rt_id, (rt_name, workflow) in sorted(record_types.items()):
        stages = stage_of.get(workflow, {})
        api = api_statuses.get(rt_id, {})
        for key in sorted(set(stages) | set(api)):
            status_id, api_name = api.get(key, (None, None))
            rows.append(
                LookupRow(
                    rt_id,
                    rt_name,
                    workflow,
                    int(status_id) if status_id is not None else None,
                    api_name or names_of[workflow][key],
                    stages.get(key),
                )
            )
        for old, new in (aliases.get(workflow) or {}).items():
            if status_key(str(old)) not in api:  # the API still lists it: a status of its own
                new_name = names_of[workflow][status_key(str(new))]
                rows.append(
                    LookupRow(
                        rt_id, rt_name, workflow, None, str(old), stages[status_key(new_name)],
                        new_name,
                    )
                )  # fmt: skip
    return rows
