"""The local AWS emulator: moto over HTTP plus a Glue executor that really runs job scripts.

Start it with ``python -m local_aws``; Airflow reaches it through an ordinary AWS
connection whose extra holds ``endpoint_url``.
"""
