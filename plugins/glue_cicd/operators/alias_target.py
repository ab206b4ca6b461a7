"""What the release operators of alias-routed targets share (Lambda functions, Step Functions
state machines): the target's spec and hook, its name in the ledger, the approval check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glue_cicd.operators.base import JobOperator, valid_spec

if TYPE_CHECKING:
    from glue_cicd.spec import Environment, EnvironmentsConfig

NOUNS = {"lambda": "Lambda function", "states": "state machine"}


def release_params() -> dict[str, Any]:
    """The Params of a Lambda or state machine release DAG."""
    from airflow.sdk import Param

    return {
        "release_notes": Param("", type="string", title="Release notes", format="multiline"),
        "allow_drift": Param(
            False,
            type="boolean",
            title="Take over a drifted alias",
            description="Deploy even if prod's live alias was changed outside the pipeline.",
        ),
    }


class AliasTargetOperator(JobOperator):
    """Base of the operators releasing a ``kind`` of target (``lambda`` or ``states``), loaded
    when the task runs.

    ``job`` is the target's name in the ledger and its locks (``<kind>:<target>``), so the Glue
    release's pieces that key on it (ledger, locks, refusals) serve these targets unchanged.
    """

    kind: str
    target: str

    @property
    def job(self) -> str:  # type: ignore[override]
        return f"{self.kind}:{self.target}"

    @property
    def noun(self) -> str:
        return NOUNS[self.kind]

    @staticmethod
    def shown(version: str | None) -> str:
        """A version as people read it: ``version 3`` (a Lambda version or a state machine version's ARN)."""
        return f"version {version.rsplit(':', 1)[-1]}" if version else "nothing"

    def load_target(self) -> tuple[EnvironmentsConfig, Any]:
        """The environments config and the target's valid spec; refuses an unknown or invalid one."""
        from glue_cicd.spec import load_environments

        if self.kind == "lambda":
            from glue_cicd.function_spec import load_functions as load
        else:
            from glue_cicd.state_machine_spec import load_state_machines as load
        environments = load_environments()
        specs, errors = load(environments=environments)
        return environments, valid_spec(self.noun, self.target, specs, errors)

    def aliases(self, env: Environment):
        """The hook that publishes versions of this kind of target and routes their aliases."""
        if self.kind == "lambda":
            from glue_cicd.hooks.lambda_functions import LambdaFunctionHook as Hook
        else:
            from glue_cicd.hooks.state_machines import StateMachineHook as Hook
        return Hook(aws_conn_id=env.aws_conn_id, region_name=env.region)

    def check_approval(self, context, environments: EnvironmentsConfig, approval: Any, version: str) -> None:
        """Refuse a prod deploy without a valid approval (four eyes; recorded where required);
        record who approved in the ledger."""
        from glue_cicd.approval import ApprovalRefused, check_approval

        try:
            approver = check_approval(
                approval or None,
                triggered_by=self.triggered_by(context),
                require_recorded=environments["prod"].require_recorded_approval,
            )
        except ApprovalRefused as exc:
            raise ApprovalRefused(f"deploy refused, prod unchanged: {exc}") from exc
        self.ledger(environments).record(
            self.job,
            "approval",
            run_id=self.run_ref(context),
            who=(approver or {}).get("name", "not recorded"),
            version=version,
            recorded=approver is not None,
        )

    def go_live(self, hook, name: str, version: str, previous: str | None, env: Environment, first_step: int) -> None:
        """Route the ``live`` alias after deploying ``version``: in prod beside a ``previous``
        version, ``first_step`` percent of the traffic; otherwise all of it."""
        from glue_cicd.functions import LIVE_ALIAS

        if env.name == "prod" and previous is not None:
            hook.route(name, LIVE_ALIAS, previous, {version: first_step / 100})
            self.log.info(
                "%s:%s: %s takes %d%% of the traffic, %s the rest",
                name, LIVE_ALIAS, self.shown(version), first_step, self.shown(previous),
            )  # fmt: skip
        else:
            hook.route(name, LIVE_ALIAS, version)
            self.log.info("%s:%s: all traffic on %s", name, LIVE_ALIAS, self.shown(version))

    def check_drift(
        self, context, ledger, routing: tuple[str, dict[str, float]] | None, version_key: str, ours
    ) -> None:
        """Refuse when prod's ``live`` alias (``routing``: its version and other versions'
        weights) is not where the ledger's last release left it (``definition[version_key]``).
        A version for which ``ours(version)`` holds is this release's own earlier try."""
        from glue_cicd.errors import Refusal

        last = ledger.live(self.job, "prod")
        expected = last.definition[version_key] if last else None
        actual = routing[0] if routing else None
        extra = {v: w for v, w in (routing[1] if routing else {}).items() if not ours(v)}
        if actual == expected and not extra:
            return
        found = self.shown(actual) + (f" with routing {extra}" if extra else "") if routing else "no live alias"
        message = (
            f"prod's live alias drifted: it points at {found}, the ledger's last release left it on "
            f"{self.shown(expected)}; it was changed outside the pipeline"
        )
        if not context["params"].get("allow_drift"):
            raise Refusal(message + ". Nothing was deployed: re-run with allow_drift to take it over")
        self.log.warning("%s; allow_drift is set: deploying over it", message)
