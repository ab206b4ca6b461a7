"""What the Lambda function release operators share: the function's spec and its hook."""

from __future__ import annotations

from glue_cicd.operators.alias_target import AliasTargetOperator


class FunctionOperator(AliasTargetOperator):
    """Base of the Lambda release operators: one function (``lambda:<function>`` in the ledger)."""

    template_fields = ("function",)
    kind = "lambda"
    function: str

    @property
    def target(self) -> str:  # type: ignore[override]
        return self.function
