"""The pipeline's exception policy, in one place.

A :class:`Refusal` is deterministic: a failed check or a refused change (bad input, a held lock,
a missing approval, failed tests or expectations). It leaves everything as it was, and a retry
cannot help, so the operators fail such a task at once. Any other exception (throttling, a
network error) is transient and the task retries.
"""


class Refusal(RuntimeError):
    """A check failed or a change was refused; nothing was changed."""
