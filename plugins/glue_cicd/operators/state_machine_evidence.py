"""What a reviewer sees before approving a state machine release: staging's sample executions and
what changes in prod (the definition, as a diff, and the traffic plan)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.state_machine_base import StateMachineOperator

MAX_DIFF_LINES = 80


class StateMachineEvidenceOperator(StateMachineOperator):
    """Build the approval's subject and body (markdown) and store them beside the artifact.

    :param artifact: the build task's result. :param samples: the staging sample executions' result.
    """

    template_fields: Sequence[str] = ("state_machine", "artifact", "samples")

    def __init__(self, *, state_machine: str, artifact: Any, samples: Any, **kwargs):
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.state_machine = state_machine
        self.artifact = artifact
        self.samples = samples

    def perform(self, context) -> dict[str, str]:
        from glue_cicd.functions import LIVE_ALIAS
        from glue_cicd.state_machines import StateMachineArtifact, render_definition

        environments, spec = self.load_target()
        prod = environments["prod"]
        artifact = StateMachineArtifact.from_dict(self.artifact)
        machines = self.aliases(prod)
        name = prod.state_machine_name(spec.name)
        arn = machines.find(name)
        routing = machines.routing(arn, LIVE_ALIAS) if arn else None
        live = json.loads(machines.definition_of(routing[0])[0]) if routing else {}
        wanted = json.loads(render_definition(spec.definition_text, prod))
        diff = list(
            difflib.unified_diff(
                json.dumps(live, indent=2, sort_keys=True).splitlines() if live else [],
                json.dumps(wanted, indent=2, sort_keys=True).splitlines(),
                "prod now",
                "this release",
                lineterm="",
            )
        )
        shown = diff[:MAX_DIFF_LINES] + (
            [f"... {len(diff) - MAX_DIFF_LINES} more lines"] if len(diff) > MAX_DIFF_LINES else []
        )
        samples = "\n".join(
            f"- {'✅' if r['ok'] else '❌'} `{r['sample']}`" + (f": {r['problem']}" if r["problem"] else "")
            for r in self.samples
        )
        plan = ", ".join(f"{p}%" for p in spec.traffic.steps)
        minutes = prod.bake_minutes_override or spec.traffic.bake_minutes
        now = f"version {routing[0].rsplit(':', 1)[1]}" if routing else "no live version (first release)"
        body = "\n".join(
            [
                f"### State machine `{spec.name}` → `{name}` version from artifact `{artifact.version}`",
                f"Requested by {self.triggered_by(context) or 'unknown'}. "
                f"Notes: {context['params'].get('release_notes') or '-'}",
                "",
                "**Staging sample executions:**",
                samples,
                "",
                f"**Prod now:** {now}.",
                f"**Traffic plan:** {plan} of executions for {minutes:g} min each, then 100%; more than "
                f"{spec.traffic.max_error_rate:.1%} failed executions puts all of them back on the current version.",
                "",
                "**Definition changes:**",
                *(["```diff", *shown, "```"] if diff else ["none"]),
            ]
        )
        subject = f"Release {spec.name} {artifact.version} to prod?"
        self.store(environments["staging"]).put_json(
            artifact.bucket, artifact.prefix + "evidence.json", {"subject": subject, "body": body}
        )
        return {"subject": subject, "body": body}
