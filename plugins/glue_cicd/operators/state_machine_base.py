"""What the Step Functions release operators share: the state machine's spec and its hook."""

from __future__ import annotations

from glue_cicd.operators.alias_target import AliasTargetOperator


class StateMachineOperator(AliasTargetOperator):
    """Base of the state machine release operators: one state machine (``states:<name>`` in the ledger)."""

    template_fields = ("state_machine",)
    kind = "states"
    state_machine: str

    @property
    def target(self) -> str:  # type: ignore[override]
        return self.state_machine
