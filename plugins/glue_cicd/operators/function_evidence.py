"""What a reviewer sees before approving a Lambda release: tests, staging's sample calls, and
what changes in prod (code, configuration, the traffic plan)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.function_base import FunctionOperator


class FunctionEvidenceOperator(FunctionOperator):
    """Build the approval's subject and body (markdown) and store them beside the artifact.

    :param artifact: the build task's result. :param tests: the tests task's result.
    :param smoke: the staging smoke test's result.
    """

    template_fields: Sequence[str] = ("function", "artifact", "tests", "smoke")

    def __init__(self, *, function: str, artifact: Any, tests: Any, smoke: Any, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.function = function
        self.artifact = artifact
        self.tests = tests
        self.smoke = smoke

    def perform(self, context) -> dict[str, str]:
        from glue_cicd.functions import LIVE_ALIAS, FunctionArtifact, configuration

        environments, spec = self.load_target()
        prod = environments["prod"]
        artifact = FunctionArtifact.from_dict(self.artifact)
        lambdas = self.aliases(prod)
        name = prod.function_name(spec.name)
        alias = lambdas.alias(name, LIVE_ALIAS) if lambdas.exists(name) else None
        wanted = configuration(spec, prod)
        live = (
            lambdas.conn.get_function_configuration(FunctionName=name, Qualifier=alias["FunctionVersion"])
            if alias
            else {}
        )
        changes = [
            f"| {key} | `{live.get(key)}` | `{value}` |"
            for key, value in wanted.items()
            if key != "FunctionName" and live.get(key) != value
        ]
        plan = ", ".join(f"{p}%" for p in spec.traffic.steps)
        minutes = prod.bake_minutes_override or spec.traffic.bake_minutes
        smoke = "\n".join(
            f"- {'✅' if r['ok'] else '❌'} `{r['sample']}`" + (f": {r['problem']}" if r["problem"] else "")
            for r in self.smoke
        )
        notes = context["params"].get("release_notes") or "-"
        tests = self.tests
        now = f"version {alias['FunctionVersion']}" if alias else "no live version (first release)"
        body = "\n".join(
            [
                f"### Lambda function `{spec.name}` → `{name}` version from artifact `{artifact.version}`",
                f"Requested by {self.triggered_by(context) or 'unknown'}. Notes: {notes}",
                "",
                f"**Tests:** {tests['passed']} passed, {tests['failures']} failed, {tests['errors']} errors.",
                "",
                "**Staging sample calls:**",
                smoke,
                "",
                f"**Prod now:** {now}.",
                f"**Traffic plan:** {plan} of calls for {minutes:g} min each, then 100%; more than "
                f"{spec.traffic.max_error_rate:.1%} errors puts every call back on the current version.",
                "",
                "**Configuration changes:**",
                *(["| field | prod now | this release |", "|---|---|---|", *changes] if changes else ["none"]),
            ]
        )
        subject = f"Release {spec.name} {artifact.version} to prod?"
        self.store(environments["staging"]).put_json(
            artifact.bucket, artifact.prefix + "evidence.json", {"subject": subject, "body": body}
        )
        return {"subject": subject, "body": body}
