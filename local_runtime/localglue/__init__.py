"""Glue's catalog-aware reads on plain local PySpark, for where ``awsglue`` is absent.

``local_runtime/`` is put on PYTHONPATH by the local AWS emulator's job runs, the release's
test stage and the project's pytest; it is never shipped to AWS Glue, which has the real thing.

- :mod:`localglue.catalog`: :func:`~localglue.catalog.read_table` reads a Glue Data Catalog
  table (partitions included, each at its own location) as a Spark DataFrame.
- :mod:`localglue.s3`: stages ``s3://`` prefixes to local folders, since local Spark has no
  S3 filesystem.
"""
