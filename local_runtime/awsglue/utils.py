"""``getResolvedOptions``: a Glue script's job arguments, as AWS documents them.

What AWS documents (``aws-glue-api-crawler-pyspark-extensions-get-resolved-options.html`` and
``aws-glue-programming-etl-glue-arguments.html`` under :data:`~awsglue._unsupported.DOCS`):

- ``getResolvedOptions(args, options)`` takes ``sys.argv`` and the names to retrieve; an argument
  is passed as ``--name`` and referenced without the hyphens (``args["name"]``);
- ``--job-bookmark-option`` is ``job-bookmark-enable``, ``job-bookmark-disable`` (the default) or
  ``job-bookmark-pause``; pause may come with ``--job-bookmark-from`` and ``--job-bookmark-to``;
- ``--conf``, ``--debug``, ``--mode`` and ``--JOB_NAME`` are "internal to AWS Glue. Do not set.";
  ``JOB_NAME`` is set by Glue itself and every example script asks for it.

AWS does not document its parser; AWS's is :mod:`argparse`-based and so is this one:
``--name value`` and ``--name=value`` both work, a repeated option keeps its last value, a value
may start with ``-`` only in the ``--name=-value`` form (or if it reads as a negative number),
names are never abbreviated, and hyphens in a name become underscores in the returned dict. Every
asked name is required. Arguments nobody asked for and positional leftovers (``sys.argv[0]``) are
ignored. Glue's own run arguments (:data:`ALWAYS_RESOLVED`) are always in the result, ``None`` (or
the documented default) when absent.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause")
# Arguments Glue passes to (or accepts for) every run -> their value when absent. Always resolved,
# and required like any other name when a script asks for them.
ALWAYS_RESOLVED: dict[str, str | None] = {
    "JOB_ID": None,
    "JOB_RUN_ID": None,
    "job-bookmark-option": "job-bookmark-disable",
    "job-bookmark-from": None,
    "job-bookmark-to": None,
    "TempDir": None,
}
# "Internal to AWS Glue. Do not set." (JOB_NAME too, but Glue sets it and scripts read it.)
RESERVED = frozenset({"conf", "debug", "mode"})


class GlueArgumentError(Exception):
    """The job's arguments do not satisfy ``getResolvedOptions`` (a missing name, a bad value)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str | None]:
    """The values of ``options`` (names without ``--``) among ``args`` (``sys.argv``), plus
    :data:`ALWAYS_RESOLVED`.

    :raises GlueArgumentError: an asked name is missing or has no value, a reserved name is asked
        for, or ``--job-bookmark-option`` has a value Glue does not know.
    """
    parser = _Parser(add_help=False, allow_abbrev=False)
    always = {_dest(name): name for name in ALWAYS_RESOLVED}
    asked = set()
    for name in options:
        if name.startswith("-"):
            raise GlueArgumentError(f"ask for {name.lstrip('-')!r}, without the leading hyphens")
        if name in RESERVED:
            raise GlueArgumentError(f"--{name} is internal to AWS Glue: a job may not use it")
        if _dest(name) not in asked | always.keys():
            parser.add_argument(f"--{name}", required=True)
        asked.add(_dest(name))
    for dest, name in always.items():
        choices = BOOKMARK_OPTIONS if name == "job-bookmark-option" else None
        parser.add_argument(f"--{name}", default=ALWAYS_RESOLVED[name], choices=choices, required=dest in asked)
    resolved, _ignored = parser.parse_known_args(list(args))
    return vars(resolved)


def _dest(name: str) -> str:
    return name.replace("-", "_")
