"""`gcc run`'s runs are runs of the code location the UI, the schedules and the sensors use.

Dagster stores a run started from a job object (`execute_in_process`) without the origin of its
code location: the UI then lists it under /runs only, never in its job's runs or the timeline,
and cannot re-execute it. Here the run is created with the origin `workspace.yaml` gives (the
location, its repository, the job) and the job's code origin, and executed in this process with
the job's own (in-process) executor, so `gcc run` keeps printing its progress and its figures
and the run is indistinguishable from one the UI launched.

These are Dagster internals (there is no public call that executes a run in-process with its
origin); test_launch.py re-executes such a run through the webserver's GraphQL and fails when
they change.
"""

from collections.abc import Mapping
from functools import cache
from typing import Any

from dagster import DagsterInstance
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)
from dagster._core.execution.api import execute_run
from dagster._core.execution.execute_in_process_result import ExecutionResult
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load import location_origins_from_yaml_paths

from gcc_pipeline.settings import PROJECT_ROOT

WORKSPACE = PROJECT_ROOT / "workspace.yaml"
LOCATION = "gcc_pipeline"
MODULE, ATTRIBUTE = "gcc_pipeline.definitions", "defs"


@cache
def repository_origin() -> RemoteRepositoryOrigin:
    """The repository of the code location named in workspace.yaml, as the UI loads it."""
    (location,) = [o for o in location_origins_from_yaml_paths([str(WORKSPACE)])
                   if o.location_name == LOCATION]  # fmt: skip
    return RemoteRepositoryOrigin(
        code_location_origin=location, repository_name=SINGLETON_REPOSITORY_NAME
    )


def reconstructable(job_name: str) -> ReconstructableJob:
    repository = ReconstructableRepository.for_module(
        MODULE, ATTRIBUTE, working_directory=str(PROJECT_ROOT)
    )
    return repository.get_reconstructable_job(job_name)


def run_job(
    instance: DagsterInstance,
    job_name: str,
    *,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
) -> ExecutionResult:
    """Create the run as the code location's and execute it here; returns its result."""
    job = reconstructable(job_name)
    run = instance.create_run_for_job(
        job_def=job.get_definition(),
        run_config=dict(run_config),
        tags=dict(tags),
        remote_job_origin=RemoteJobOrigin(repository_origin(), job_name),
        job_code_origin=job.get_python_origin(),
    )
    return execute_run(job, run, instance)
