"""Operators of the run DAGs (``run__<job>``): every run of the live prod job is write-audit-publish.

The run writes a new generation, the audit checks what it wrote, and only then does publish point
the catalog at it, under the job's prod lock so it never overlaps a release's publish. On any
failure the run's publish (if it happened) is withdrawn and one alert says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from glue_cicd.operators.base import XCOM_FAILURE, JobOperator
from glue_cicd.operators.publish import PublishOperator

# The run DAG's tasks whose recorded failure the alert reports, in DAG order.
RUN_TASKS = ("prepare", "run", "audit", "wait_for_lock", "publish", "verify")


class PrepareRunOperator(JobOperator):
    """Resolve what this run runs: the live prod release, its generation and its arguments.

    Refuses (nothing run) if the job was never released to prod, or if prod's Glue job was edited
    outside the pipeline since (running it would run unreviewed code).

    :return: ``glue_job``, ``release`` (the live deployment's ledger key), ``artifact`` (as a build
        task returns it), ``generation``, ``date`` (jobs that process one date) and ``arguments``.
    """

    template_fields: Sequence[str] = ("job",)

    def __init__(self, *, job: str, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.job = job

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd import deploy
        from glue_cicd.errors import Refusal

        environments, specs = self.load()
        prod, spec = environments["prod"], specs[self.job]
        name = prod.glue_job_name(self.job)
        live = self.ledger(environments).live(self.job, "prod")
        if live is None:
            raise Refusal(f"{self.job} was never released to prod: nothing to run (release__{self.job} releases it)")
        if live.outcome in ("failed", "rolled_back"):
            raise Refusal(
                f"prod's latest release of {self.job} ({live.version}) is marked {live.outcome}: nothing run until a "
                f"release or a rollback (rollback_glue_job) puts a good one live"
            )
        drift = deploy.check_drift(self.glue(prod).live_definition(name), live.definition, name)
        if drift:
            raise Refusal(
                f"{name} was changed outside the pipeline since release {live.version}; nothing was run. "
                "Release the job again (or roll it back) to restore a reviewed definition:\n" + "\n".join(drift)
            )
        date = None
        if spec.run.date_argument:
            start = context.get("data_interval_start")
            if start is None:
                raise Refusal(f"{self.job} processes one date, and this run has no data interval to take it from")
            date = start.astimezone(UTC).date().isoformat()
        generation = self.generation(context)
        bucket = live.script_location.removeprefix("s3://").split("/", 1)[0]
        artifact = {"job": self.job, "version": live.version, "sha256": live.artifact_sha256, "bucket": bucket}
        self.log.info(
            "%s runs release %s%s into generation %s", name, live.version, f" for {date}" if date else "", generation
        )
        return {
            "glue_job": name,
            "release": live.sk,
            "artifact": artifact,
            "generation": generation,
            "date": date,
            "arguments": deploy.scheduled_run_arguments(spec, prod, generation, date),
        }


class RunPublishOperator(PublishOperator):
    """Publish a run's audited generation through prod's catalog, and record it in the ledger.

    No approval and no promotion: the run ran the release a reviewer approved. Refuses (nothing
    published) if another version went live while the run ran, since its data came from the old code.

    :param generation: the generation the run wrote (``prepare.output["generation"]``).
    :param release: the ledger key of the release the run ran (``prepare.output["release"]``).
    :param artifact: that release's artifact (``prepare.output["artifact"]``).
    """

    template_fields: Sequence[str] = (*PublishOperator.template_fields, "release")
    kind = "run"

    def __init__(self, *, job: str, generation: Any, release: Any, artifact: Any, **kwargs):
        super().__init__(job=job, environment="prod", generation=generation, artifact=artifact, **kwargs)
        self.release = release

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd.errors import Refusal
        from glue_cicd.operators.base import artifact_from

        environments, specs = self.load()
        env = environments["prod"]
        ledger = self.ledger(environments)
        ledger.acquire(self.job, env.name, self.run_ref(context))
        live = ledger.live(self.job, env.name)
        artifact = artifact_from(self.artifact)
        # Versions are content hashes: the same version re-released (or rolled back to) is the same code.
        if live is None or (live.sk != self.release and live.version != artifact.version):
            raise Refusal(
                f"{self.job} {live.version if live else '(none)'} went live in prod while this run ran an earlier "
                f"release; nothing published (generation {self.generation_id} stays unpublished)"
            )
        published: list[dict[str, Any]] = []
        try:
            for output in specs[self.job].datasets.outputs:
                published.append(self.publish(context, env, output, artifact))
        except Exception:
            if published:
                self.log.error("publishing failed midway: putting the datasets already published back")
                self.undo(env, [p["manifest"] for p in published])
            raise
        ledger.record_run(
            job=self.job,
            environment=env.name,
            release=live,
            generation=self.generation_id,
            data={p["dataset"]: p["manifest"] for p in published},
            run_id=self.run_ref(context),
        )
        return published


class RunFailedOperator(PublishOperator):
    """After a failed run: withdraw its publish if there was one, send one alert, and fail.

    The alert (the environments config's alerts topic) names the job, the DAG run, what failed (the
    failed expectations of an audit) and whether consumers ever saw the run's data.

    :param generation: the generation the run wrote (``prepare.output["generation"]``).
    :param date: the date a date job's run processed (``prepare.output["date"]``).
    """

    template_fields: Sequence[str] = (*PublishOperator.template_fields, "date")

    def __init__(self, *, job: str, generation: Any, date: Any = None, **kwargs):
        super().__init__(job=job, environment="prod", generation=generation, artifact=None, **kwargs)
        self.date = date

    def perform(self, context) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from glue_cicd.notifications import send_alert

        environments, specs = self.load()
        env = environments["prod"]
        ti = context["ti"]
        reasons = [f"{task}: {why}" for task in RUN_TASKS if (why := ti.xcom_pull(task_ids=task, key=XCOM_FAILURE))]
        reason = "; ".join(reasons) or "a task failed without a recorded reason (see the failed task's log)"
        try:
            withdrawn = self.withdraw(context, environments, specs[self.job]) if self.generation_id else []
        except Exception as exc:  # the alert must go out, saying what consumers may now read
            self.log.exception("withdrawing the run's publish failed")
            outcome = f"withdrawing its publish FAILED ({exc}): consumers may read its data; check the catalog"
        else:
            outcome = (
                f"its publish was withdrawn: consumers read what they read before ({', '.join(withdrawn)})"
                if withdrawn
                else "nothing was published: consumers read what they read before"
            )
        run = f"run of {self.job}" + (f" for {self.date}" if self.date else "")
        message = f"A {run} in prod failed; {outcome}.\n\n{reason}\n\nDAG run: {self.run_ref(context)}"
        send_alert(environments, env, f"{run} failed", message)
        self.log.error("%s", message)
        raise AirflowFailException(f"{run} failed; {outcome}: {reason}")

    def withdraw(self, context, environments, spec) -> list[str]:
        """Undo this run's publish of every dataset whose manifest exists, under the prod lock (this
        run's, re-entrant: refused if another run or a release took it since); the tables put back."""
        from glue_cicd.operators.publish import stored_manifests

        env = environments["prod"]
        outputs = [o.name for o in spec.datasets.outputs]
        manifests = stored_manifests(self.store(env), env, self.job, outputs, self.generation_id)
        if not manifests:
            return []
        ledger = self.ledger(environments)
        ledger.acquire(self.job, env.name, self.run_ref(context))
        self.undo(env, list(manifests.values()))
        for run in ledger.runs(self.job, env.name):
            if run["generation"] == self.generation_id and run["outcome"] == "published":
                ledger.set_run_outcome(run, "withdrawn")
        return [f"{env.catalog_database}.{name}" for name in manifests]
