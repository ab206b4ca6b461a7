"""Surfaces invalid Lambda function specs as an Airflow DAG import error (this file defines no DAG),
as ``validate_job_specs.py`` does for Glue jobs: ``release_lambda_functions.py`` loads the valid ones."""

from __future__ import annotations

from glue_cicd.function_spec import load_functions
from glue_cicd.spec import SpecError, load_environments

_, errors = load_functions(environments=load_environments())
if errors:
    raise SpecError(
        "lambda_functions",
        [f"{len(errors)} invalid function spec(s), their release DAGs are not loaded"]
        + [str(e) for e in errors.values()],
    )
