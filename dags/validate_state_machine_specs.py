"""Surfaces invalid state machine specs and definitions as an Airflow DAG import error (this file
defines no DAG), as ``validate_job_specs.py`` does for Glue jobs: ``release_state_machines.py``
loads the valid ones."""

from __future__ import annotations

from glue_cicd.spec import SpecError, load_environments
from glue_cicd.state_machine_spec import load_state_machines

_, errors = load_state_machines(environments=load_environments())
if errors:
    raise SpecError(
        "state_machines",
        [f"{len(errors)} invalid state machine spec(s), their release DAGs are not loaded"]
        + [str(e) for e in errors.values()],
    )
