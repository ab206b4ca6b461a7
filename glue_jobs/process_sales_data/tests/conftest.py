"""One local SparkSession for the whole test session."""

import pytest

from glue_runtime import local_spark_session


@pytest.fixture(scope="session")
def spark():
    session = local_spark_session("process-sales-data-tests")
    yield session
    session.stop()
