"""What the Lambda function release operators share: the function's spec, its artifact, its hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glue_cicd.operators.base import JobOperator

if TYPE_CHECKING:
    from glue_cicd.function_spec import FunctionSpec
    from glue_cicd.hooks.lambda_functions import LambdaFunctionHook
    from glue_cicd.spec import Environment, EnvironmentsConfig


class FunctionOperator(JobOperator):
    """Base of the Lambda release operators: one function, loaded when the task runs.

    ``job`` is the function's name in the ledger and its locks (``lambda:<function>``), so the
    Glue release's pieces that key on it (ledger, locks, refusals) serve functions unchanged.
    """

    template_fields = ("function",)
    function: str

    def load_function(self) -> tuple[EnvironmentsConfig, FunctionSpec]:
        """The environments config and the function's valid spec; refuses an unknown or invalid one."""
        from glue_cicd.errors import Refusal
        from glue_cicd.function_spec import load_functions
        from glue_cicd.spec import load_environments

        environments = load_environments()
        specs, errors = load_functions(environments=environments)
        if self.function not in specs:
            reason = next(
                (str(e) for p, e in errors.items() if p.parent.name == self.function),
                f"no such function; known functions: {', '.join(sorted(specs)) or 'none'}",
            )
            raise Refusal(f"function {self.function!r}: {reason}")
        return environments, specs[self.function]

    @staticmethod
    def lambdas(env: Environment) -> LambdaFunctionHook:
        from glue_cicd.hooks.lambda_functions import LambdaFunctionHook

        return LambdaFunctionHook(aws_conn_id=env.aws_conn_id, region_name=env.region)
