"""Build a state machine release: its definition, checked, as an immutable content-versioned artifact."""

from __future__ import annotations

from typing import Any

from glue_cicd.operators.state_machine_base import StateMachineOperator


class BuildStateMachineOperator(StateMachineOperator):
    """Store the definition as written (placeholders and all) as
    ``s3://<artifact bucket>/states/<state machine>/<version>/definition.asl.json`` (a no-op for a
    version that exists; other bytes under an existing version are refused). Loading the spec
    ran our structural check of the definition; each environment's deploy asks AWS's validator
    about the rendered one.

    :return: the artifact (``name``, ``version``, ``sha256``, ``bucket``, ``uri``).
    """

    def __init__(self, *, state_machine: str, **kwargs):
        super().__init__(**kwargs)
        self.state_machine = state_machine

    def perform(self, context) -> dict[str, Any]:
        from glue_cicd.build import git_sha
        from glue_cicd.state_machines import StateMachineArtifact

        environments, spec = self.load_target()
        staging = environments["staging"]
        content = spec.definition_text.encode()
        artifact = StateMachineArtifact.of(spec.name, content, staging.artifact_bucket, git_sha())
        new = artifact.store(self.store(staging), content, type=spec.type)
        self.log.info("%s %s: %s", "built" if new else "already built", artifact.version, artifact.uri)
        self.ledger(environments).record(
            self.job, "build", run_id=self.run_ref(context), version=artifact.version, uri=artifact.uri, new=new
        )
        return artifact.to_dict()
