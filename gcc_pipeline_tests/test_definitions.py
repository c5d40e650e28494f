"""The Definitions as a reviewed snapshot: a change to the asset graph (keys, groups, deps,
partitioning, owners, tags, checks, schedules, sensors, jobs) fails here until the snapshot is
regenerated (`GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_definitions.py`) and the
diff reviewed. Also: the definitions load without any warning and validate."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from gcc_pipeline.settings import PROJECT_ROOT

SNAPSHOT = Path(__file__).with_name("snapshots") / "definitions.json"


def describe(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "tags": {k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")},
            "code_version": node.code_version is not None,
            "automation": node.automation_condition is not None,
            "checks": sorted(k.name for k in graph.get_check_keys_for_assets([key])),
        }
    checks = {
        n.key.to_user_string(): {"blocking": n.blocking}
        for n in sorted(graph.asset_check_nodes, key=lambda n: n.key.to_user_string())
    }
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "status": s.default_status.value}
        for s in sorted(defs.schedules or [], key=lambda s: s.name)
    }
    sensors = {
        s.name: {"status": s.default_status.value}
        for s in sorted(defs.sensors or [], key=lambda s: s.name)
    }
    jobs = {}
    for name in sorted(j.name for j in defs.jobs or []):
        job = defs.resolve_job_def(name)
        jobs[name] = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
    return {"assets": assets, "checks": checks, "schedules": schedules, "sensors": sensors,
            "jobs": jobs}  # fmt: skip


def test_the_definitions_match_the_reviewed_snapshot() -> None:
    from gcc_pipeline.definitions import defs

    current = describe(defs)
    if os.environ.get("GCC_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed: review it, then regenerate the snapshot "
        "(GCC_UPDATE_SNAPSHOT=1 ./gccw test gcc_pipeline_tests/test_definitions.py)"
    )


def test_the_definitions_load_without_any_warning() -> None:
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "import gcc_pipeline.definitions, gcc_pipeline.instance, gcc_pipeline.cli\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                            text=True, cwd=PROJECT_ROOT, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""


def test_definitions_validate(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from gcc_pipeline.definitions import defs

        dg.Definitions.validate_loadable(defs)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
         "-m", "gcc_pipeline.definitions"],
        capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},  # validation needs no run storage
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
