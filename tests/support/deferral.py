"""Run a deferrable operator in-process as Airflow would: its trigger's event resumes it."""

from __future__ import annotations

import asyncio


def run_deferrable(operator, ctx, *, timeout: float = 600):
    """``operator.execute(ctx)``; on each deferral, run its trigger to its first event (the real
    trigger, against the emulator) and call the method it resumes with, until the task ends."""
    from airflow.sdk.exceptions import TaskDeferred

    def step():
        return operator.execute(ctx)

    while True:
        try:
            return step()
        except TaskDeferred as deferred:
            event = asyncio.run(asyncio.wait_for(_first_event(deferred.trigger), timeout))
            method, kwargs = getattr(operator, deferred.method_name), deferred.kwargs or {}

            def step(method=method, kwargs=kwargs, payload=event.payload):
                return method(ctx, event=payload, **kwargs)


async def _first_event(trigger):
    async for event in trigger.run():
        return event
    raise AssertionError(f"{type(trigger).__name__} ended without an event")
