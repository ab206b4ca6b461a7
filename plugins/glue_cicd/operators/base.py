"""What every pipeline operator shares: the job's spec and environments, the hooks, the failure policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

if TYPE_CHECKING:
    from glue_cicd.hooks.artifacts import ArtifactStoreHook
    from glue_cicd.hooks.catalog import CatalogHook
    from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
    from glue_cicd.hooks.ledger import LedgerHook
    from glue_cicd.spec import Environment, EnvironmentsConfig, JobSpec

# The XCom key under which a task records why it failed (for the rollback report and alerts).
XCOM_FAILURE = "failure"


class JobOperator(BaseOperator):
    """Base of the pipeline's operators: one job, loaded when the task runs.

    Subclasses implement :meth:`perform`. A :class:`~glue_cicd.errors.Refusal` it raises (a failed
    check, a refused change) fails the task without retry, its message recorded under the
    ``failure`` XCom key; anything else (a transient AWS error) is retried as the task allows.

    Each subclass takes ``job`` (the job's name, its folder under ``glue_jobs/``) in its own
    ``__init__``: Airflow copies the DAG's params once per ``__init__`` level, and DAG files
    declare many of these tasks, so the hierarchy stays flat.
    """

    template_fields: Sequence[str] = ("job",)
    ui_color = "#e8f0fe"
    job: str

    def execute(self, context) -> Any:
        return self.refusing(context, self.perform, context)

    def refusing(self, context, step, *args, **kwargs) -> Any:
        """``step(*args, **kwargs)``, with a :class:`~glue_cicd.errors.Refusal` failing the task
        without retry (what :meth:`execute` does for :meth:`perform`, for methods resumed after a
        deferral)."""
        from glue_cicd.errors import Refusal

        try:
            return step(*args, **kwargs)
        except Refusal as exc:
            # One line that says it all, and no chained traceback: a refusal is not a crash.
            self.log.error("refused: %s", exc)
            context["ti"].xcom_push(key=XCOM_FAILURE, value=str(exc))
            raise AirflowFailException(str(exc)) from None

    def perform(self, context) -> Any:
        raise NotImplementedError

    def load(self) -> tuple[EnvironmentsConfig, dict[str, JobSpec]]:
        """The environments config and the valid job specs; refuses an unknown or invalid job."""
        from glue_cicd.spec import load_environments, load_jobs

        environments = load_environments()
        specs, errors = load_jobs(environments=environments)
        valid_spec("job", self.job, specs, errors)
        return environments, specs

    @staticmethod
    def ledger(environments: EnvironmentsConfig) -> LedgerHook:
        from glue_cicd.hooks.ledger import LedgerHook

        prod = environments["prod"]
        return LedgerHook(aws_conn_id=prod.aws_conn_id, region_name=prod.region, table=environments.ledger_table)

    @staticmethod
    def glue(env: Environment) -> GlueJobDefinitionHook:
        from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook

        return GlueJobDefinitionHook(aws_conn_id=env.aws_conn_id, region_name=env.region)

    @staticmethod
    def store(env: Environment) -> ArtifactStoreHook:
        from glue_cicd.hooks.artifacts import ArtifactStoreHook

        return ArtifactStoreHook(aws_conn_id=env.aws_conn_id, region_name=env.region)

    @staticmethod
    def catalog(env: Environment) -> CatalogHook:
        from glue_cicd.hooks.catalog import CatalogHook

        return CatalogHook(aws_conn_id=env.aws_conn_id, region_name=env.region)

    @staticmethod
    def generation(context) -> str:
        """The data generation this DAG run writes: the same on every retry, a new one once cleared."""
        from glue_cicd.generations import generation_id

        dag_run = context["dag_run"]
        # Stamped with when the run started, not its run_after (a backfill's lies in the past), so
        # retention's age rule never takes a generation a run is still writing for an old date.
        when = getattr(dag_run, "start_date", None) or dag_run.run_after
        return generation_id(JobOperator.run_ref(context), when, getattr(dag_run, "clear_number", 0) or 0)

    @staticmethod
    def run_ref(context) -> str:
        """This DAG run, as the ledger names it (lock owner, event source)."""
        return f"{context['dag'].dag_id}/{context['run_id']}"

    @staticmethod
    def triggered_by(context) -> str | None:
        return getattr(context["dag_run"], "triggering_user_name", None)


def valid_spec(noun: str, name: str, specs: dict[str, Any], errors: dict) -> Any:
    """``specs[name]``; refuses an unknown ``name``, or an invalid one with its spec's errors."""
    from glue_cicd.errors import Refusal

    if name not in specs:
        reason = next(
            (str(e) for p, e in errors.items() if p.parent.name == name),
            f"no such {noun}; known {noun}s: {', '.join(sorted(specs)) or 'none'}",
        )
        raise Refusal(f"{noun} {name!r}: {reason}")
    return specs[name]


def artifact_from(data: dict[str, Any]):
    """The :class:`~glue_cicd.build.Artifact` a build task returned."""
    from glue_cicd.build import Artifact

    return Artifact(data["job"], data["version"], data["sha256"], data["bucket"], data.get("git_sha"))
