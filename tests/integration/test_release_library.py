"""Artifacts, the ledger's locks and rollback against the emulator, without Airflow's scheduler."""

from __future__ import annotations

import json
import shutil

import pytest

from glue_cicd import deploy
from glue_cicd.build import BuildError, package_job
from glue_cicd.hooks.artifacts import ArtifactStoreHook
from glue_cicd.hooks.glue_jobs import GlueJobDefinitionHook
from glue_cicd.ledger import LockHeldError
from glue_cicd.paths import JOBS_DIR
from glue_cicd.rollback import restore
from glue_cicd.spec import load_environments, load_jobs

ARTIFACTS = "glue-cicd-artifacts-123456789012"


@pytest.fixture
def jobs_copy(tmp_path):
    target = tmp_path / "glue_jobs"
    shutil.copytree(JOBS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def store(emulator):
    """The artifact store, reached as the pipeline reaches it: through ``aws_default`` (the emulator)."""
    return ArtifactStoreHook(aws_conn_id="aws_default", region_name="us-east-1")


def hooks(env) -> tuple[GlueJobDefinitionHook, ArtifactStoreHook]:
    """The Glue and artifact hooks of ``env``, built as the pipeline's operators build them."""
    return (
        GlueJobDefinitionHook(aws_conn_id=env.aws_conn_id, region_name=env.region),
        ArtifactStoreHook(aws_conn_id=env.aws_conn_id, region_name=env.region),
    )


def test_packaging_is_reproducible_and_ignores_tests_and_caches(jobs_copy):
    first = package_job("process_sales_data", jobs_copy)
    (jobs_copy / "process_sales_data" / "tests" / "test_more.py").write_text("def test_x():\n    pass\n")
    (jobs_copy / "process_sales_data" / "__pycache__").mkdir(exist_ok=True)
    (jobs_copy / "process_sales_data" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    again = package_job("process_sales_data", jobs_copy)
    assert again.libs == first.libs
    assert again.version == first.version
    assert "glue_runtime/__init__.py" in first.files
    assert not [name for name in first.files if "/tests/" in name]
    (jobs_copy / "process_sales_data" / "transforms.py").write_text("# changed\n")
    assert package_job("process_sales_data", jobs_copy).version != first.version


def test_artifacts_are_immutable(aws, store, jobs_copy):
    s3 = aws("s3")
    transforms = jobs_copy / "process_sales_data" / "transforms.py"  # a version of its own, to tamper with
    transforms.write_text(transforms.read_text() + "\n# immutability test\n")
    package = package_job("process_sales_data", jobs_copy)
    artifact, new = store.publish(package, ARTIFACTS, "sha-1")
    again, new_again = store.publish(package, ARTIFACTS, "sha-2")
    assert (new, new_again) == (True, False)
    assert again.git_sha == "sha-1"  # the first build's manifest stands
    manifest = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=artifact.prefix + "manifest.json")["Body"].read())
    assert manifest["sha256"] == package.sha256
    assert set(manifest["files"]) >= {"process_sales_data/job.py", "process_sales_data/transforms.py"}

    # Someone overwrites the artifact's manifest claim: publishing the real bytes is refused...
    tampered = {**manifest, "sha256": "0" * 64}
    s3.put_object(Bucket=ARTIFACTS, Key=artifact.prefix + "manifest.json", Body=json.dumps(tampered).encode())
    with pytest.raises(BuildError, match="already holds other bytes"):
        store.publish(package, ARTIFACTS)
    # ... and a modified script is caught before promotion.
    s3.put_object(Bucket=ARTIFACTS, Key=artifact.prefix + "job.py", Body=b"print('evil')\n")
    with pytest.raises(BuildError, match="was modified after it was built"):
        store.verify(artifact)


def test_locks_are_exclusive_reentrant_and_name_their_owner(ledger):
    ledger.acquire("lock_job", "prod", "release__lock_job/run-1")
    ledger.acquire("lock_job", "prod", "release__lock_job/run-1")  # re-entrant
    with pytest.raises(LockHeldError, match="lock_job in prod is locked by release__lock_job/run-1"):
        ledger.acquire("lock_job", "prod", "rollback_glue_job/run-2")
    ledger.release("lock_job", "prod", "rollback_glue_job/run-2")  # not the owner: a no-op
    assert ledger.lock_holder("lock_job", "prod")["owner"] == "release__lock_job/run-1"
    ledger.release("lock_job", "prod", "release__lock_job/run-1")
    ledger.acquire("lock_job", "prod", "rollback_glue_job/run-2")
    ledger.release("lock_job", "prod", "rollback_glue_job/run-2")
    ledger.acquire("lock_job", "staging", "old-run", ttl=-1)  # an expired lock is taken over
    ledger.acquire("lock_job", "staging", "new-run")
    assert ledger.lock_holder("lock_job", "staging")["owner"] == "new-run"


def test_a_promotion_that_failed_midway_is_rolled_back(ledger, jobs_copy):
    """The job was updated but the ledger never recorded it (a crash in between): restore the last release."""
    environments = load_environments()
    specs, _ = load_jobs(jobs_dir=jobs_copy, environments=environments)
    prod = environments["prod"].model_copy(update={"job_name_pattern": "{job}-midway"})
    object.__setattr__(prod, "name", "prod-midway")  # its own ledger history and Glue job
    glue, store = hooks(prod)
    # apply() tags the job by its ARN, in the connection's account (the emulator's).
    assert glue.job_arn("process_sales_data-midway") == (
        "arn:aws:glue:us-east-1:123456789012:job/process_sales_data-midway"
    )

    transforms = jobs_copy / "process_sales_data" / "transforms.py"
    transforms.write_text(transforms.read_text() + "\n# midway test\n")
    good, _ = store.publish(package_job("process_sales_data", jobs_copy), ARTIFACTS)
    good_definition = deploy.render_definition(specs["process_sales_data"], prod, good)
    glue.apply("process_sales_data-midway", good_definition, deploy.tags_for(prod, good))
    ledger.record_deployment(
        job="process_sales_data", environment="prod-midway", version=good.version, artifact_sha256=good.sha256,
        script_location=good.script_uri, definition=deploy.normalise(good_definition), run_id="r1",
    )  # fmt: skip

    (jobs_copy / "process_sales_data" / "transforms.py").write_text("# new version\n", encoding="utf-8")
    new, _ = store.publish(package_job("process_sales_data", jobs_copy), ARTIFACTS)
    new_definition = deploy.render_definition(specs["process_sales_data"], prod, new)
    glue.apply("process_sales_data-midway", new_definition, deploy.tags_for(prod, new))
    # ...and the promotion task died here, before recording the deployment.

    outcome = restore(ledger, glue, store, prod, "process_sales_data", owner="release/r2", failed_version=new.version)
    assert outcome["changed"] is True
    assert glue.live_definition("process_sales_data-midway") == deploy.normalise(good_definition)
    assert ledger.live("process_sales_data", "prod-midway").version == good.version
    ledger.release("process_sales_data", "prod-midway", "release/r2")


def test_a_release_that_failed_before_prod_leaves_the_live_release_alone(ledger, jobs_copy):
    """Re-releasing the live version and failing early (say, at a held lock) must not mark it failed."""
    environments = load_environments()
    specs, _ = load_jobs(jobs_dir=jobs_copy, environments=environments)
    prod = environments["prod"].model_copy(update={"job_name_pattern": "{job}-early"})
    object.__setattr__(prod, "name", "prod-early")
    glue, store = hooks(prod)
    live, _ = store.publish(package_job("process_sales_data", jobs_copy), ARTIFACTS)
    definition = deploy.render_definition(specs["process_sales_data"], prod, live)
    glue.apply("process_sales_data-early", definition, deploy.tags_for(prod, live))
    ledger.record_deployment(
        job="process_sales_data", environment="prod-early", version=live.version, artifact_sha256=live.sha256,
        script_location=live.script_uri, definition=deploy.normalise(definition), run_id="release/r1",
    )  # fmt: skip

    outcome = restore(ledger, glue, store, prod, "process_sales_data", owner="release/r2", failed_version=live.version)
    assert outcome["changed"] is False
    assert [d.outcome for d in ledger.deployments("process_sales_data", "prod-early")] == ["deployed"]
    ledger.release("process_sales_data", "prod-early", "release/r2")


def test_only_a_passing_run_of_the_same_key_is_reused(ledger):
    job, key = "reuse_job", "0123456789ab"
    assert ledger.passed_tests(job, key) is None
    ledger.record(job, "test", run_id="release__reuse_job/failed", key=key, ok=False, tests=3, failures=1)
    ledger.record(job, "test", run_id="release__reuse_job/other", key="ba9876543210", ok=True, tests=3)
    assert ledger.passed_tests(job, key) is None
    ledger.record(job, "test", run_id="release__reuse_job/passed", version="v1", key=key, ok=True, tests=3)
    ledger.record(job, "test", run_id="release__reuse_job/again", key=key, ok=True, reused=True, tested_in="forged")
    assert ledger.passed_tests(job, key) == {
        "key": key,
        "ok": True,
        "tests": 3,
        "tested_in": "release__reuse_job/passed",
    }
