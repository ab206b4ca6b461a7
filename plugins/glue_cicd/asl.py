"""Amazon States Language definitions, without AWS: our structural check (every problem named by
its state and field) and the placeholders a definition uses for what the pipeline deploys.

The check covers what makes a definition unusable or unreviewable: unknown state types, dangling
``Next``/``Default``/``Catch`` targets, states that neither go on nor end, Choice, Wait, Task,
Parallel and Map shapes, unreachable states. Where AWS's ``ValidateStateMachineDefinition`` is
available the deploy step asks it too (it knows every field of every integration).

Placeholders, filled per environment: ``${glue_job:<job>}`` (the job's name there),
``${lambda_function:<function>}`` (the ARN of its ``live`` alias there), ``${data_bucket}``,
``${artifact_bucket}``, ``${environment}``, ``${region}`` and ``${account}``.
"""

from __future__ import annotations

import re
from typing import Any

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
TOP_FIELDS = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
TERMINAL = {"Succeed", "Fail"}
WAIT_FIELDS = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_]+)(?::([A-Za-z0-9_]+))?\}")
VALUE_PLACEHOLDERS = ("data_bucket", "artifact_bucket", "environment", "region", "account")
REFERENCE_PLACEHOLDERS = ("glue_job", "lambda_function")


def check_definition(definition: Any, where: str = "") -> list[str]:
    """The problems of a state machine (or a Parallel branch / Map processor) ``definition``."""
    prefix = f"{where}: " if where else ""
    if not isinstance(definition, dict):
        return [f"{prefix}a definition must be a JSON object with StartAt and States"]
    problems = []
    if not where and (unknown := sorted(set(definition) - TOP_FIELDS)):
        problems.append(f"unknown top-level field {', '.join(unknown)}; allowed: {', '.join(sorted(TOP_FIELDS))}")
    states = definition.get("States")
    if not isinstance(states, dict) or not states:
        return [*problems, f"{prefix}field 'States': must be an object holding at least one state"]
    start = definition.get("StartAt")
    if start not in states:
        problems.append(f"{prefix}field 'StartAt': {start!r} is not a state; states: {', '.join(states)}")
    for name, state in states.items():
        problems += _state_problems(name, state, states, prefix)
    if start in states:
        reachable = _reachable(start, states)
        problems += [f"{prefix}state {n!r}: not reachable from StartAt {start!r}" for n in states if n not in reachable]
    return problems


def _state_problems(name: str, state: Any, states: dict[str, Any], prefix: str) -> list[str]:
    here = f"{prefix}state {name!r}"
    if len(name) > 80:
        return [f"{here}: names are at most 80 characters"]
    if not isinstance(state, dict) or state.get("Type") not in STATE_TYPES:
        found = state.get("Type") if isinstance(state, dict) else state
        return [f"{here}: field 'Type': {found!r} is not one of {', '.join(STATE_TYPES)}"]
    kind, problems = state["Type"], []

    def target(field: str, value: Any) -> None:
        if value not in states:
            problems.append(f"{here}: field '{field}': no state {value!r}; states: {', '.join(states)}")

    if kind in TERMINAL or kind == "Choice":
        problems += [f"{here}: a {kind} state takes no '{f}'" for f in ("Next", "End") if f in state]
    elif ("Next" in state) == (state.get("End") is True):
        problems.append(f"{here}: give exactly one of 'Next' (the state after it) or 'End': true")
    elif "Next" in state:
        target("Next", state["Next"])
    if kind == "Choice":
        choices = state.get("Choices")
        if not isinstance(choices, list) or not choices:
            problems.append(f"{here}: field 'Choices': must be a non-empty list of rules, each with a 'Next'")
        else:
            for i, rule in enumerate(choices):
                target(f"Choices[{i}].Next", rule.get("Next") if isinstance(rule, dict) else None)
        if "Default" in state:
            target("Default", state["Default"])
    if kind == "Task" and not isinstance(state.get("Resource"), str):
        problems.append(f"{here}: field 'Resource': a Task needs the ARN of what it runs")
    if kind == "Wait" and sum(f in state for f in WAIT_FIELDS) != 1:
        problems.append(f"{here}: a Wait state takes exactly one of {', '.join(WAIT_FIELDS)}")
    for field in ("Retry", "Catch"):
        for i, rule in enumerate(state.get(field) or []):
            if not isinstance(rule, dict) or not isinstance(rule.get("ErrorEquals"), list):
                problems.append(f"{here}: field '{field}[{i}].ErrorEquals': must be a list of error names")
            elif field == "Catch":
                target(f"Catch[{i}].Next", rule.get("Next"))
    if kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            problems.append(f"{here}: field 'Branches': must be a non-empty list of state machines")
        else:
            for i, branch in enumerate(branches):
                problems += check_definition(branch, f"{here} branch {i + 1}")
    if kind == "Map":
        processor = state.get("ItemProcessor", state.get("Iterator"))
        problems += check_definition(processor, f"{here} ItemProcessor")
    return problems


def _reachable(start: str, states: dict[str, Any]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or not isinstance(states.get(name), dict):
            continue
        seen.add(name)
        state = states[name]
        todo += [state.get("Next"), state.get("Default")]
        todo += [r.get("Next") for r in state.get("Choices") or [] if isinstance(r, dict)]
        todo += [r.get("Next") for r in state.get("Catch") or [] if isinstance(r, dict)]
    return seen


def placeholders(text: str) -> list[tuple[str, str | None]]:
    """The ``${kind}`` / ``${kind:name}`` placeholders in a definition's text, in order, once each."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def placeholder_problems(text: str, jobs: set[str], functions: set[str]) -> list[str]:
    """Placeholders that are unknown or name a job or function the repository does not have."""
    known = {
        "glue_job": (jobs, "Glue job", "glue_jobs/"),
        "lambda_function": (functions, "function", "lambda_functions/"),
    }
    problems = []
    for kind, name in placeholders(text):
        shown = "${" + kind + (f":{name}" if name else "") + "}"
        if kind in VALUE_PLACEHOLDERS and not name:
            continue
        if kind in known and name:
            names, noun, folder = known[kind]
            if name not in names:
                choices = ", ".join(sorted(names)) or "none"
                problems.append(f"placeholder {shown}: no {noun} {name!r} in {folder}; known: {choices}")
            continue
        allowed = [*(f"${{{v}}}" for v in VALUE_PLACEHOLDERS), *(f"${{{r}:<name>}}" for r in REFERENCE_PLACEHOLDERS)]
        problems.append(f"placeholder {shown}: unknown; allowed: {', '.join(allowed)}")
    return problems


def render(text: str, values: dict[str, str], references: dict[tuple[str, str], str]) -> str:
    """``text`` with each placeholder replaced (``values`` by kind, ``references`` by (kind, name))."""
    return PLACEHOLDER.sub(lambda m: references[(m[1], m[2])] if m[2] else values[m[1]], text)
