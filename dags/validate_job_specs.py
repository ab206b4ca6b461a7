"""Surfaces invalid job specs as an Airflow DAG import error (this file defines no DAG).

``release_glue_jobs.py`` builds release DAGs for the valid specs only, so one bad
``glue_jobs/<job>/job.yaml`` never hides the others; this file fails to import with every
invalid spec's file, field and allowed values, so the error shows in the UI's import errors.
"""

from __future__ import annotations

from glue_cicd.spec import SpecError, load_environments, load_jobs

_, errors = load_jobs(environments=load_environments())
if errors:
    raise SpecError(
        "glue_jobs",
        [f"{len(errors)} invalid job spec(s), their release DAGs are not loaded"] + [str(e) for e in errors.values()],
    )
