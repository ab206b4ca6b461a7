"""Glue job definitions rendered from a spec and compared with what is live (pure logic; the
AWS calls are in :mod:`glue_cicd.hooks.glue_jobs`).

Glue's ``UpdateJob`` replaces the whole definition, so the pipeline always sends the full
definition rendered from the spec. Before deploying it compares the live definition with the
one the ledger last deployed: a difference means someone edited the job outside the pipeline.
"""

from __future__ import annotations

import json
from typing import Any

from glue_cicd.build import Artifact
from glue_cicd.generations import generation_uri
from glue_cicd.spec import Environment, JobSpec, input_argument

# The members of a Glue job definition the pipeline owns (CreateJob/UpdateJob/GetJob names).
DEFINITION_KEYS = (
    "Description",
    "Role",
    "Command",
    "DefaultArguments",
    "GlueVersion",
    "WorkerType",
    "NumberOfWorkers",
    "Timeout",
    "MaxRetries",
    "ExecutionProperty",
)


def render_definition(
    spec: JobSpec, env: Environment, artifact: Artifact, *, role: str | None = None
) -> dict[str, Any]:
    """The full Glue job definition of ``spec`` in ``env`` running ``artifact`` (as ``role``, by
    default the environment's Glue role).

    Inputs read from other jobs are catalog tables. Outputs are left out: every run is given a
    new generation to write (:func:`run_arguments`), so a run started by hand without one fails
    at its first line instead of writing where consumers read.
    """
    arguments = _default_arguments(spec, env)
    for dataset in spec.datasets.inputs:
        arguments[f"--{dataset.argument}"] = input_argument(dataset, env)
    arguments.update(
        {
            "--job-language": "python",
            "--extra-py-files": artifact.libs_uri,
            "--TempDir": f"s3://{env.artifact_bucket}/glue-temp/{spec.name}/{env.name}/",
            "--release_version": artifact.version,
        }
    )
    if spec.extra_python_modules:
        arguments["--additional-python-modules"] = ",".join(spec.extra_python_modules)
    return {
        "Description": spec.description.strip(),
        "Role": role or env.glue_role_arn,
        "Command": {"Name": "glueetl", "ScriptLocation": artifact.script_uri, "PythonVersion": "3"},
        "DefaultArguments": dict(sorted(arguments.items())),
        "GlueVersion": spec.glue_version,
        "WorkerType": spec.worker_type,
        "NumberOfWorkers": spec.number_of_workers,
        "Timeout": spec.timeout_minutes,
        "MaxRetries": spec.max_retries,
        "ExecutionProperty": {"MaxConcurrentRuns": spec.max_concurrent_runs},
    }


def _default_arguments(spec: JobSpec, env: Environment) -> dict[str, str]:
    placeholders = {
        "data_bucket": env.data_bucket,
        "artifact_bucket": env.artifact_bucket,
        "environment": env.name,
        "job": spec.name,
    }
    return {key: value.format(**placeholders) for key, value in spec.default_arguments.items()}


def run_arguments(spec: JobSpec, env: Environment, generation: str, *, shadow: bool = False) -> dict[str, str]:
    """The arguments of one run: each output written to a new ``generation`` of its dataset.

    A shadow run (unapproved code in prod) writes nowhere else: its other arguments into the
    data bucket (side outputs such as run summaries) and its ``--TempDir`` move into generation
    prefixes too, the only keys the shadow role may write.

    Job bookmarks are off (``--job-bookmark-option job-bookmark-disable``): a release's run
    processes the whole input, so its generation is the whole dataset that the audit checks, the
    diff compares with what is published and the publish replaces. A job's own bookmark setting
    (``default_arguments``) applies to its other runs.
    """
    arguments = {f"--{o.argument}": generation_uri(o.path_in(env), generation) for o in spec.datasets.outputs}
    arguments["--job-bookmark-option"] = "job-bookmark-disable"
    if shadow:
        bucket = f"s3://{env.data_bucket}/"
        for key, value in _default_arguments(spec, env).items():
            if value.startswith(bucket):
                arguments[key] = generation_uri(value, generation)
        arguments["--TempDir"] = generation_uri(f"{bucket}_glue_temp/", generation)
    return arguments


def scheduled_run_arguments(spec: JobSpec, env: Environment, generation: str, date: str | None) -> dict[str, str]:
    """The arguments of a run of the live job (``run__<job>``): its outputs sent to ``generation``.

    Bookmarks are off here too: a publish replaces the table (or each partition) the run wrote,
    so a run writes whole partitions, never only the input that is new since the last run. A job
    with a ``run.date_argument`` gets ``date`` (``YYYY-MM-DD``) there and processes that date.
    """
    arguments = run_arguments(spec, env, generation)
    if spec.run.date_argument is not None:
        if not date:
            raise ValueError(f"{spec.name} processes one date (--{spec.run.date_argument}): a run needs its date")
        arguments[f"--{spec.run.date_argument}"] = date
    return arguments


def tags_for(env: Environment, artifact: Artifact) -> dict[str, str]:
    tags = {"Version": artifact.version, "Environment": env.name, "ArtifactSha256": artifact.sha256}
    if artifact.git_sha:
        tags["GitSha"] = artifact.git_sha
    return tags


def normalise(job: dict[str, Any]) -> dict[str, Any]:
    """The pipeline-owned members of a ``GetJob`` result, in the form :func:`render_definition` gives."""
    definition = {key: job[key] for key in DEFINITION_KEYS if job.get(key) not in (None, {}, "")}
    if "DefaultArguments" in definition:
        definition["DefaultArguments"] = dict(sorted(definition["DefaultArguments"].items()))
    if "Command" in definition:
        definition["Command"] = {k: v for k, v in definition["Command"].items() if k != "Runtime"}
    return json.loads(json.dumps(definition, sort_keys=True, default=str))


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Human-readable differences between two definitions, one line per changed member."""
    old, new = _flatten(normalise(old or {})), _flatten(normalise(new or {}))
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            lines.append(f"- {key}: {old[key]!r}")
        elif key not in old:
            lines.append(f"+ {key}: {new[key]!r}")
        elif old[key] != new[key]:
            lines.append(f"~ {key}: {old[key]!r} -> {new[key]!r}")
    return lines


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def check_drift(live: dict[str, Any] | None, last_deployed: dict[str, Any] | None, job_name: str) -> list[str]:
    """Differences between the live job and the ledger's last deployment of it (empty: no drift)."""
    if live is None or last_deployed is None:
        return [] if live is None else [f"{job_name} exists but the ledger never deployed it"]
    return diff(last_deployed, live)
