"""The emulator's Glue job API and local executor, over HTTP with boto3 (no mocks)."""

from __future__ import annotations

import io
import time
import uuid

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from local_aws.process import EmulatorProcess
from support.glue_runs import wait_for_run

ROLE = "arn:aws:iam::123456789012:role/glue-cicd-glue-service-role"
BUCKET = "glue-cicd-artifacts-123456789012"

SPARK_COPY = """
import sys
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
args = getResolvedOptions(sys.argv, ["input", "output"])
spark = GlueContext(SparkContext.getOrCreate()).spark_session
df = spark.read.csv(args["input"], header=True, inferSchema=True)
df.withColumn("doubled", F.col("amount") * 2).write.mode("overwrite").parquet(args["output"])
print("rows written:", df.count())
"""
# In the style of AWS's samples: URIs built by the script, DynamicFrame transforms, a catalog sink.
AWS_STYLE = """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, Filter
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket", "prefix", "database"])
sc = SparkContext()
glueContext = GlueContext(sc)
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
root = "s3://" + args["bucket"] + "/" + args["prefix"]
datasource0 = glueContext.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": [root + "/raw/"], "recurse": True},
    format="csv",
    format_options={"withHeader": True},
    transformation_ctx="datasource0",
)
applymapping1 = ApplyMapping.apply(
    frame=datasource0,
    mappings=[("id", "long", "order_id", "long"), ("amount", "double", "amount", "double"),
              ("country", "string", "country", "string")],
    transformation_ctx="applymapping1",
)
filter2 = Filter.apply(frame=applymapping1, f=lambda row: row["amount"] > 0, transformation_ctx="filter2")
sink = glueContext.getSink(connection_type="s3", path=root + "/orders/", enableUpdateCatalog=True,
                           updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["country"])
sink.setFormat("glueparquet")
sink.setCatalogInfo(catalogDatabase=args["database"], catalogTableName="orders")
sink.writeFrame(filter2)
job.commit()
"""
FAILING = """
raise ValueError("amount column is missing")
"""
SLEEPING = """
import time
print("sleeping", flush=True)
time.sleep(120)
"""


def upload_script(aws, body: str) -> str:
    key = f"test-scripts/{uuid.uuid4().hex}.py"
    aws("s3").put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return f"s3://{BUCKET}/{key}"


def create_job(aws, script: str, *, kind: str = "glueetl", **extra) -> str:
    name = f"test-{uuid.uuid4().hex[:10]}"
    aws("glue").create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": kind, "ScriptLocation": script, "PythonVersion": "3"},
        GlueVersion="5.0",
        **extra,
    )
    return name


def wait_for_state(glue, name: str, run_id: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] != state:
        assert time.monotonic() < deadline, f"run never reached {state}"
        time.sleep(0.1)


# -- job definitions --------------------------------------------------------------------------


def test_update_job_replaces_the_whole_definition(aws):
    glue = aws("glue")
    name = create_job(
        aws,
        "s3://bucket/v1.py",
        Description="first",
        DefaultArguments={"--a": "1"},
        Timeout=30,
        WorkerType="G.1X",
        NumberOfWorkers=2,
    )
    glue.update_job(
        JobName=name,
        JobUpdate={"Role": ROLE, "Command": {"Name": "glueetl", "ScriptLocation": "s3://bucket/v2.py"}},
    )
    job = glue.get_job(JobName=name)["Job"]
    assert job["Command"]["ScriptLocation"] == "s3://bucket/v2.py"
    # Members left out of JobUpdate are reset, as on AWS: send the full definition every time.
    assert "Description" not in job
    assert job.get("DefaultArguments", {}) == {}
    assert "Timeout" not in job
    assert "WorkerType" not in job


def test_update_job_errors(aws):
    glue = aws("glue")
    name = create_job(aws, "s3://bucket/v1.py")
    command = {"Name": "glueetl", "ScriptLocation": "s3://bucket/v2.py"}
    with pytest.raises(ClientError) as missing:
        glue.update_job(JobName="no-such-job", JobUpdate={"Role": ROLE, "Command": command})
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"
    for update, member in (({"Command": command}, "Role"), ({"Role": ROLE}, "Command")):
        with pytest.raises(ClientError) as invalid:
            glue.update_job(JobName=name, JobUpdate=update)
        assert invalid.value.response["Error"]["Code"] == "InvalidInputException"
        assert f"JobUpdate.{member} is required" in invalid.value.response["Error"]["Message"]
    assert glue.get_job(JobName=name)["Job"]["Command"]["ScriptLocation"] == "s3://bucket/v1.py"


def test_create_job_refuses_an_existing_name(aws):
    name = create_job(aws, "s3://bucket/v1.py")
    with pytest.raises(ClientError) as exists:
        aws("glue").create_job(Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://b/x.py"})
    assert exists.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert aws("glue").get_job(JobName=name)["Job"]["Command"]["ScriptLocation"] == "s3://bucket/v1.py"


# -- job runs ---------------------------------------------------------------------------------


def test_a_spark_job_reads_s3_and_writes_s3(aws):
    s3, glue = aws("s3"), aws("glue")
    prefix = f"test-data/{uuid.uuid4().hex}"
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/in/part-1.csv", Body=b"id,amount\n1,10\n2,20\n")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/in/part-2.csv", Body=b"id,amount\n3,30\n")
    name = create_job(aws, upload_script(aws, SPARK_COPY))
    run_id = glue.start_job_run(
        JobName=name,
        Arguments={"--input": f"s3://{BUCKET}/{prefix}/in/", "--output": f"s3://{BUCKET}/{prefix}/out/"},
    )["JobRunId"]
    assert glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] in ("STARTING", "RUNNING")
    run = wait_for_run(glue, name, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["CompletedOn"] >= run["StartedOn"]
    assert run["ExecutionTime"] >= 1

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/out/")["Contents"]]
    parquet = [k for k in keys if k.endswith(".parquet")]
    assert parquet, keys
    assert not [k for k in keys if k.rsplit("/", 1)[-1].startswith(".")], "checksum files are not uploaded"
    rows = []
    for key in parquet:
        rows += pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())).to_pylist()
    assert sorted((r["id"], r["doubled"]) for r in rows) == [(1, 20), (2, 40), (3, 60)]

    events = aws("logs").get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)["events"]
    assert any("rows written: 3" in e["message"] for e in events)
    assert glue.get_job_runs(JobName=name)["JobRuns"][0]["Id"] == run_id


def test_a_glue_script_in_the_style_of_aws_samples_runs_unmodified(aws):
    """Bookmarked CSV source, ApplyMapping, Filter, a getSink that updates the catalog; run twice."""
    s3, glue = aws("s3"), aws("glue")
    prefix, database = f"test-data/{uuid.uuid4().hex}", f"db_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    name = create_job(aws, upload_script(aws, AWS_STYLE))
    arguments = {"--bucket": BUCKET, "--prefix": prefix, "--database": database}
    arguments["--job-bookmark-option"] = "job-bookmark-enable"

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/raw/1.csv", Body=b"id,amount,country\n1,10.5,NO\n2,-1,NO\n")
    first = wait_for_run(glue, name, glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"])
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/raw/2024/2.csv", Body=b"id,amount,country\n3,7,IT\n")
    second = wait_for_run(glue, name, glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"])

    assert (first["JobRunState"], second["JobRunState"]) == ("SUCCEEDED", "SUCCEEDED"), second.get("ErrorMessage")
    table = glue.get_table(DatabaseName=database, Name="orders")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("order_id", "bigint"),
        ("amount", "double"),
    ]
    partitions = glue.get_partitions(DatabaseName=database, TableName="orders")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["IT", "NO"]
    rows = []
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/orders/")["Contents"]:
        if obj["Key"].endswith(".parquet"):
            body = io.BytesIO(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
            rows += [(r["order_id"], r["amount"]) for r in pq.read_table(body).to_pylist()]
    assert sorted(rows) == [(1, 10.5), (3, 7.0)]  # each row once: the second run read only 2.csv
    assert glue.get_job_bookmark(JobName=name)["JobBookmarkEntry"]["RunId"] == second["Id"]


def test_a_failing_script_ends_failed_with_its_message(aws):
    glue = aws("glue")
    name = create_job(aws, upload_script(aws, FAILING), kind="pythonshell")
    run = wait_for_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: amount column is missing"
    errors = aws("logs").get_log_events(logGroupName="/aws-glue/jobs/error", logStreamName=run["Id"])["events"]
    assert any("Traceback" in e["message"] for e in errors)


def test_a_missing_script_fails_the_run_and_the_server_keeps_serving(aws):
    glue = aws("glue")
    name = create_job(aws, f"s3://{BUCKET}/no/such/script.py")
    run = wait_for_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert f"s3://{BUCKET}/no/such/script.py" in run["ErrorMessage"]
    assert "does not exist" in run["ErrorMessage"]
    assert glue.get_job(JobName=name)["Job"]["Name"] == name


def test_stop_kills_the_run(aws):
    glue = aws("glue")
    name = create_job(aws, upload_script(aws, SLEEPING), kind="pythonshell")
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    wait_for_state(glue, name, run_id, "RUNNING")
    response = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id, "jr_unknown"])
    assert response["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": run_id}]
    assert response["Errors"][0]["ErrorDetail"]["ErrorCode"] == "EntityNotFoundException"
    started = time.monotonic()
    run = wait_for_run(glue, name, run_id, timeout=30)
    assert run["JobRunState"] == "STOPPED"
    assert time.monotonic() - started < 10


def test_max_concurrent_runs_is_enforced(aws):
    glue = aws("glue")
    name = create_job(aws, upload_script(aws, SLEEPING), kind="pythonshell", ExecutionProperty={"MaxConcurrentRuns": 1})
    first = glue.start_job_run(JobName=name)["JobRunId"]
    with pytest.raises(ClientError) as exceeded:
        glue.start_job_run(JobName=name)
    assert exceeded.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    glue.batch_stop_job_run(JobName=name, JobRunIds=[first])
    assert wait_for_run(glue, name, first)["JobRunState"] == "STOPPED"
    second = glue.start_job_run(JobName=name)["JobRunId"]  # a slot is free again
    glue.batch_stop_job_run(JobName=name, JobRunIds=[second])
    wait_for_run(glue, name, second)


def test_get_job_run_of_an_unknown_run(aws):
    name = create_job(aws, "s3://bucket/x.py")
    with pytest.raises(ClientError) as missing:
        aws("glue").get_job_run(JobName=name, RunId="jr_nope")
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"


# -- emulators of their own -------------------------------------------------------------------


def client_for(process: EmulatorProcess, service: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=process.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_timeout_ends_the_run(tmp_path):
    # One "minute" of Timeout lasts 1 s on this emulator, so the test does not wait a real minute.
    # No --template: it starts empty.
    with EmulatorProcess(args=["--seconds-per-minute", "1"], log_file=tmp_path / "log") as process:
        s3, glue = client_for(process, "s3"), client_for(process, "glue")
        s3.create_bucket(Bucket="scripts")
        s3.put_object(Bucket="scripts", Key="sleep.py", Body=SLEEPING.encode())
        glue.create_job(
            Name="slow",
            Role=ROLE,
            Command={"Name": "pythonshell", "ScriptLocation": "s3://scripts/sleep.py"},
            Timeout=2,
        )
        run_id = glue.start_job_run(JobName="slow")["JobRunId"]
        run = wait_for_run(glue, "slow", run_id, timeout=30)
        assert run["JobRunState"] == "TIMEOUT"
        assert "timed out after 2 minutes" in run["ErrorMessage"]
        assert 2 <= (run["CompletedOn"] - run["StartedOn"]).total_seconds() < 10


def test_missing_java_fails_spark_runs_with_the_reason(tmp_path):
    env = {"PATH": str(tmp_path), "JAVA_HOME": ""}
    with EmulatorProcess(env=env, log_file=tmp_path / "log") as process:
        s3, glue = client_for(process, "s3"), client_for(process, "glue")
        s3.create_bucket(Bucket="scripts")
        s3.put_object(Bucket="scripts", Key="job.py", Body=SPARK_COPY.encode())
        glue.create_job(Name="spark", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/job.py"})
        run = wait_for_run(glue, "spark", glue.start_job_run(JobName="spark")["JobRunId"], timeout=30)
        assert run["JobRunState"] == "FAILED"
        assert "Java is not installed" in run["ErrorMessage"]
