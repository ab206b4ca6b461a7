"""Operators of the release DAG. They orchestrate; packaging, rendering, checks and the ledger
live in the library modules, and AWS calls go through the environment's Airflow connection."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

XCOM_FAILURE = "failure"


class ReleaseOperator(BaseOperator):
    """Base: the job, its environments and the ledger, loaded when the task runs.

    :param job: the job's name (its folder under ``glue_jobs/``).
    """

    template_fields: Sequence[str] = ("job",)
    ui_color = "#e8f0fe"

    def __init__(self, *, job: str, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def load(self):
        from glue_cicd.spec import load_environments, load_jobs

        environments = load_environments()
        specs, errors = load_jobs(environments=environments)
        if self.job not in specs:
            reason = next(
                (str(e) for p, e in errors.items() if p.parent.name == self.job),
                f"no such job; known jobs: {', '.join(sorted(specs)) or 'none'}",
            )
            raise AirflowException(f"job {self.job!r}: {reason}")
        return environments, specs

    def ledger(self, environments):
        from glue_cicd.aws import client
        from glue_cicd.ledger import Ledger

        return Ledger(client(environments["prod"], "dynamodb"), environments.ledger_table)

    @staticmethod
    def run_ref(context) -> str:
        return f"{context['dag'].dag_id}/{context['run_id']}"

    @staticmethod
    def triggered_by(context) -> str | None:
        return getattr(context["dag_run"], "triggering_user_name", None)

    def fail(self, context, message: str) -> None:
        """Record why the task failed (for reports and alerts) and fail it without retrying.

        Used for deterministic failures (failed checks, refused changes), which a retry cannot
        fix; transient errors (AWS throttling, network) raise as usual and are retried.
        """
        context["ti"].xcom_push(key=XCOM_FAILURE, value=message)
        raise AirflowFailException(message)


def _artifact(context):
    from glue_cicd.build import Artifact

    data = context["ti"].xcom_pull(task_ids="build")
    return Artifact(data["job"], data["version"], data["sha256"], data["bucket"], data.get("git_sha"))


def _sources(git_ref: str | None, workdir: Path) -> tuple[Path, str | None]:
    from glue_cicd.build import export_git_ref, git_sha
    from glue_cicd.paths import JOBS_DIR

    if git_ref:
        return export_git_ref(git_ref, workdir)
    return JOBS_DIR, git_sha()


class SourcesOperator(ReleaseOperator):
    """Base: works on the job's sources, from the deployed checkout or a git ref.

    :param git_ref: use the sources of this git ref instead of the deployed checkout.
    """

    template_fields: Sequence[str] = ("job", "git_ref")

    def __init__(self, *, git_ref: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.git_ref = git_ref


class BuildArtifactOperator(SourcesOperator):
    """Package the job into an immutable, content-versioned artifact in the artifact bucket."""

    def execute(self, context) -> dict[str, Any]:
        from glue_cicd.aws import client
        from glue_cicd.build import BuildError, package_job, publish

        environments, _ = self.load()
        staging = environments["staging"]
        with tempfile.TemporaryDirectory() as workdir:
            try:
                jobs_dir, git = _sources(self.git_ref or None, Path(workdir))
                package = package_job(self.job, jobs_dir)
                artifact, new = publish(client(staging, "s3"), package, staging.artifact_bucket, git)
            except BuildError as exc:
                raise AirflowException(str(exc)) from exc
        self.log.info("%s %s: %s", "built" if new else "already built", artifact.version, artifact.uri)
        self.ledger(environments).record(
            self.job, "build", run_id=self.run_ref(context), version=artifact.version, uri=artifact.uri, new=new
        )
        return {**artifact.to_dict(), "git_ref": self.git_ref or None}


class JobTestsOperator(SourcesOperator):
    """Run the job's pytest suite on the built sources; store counts and JUnit XML by the artifact.

    A result is recorded in the ledger under a key of everything the tests can see (see
    :func:`glue_cicd.testing.job_tests_key`); a release whose key already passed reuses that
    result instead of running the tests again.
    """

    def execute(self, context) -> dict[str, Any]:
        from glue_cicd.aws import client
        from glue_cicd.build import package_job
        from glue_cicd.testing import JobTestsFailed, job_tests_key, run_job_tests

        environments, _ = self.load()
        artifact = _artifact(context)
        ledger = self.ledger(environments)
        run_ref = self.run_ref(context)
        with tempfile.TemporaryDirectory() as workdir:
            jobs_dir, _ = _sources(self.git_ref or None, Path(workdir))
            if package_job(self.job, jobs_dir).version != artifact.version:
                self.fail(context, f"the sources changed since build {artifact.version}: re-run the release")
            key = job_tests_key(jobs_dir, artifact.version)
            passed = ledger.passed_tests(self.job, key)
            if passed:
                self.log.info(
                    "tests passed in %s on the same content (key %s); not run again", passed["tested_in"], key
                )
                details = {**passed, "reused": True}
                ledger.record(self.job, "test", run_id=run_ref, version=artifact.version, **details)
                return details
            try:
                report, junit, tail = run_job_tests(self.job, jobs_dir, Path(workdir))
            except JobTestsFailed as exc:
                self.fail(context, str(exc))
            if job_tests_key(jobs_dir, artifact.version) != key:
                self.fail(context, "the sources changed while the tests ran: re-run the release")
        result = {**report.to_dict(), "key": key}
        s3 = client(environments["staging"], "s3")
        prefix = f"{artifact.prefix}tests/{key}/"
        s3.put_object(Bucket=artifact.bucket, Key=prefix + "junit.xml", Body=junit)
        s3.put_object(Bucket=artifact.bucket, Key=prefix + "report.json", Body=json.dumps(result, indent=2).encode())
        self.log.info("pytest output:\n%s", tail)
        ledger.record(self.job, "test", run_id=run_ref, version=artifact.version, **result)
        if not report.ok:
            self.fail(
                context,
                f"{self.job}'s tests failed: {report.failures} failures, {report.errors} errors of {report.tests} "
                f"({', '.join(report.failed_tests[:5]) or 'no tests ran'})",
            )
        return {**result, "tested_in": run_ref}


class DeployGlueJobOperator(ReleaseOperator):
    """Create or update the environment's Glue job with the full definition from the spec.

    Takes the job's lock for the environment first. Refuses to overwrite a job edited outside
    the pipeline (drift) unless ``allow_drift``.

    :param environment: ``staging`` or ``prod``.
    :param allow_drift: deploy over a drifted job deliberately.
    """

    template_fields: Sequence[str] = ("job", "environment", "allow_drift")

    def __init__(self, *, environment: str, allow_drift: bool | str = False, **kwargs):
        super().__init__(**kwargs)
        self.environment = environment
        self.allow_drift = allow_drift

    def execute(self, context) -> dict[str, Any]:
        environments, specs = self.load()
        artifact = _artifact(context)
        self.before_deploy(context, environments, artifact)
        return self.deploy(context, environments, specs, artifact)

    def before_deploy(self, context, environments, artifact) -> None:
        """Checks a subclass makes before anything changes."""

    def deploy(self, context, environments, specs, artifact, kind: str = "deployment") -> dict[str, Any]:
        from glue_cicd import deploy
        from glue_cicd.aws import account_id, client
        from glue_cicd.ledger import LockHeldError

        env = environments[self.environment]
        ledger = self.ledger(environments)
        try:
            ledger.acquire(self.job, env.name, self.run_ref(context))
        except LockHeldError as exc:
            self.fail(context, str(exc))
        glue = client(env, "glue")
        name = env.glue_job_name(self.job)
        desired = deploy.render_definition(specs[self.job], env, artifact, specs)
        live = deploy.get_live_definition(glue, name)
        last = ledger.live(self.job, env.name)
        if live is not None and live != deploy.normalise(desired):
            drift = deploy.check_drift(live, last.definition if last else None, name)
            if drift and str(self.allow_drift).lower() not in ("true", "1"):
                self.fail(
                    context,
                    f"{name} was changed outside the pipeline (drift), nothing deployed; "
                    "set the allow_drift Param to overwrite it:\n" + "\n".join(drift),
                )
            if drift:
                self.log.warning("overwriting drifted job %s:\n%s", name, "\n".join(drift))
        outcome = deploy.apply(glue, name, desired, deploy.tags_for(env, artifact), account_id(env))
        self.log.info("%s: %s (version %s)", name, outcome, artifact.version)
        if last is None or last.version != artifact.version or last.definition != deploy.normalise(desired):
            ledger.record_deployment(
                job=self.job,
                environment=env.name,
                version=artifact.version,
                artifact_sha256=artifact.sha256,
                script_location=artifact.script_uri,
                definition=deploy.normalise(desired),
                run_id=self.run_ref(context),
                who=self.triggered_by(context) or "",
                kind=kind,
            )
        return {"glue_job": name, "version": artifact.version, "outcome": outcome}


class PromoteOperator(DeployGlueJobOperator):
    """Deploy the exact staging artifact to prod, after checking the approval and the artifact's sha256."""

    def __init__(self, **kwargs):
        super().__init__(environment="prod", **kwargs)

    def before_deploy(self, context, environments, artifact) -> None:
        from glue_cicd.approval import ApprovalRefused, check_approval
        from glue_cicd.aws import client
        from glue_cicd.build import BuildError, verify_artifact

        prod = environments["prod"]
        response = context["ti"].xcom_pull(task_ids="approval")
        try:
            approver = check_approval(
                response, triggered_by=self.triggered_by(context), require_recorded=prod.require_recorded_approval
            )
            verify_artifact(client(environments["staging"], "s3"), artifact)
        except (ApprovalRefused, BuildError) as exc:
            self.fail(context, f"promotion refused, prod unchanged: {exc}")
        self.ledger(environments).record(
            self.job,
            "approval",
            run_id=self.run_ref(context),
            who=(approver or {}).get("name", "not recorded"),
            version=artifact.version,
            recorded=approver is not None,
        )

    def deploy(self, context, environments, specs, artifact, kind: str = "promotion") -> dict[str, Any]:
        return super().deploy(context, environments, specs, artifact, kind=kind)


class QualityGateOperator(ReleaseOperator):
    """Validate every output dataset of the job in an environment with its Great Expectations suite.

    Results are stored as JSON in the environment's data bucket and summarised in the log and
    XCom; any failed expectation fails the task. In prod, success marks the deployment verified.

    :param environment: ``staging`` or ``prod``.
    """

    template_fields: Sequence[str] = ("job", "environment")
    ui_color = "#e6f4ea"

    def __init__(self, *, environment: str, **kwargs):
        super().__init__(**kwargs)
        self.environment = environment

    def execute(self, context) -> list[dict[str, Any]]:
        from glue_cicd.aws import client
        from glue_cicd.quality import DatasetUnavailableError, describe_failure, validate_s3_dataset

        environments, specs = self.load()
        env = environments[self.environment]
        s3 = client(env, "s3")
        artifact = _artifact(context)
        results, problems = [], []
        for output in specs[self.job].datasets.outputs:
            uri = output.path_in(env)
            try:
                quality = validate_s3_dataset(s3, uri, output.format, output.suite)
            except DatasetUnavailableError as exc:
                problems.append(f"{output.name}: {exc}")
                continue
            self.log.info("%s", quality.summary())
            result = quality.to_dict()
            key = f"_quality/{self.job}/{output.name}/{artifact.version}/{context['run_id']}.json".replace(":", "-")
            s3.put_object(Bucket=env.data_bucket, Key=key, Body=json.dumps(result, indent=2).encode())
            result["result_uri"] = f"s3://{env.data_bucket}/{key}"
            self.log.info("results stored in %s", result["result_uri"])
            results.append(result)
            if not quality.success:
                failures = "; ".join(describe_failure(f) for f in quality.failures)
                problems.append(f"{output.name}: {quality.failed} failed expectations: {failures}")
        ledger = self.ledger(environments)
        ledger.record(
            self.job,
            "quality",
            run_id=self.run_ref(context),
            environment=env.name,
            version=artifact.version,
            results=[{k: r[k] for k in ("dataset", "suite", "success", "passed", "failed")} for r in results],
        )
        if problems:
            self.fail(context, f"quality gate failed in {env.name}: " + "; ".join(problems))
        if env.name == "prod":
            live = ledger.live(self.job, "prod")
            if live is not None and live.version == artifact.version:
                ledger.set_outcome(live, "verified")
            ledger.record(self.job, "verification", run_id=self.run_ref(context), version=artifact.version)
        return results


class ApprovalEvidenceOperator(ReleaseOperator):
    """Gather what a reviewer needs (tests, quality, definition diff, durations) as Markdown."""

    def execute(self, context) -> str:
        from glue_cicd import deploy
        from glue_cicd.approval import evidence_markdown
        from glue_cicd.aws import client

        environments, specs = self.load()
        artifact = _artifact(context)
        staging, prod = environments["staging"], environments["prod"]
        prod_glue = client(prod, "glue")
        prod_name = prod.glue_job_name(self.job)
        desired = deploy.render_definition(specs[self.job], prod, artifact, specs)
        live = self.ledger(environments).live(self.job, "prod")
        staging_run = context["ti"].xcom_pull(task_ids="run_staging")
        staging_seconds = None
        if staging_run:
            run = client(staging, "glue").get_job_run(JobName=staging.glue_job_name(self.job), RunId=staging_run)
            staging_seconds = run["JobRun"].get("ExecutionTime")
        return evidence_markdown(
            job=self.job,
            artifact=artifact.to_dict(),
            definition_diff=deploy.diff(deploy.get_live_definition(prod_glue, prod_name), desired),
            tests=context["ti"].xcom_pull(task_ids="test") or {},
            quality=context["ti"].xcom_pull(task_ids="quality_gate") or [],
            staging_seconds=staging_seconds,
            prod_last_seconds=_last_successful_seconds(prod_glue, prod_name),
            prod_version=live.version if live else None,
            triggered_by=self.triggered_by(context),
        )


def _last_successful_seconds(glue, name: str) -> int | None:
    from botocore.exceptions import ClientError

    try:
        runs = glue.get_job_runs(JobName=name, MaxResults=50)["JobRuns"]
    except ClientError:
        return None
    return next((r.get("ExecutionTime") for r in runs if r["JobRunState"] == "SUCCEEDED"), None)


class RollbackOperator(ReleaseOperator):
    """Restore an earlier release of the job (script and full definition) from the ledger.

    In the release DAG it runs when promotion or verification failed: it restores the previous
    release, marks the failed one, and then fails with the reason. In the rollback DAG it restores
    ``version`` (default: the previous release) and succeeds.

    :param environment: ``staging`` or ``prod``.
    :param version: the version to restore; empty means the previous release.
    :param failed_tasks: tasks whose recorded failure explains this rollback (release DAG).
    :param approval_task: in prod, the approval task whose answer must allow this rollback.
    """

    template_fields: Sequence[str] = ("job", "environment", "version")
    ui_color = "#fce8e6"

    def __init__(
        self,
        *,
        environment: str,
        version: str = "",
        failed_tasks: Sequence[str] = (),
        approval_task: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.environment = environment
        self.version = version
        self.failed_tasks = list(failed_tasks)
        self.approval_task = approval_task

    def execute(self, context) -> dict[str, Any]:
        from glue_cicd.approval import ApprovalRefused, check_approval
        from glue_cicd.rollback import RollbackError, restore

        environments, specs = self.load()
        env = environments[self.environment]
        ledger = self.ledger(environments)
        if self.approval_task and env.name == "prod":
            try:
                approver = check_approval(
                    context["ti"].xcom_pull(task_ids=self.approval_task),
                    triggered_by=self.triggered_by(context),
                    require_recorded=env.require_recorded_approval,
                )
            except ApprovalRefused as exc:
                raise AirflowException(f"rollback refused, {env.name} unchanged: {exc}") from exc
            ledger.record(
                self.job, "approval", run_id=self.run_ref(context), who=(approver or {}).get("name", "not recorded"),
                version=self.version, recorded=approver is not None, action="rollback",
            )  # fmt: skip
        reasons = [
            f"{task}: {reason}"
            for task in self.failed_tasks
            if (reason := context["ti"].xcom_pull(task_ids=task, key=XCOM_FAILURE))
        ]
        release_version = None
        if self.failed_tasks:
            release_version = _artifact(context).version
        try:
            outcome = restore(
                ledger,
                env,
                self.job,
                owner=self.run_ref(context),
                version=self.version or None,
                failed_version=release_version,
                who=self.triggered_by(context) or "",
            )
        except RollbackError as exc:
            if not self.failed_tasks:
                raise AirflowException(str(exc)) from exc
            outcome = {"restored": None, "reason": str(exc)}
        self.log.info("rollback: %s", outcome)
        if self.failed_tasks:
            raise AirflowException(
                f"release of {self.job} {release_version} failed ({'; '.join(reasons) or 'see failed tasks'}); "
                f"{outcome.get('summary') or outcome.get('reason')}"
            )
        return outcome


class ReleaseLocksOperator(ReleaseOperator):
    """Teardown: give back every environment lock this run holds."""

    def execute(self, context) -> None:
        environments, _ = self.load()
        ledger = self.ledger(environments)
        for env in environments.environments:
            ledger.release(self.job, env, self.run_ref(context))


class RollbackCheckOperator(ReleaseOperator):
    """Resolve and check a rollback request before anything changes: known job, released version.

    :param environment: ``staging`` or ``prod``.
    :param version: the version asked for; empty means the previous release.
    :return: ``{"target": version, "current": version}``.
    """

    template_fields: Sequence[str] = ("job", "environment", "version")

    def __init__(self, *, environment: str, version: str = "", **kwargs):
        super().__init__(**kwargs)
        self.environment = environment
        self.version = version

    def execute(self, context) -> dict[str, Any]:
        from glue_cicd.rollback import RollbackError, choose_target

        environments, _ = self.load()
        if self.environment not in environments.environments:
            raise AirflowException(f"unknown environment {self.environment!r}; known: staging, prod")
        deployments = self.ledger(environments).deployments(self.job, self.environment)
        try:
            target = choose_target(
                deployments, job=self.job, env=self.environment, version=self.version or None, failed_version=None
            )
        except RollbackError as exc:
            raise AirflowException(f"rollback refused, nothing changed: {exc}") from exc
        current = deployments[-1].version
        self.log.info("%s in %s: %s -> %s", self.job, self.environment, current, target.version)
        return {"target": target.version, "current": current}
