"""Benchmarks, run on demand from the project root: ``.venv/bin/python -m bench.<name> [--help]``.

Each module imports :mod:`dev` first, which puts ``plugins/`` and ``glue_jobs/`` on ``sys.path``.
"""
