"""Release pipelines for AWS Glue jobs: the library the Airflow DAGs wire together."""
