"""Benchmarks, run on demand from the project root: ``.venv/bin/python -m bench.<name> [--help]``.

A benchmark that needs the library or the jobs imports :mod:`dev` first, which puts ``plugins/``
and ``glue_jobs/`` on ``sys.path``.
"""
