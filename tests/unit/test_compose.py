"""docker-compose.yaml, Dockerfile and .env.example: valid for docker compose, and starting what our tests exercise.

No container engine runs here: ``docker-compose config`` validates the file (interpolation, schema,
anchors), and the rest compares the parsed file with the code the test suite runs: the emulator's
CLI (``python -m dev.emulator``, as ``make emulator``), ``airflow_env()``, ``make up``'s users, the
environments config, and the team stack (``dev.team_stack``: the Airflow services run without
containers by tests/e2e/test_team_stack.py). The Airflow services' image installs the runtime pins
only (requirements.txt); the emulator's adds the development ones (requirements-dev.txt: moto).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from glue_cicd.paths import PROJECT_DIR

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yaml"
DOCKERFILE = PROJECT_DIR / "Dockerfile"
ENV_EXAMPLE = PROJECT_DIR / ".env.example"
DOCKERIGNORE = PROJECT_DIR / ".dockerignore"
REQUIREMENTS = PROJECT_DIR / "requirements.txt"
REQUIREMENTS_DEV = PROJECT_DIR / "requirements-dev.txt"

IMAGE_PROJECT_DIR = "/opt/airflow"  # the project root inside the image
SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")
# The official Airflow 3 file's long-running services, and ours.
AIRFLOW_COMPONENTS = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
NOT_AIRFLOW = ("postgres", "redis", "aws-emulator")
LONG_RUNNING = (*AIRFLOW_COMPONENTS, *NOT_AIRFLOW)
# local_runtime/ is what the release's test stage (and the emulator's job runs) use for awsglue's catalog reads.
PROJECT_FOLDERS = (
    "dags", "plugins", "glue_jobs", "lambda_functions", "state_machines", "local_runtime", "expectations",
    "infrastructure",
)  # fmt: skip
# The emulator (local_aws/), the tooling that loads it with this project (dev/), which reads the
# specs with the library (plugins/), the sample data (glue_jobs/), the stack template and the
# emulator's environments config (infrastructure/).
EMULATOR_FOLDERS = ("dev", "local_aws", "plugins", "glue_jobs", "infrastructure")
AIRFLOW_IMAGE = "glue-cicd-airflow:local"
INSTALL_COMPOSE = (
    "docker-compose is not installed, and these tests need it to validate docker-compose.yaml "
    "(no container engine is needed). Install it with `apt-get install -y docker-compose` "
    "(Debian's package, docker-compose 1.29), or install Docker's compose v2 plugin."
)


# --- docker compose's own validation ------------------------------------------------------------


def compose_command() -> list[str]:
    """``docker-compose`` (v1, what CI installs) or else ``docker compose`` (v2); fail if neither exists."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, stdin=subprocess.DEVNULL)
        if probe.returncode == 0:
            return ["docker", "compose"]
    pytest.fail(INSTALL_COMPOSE)


def compose_config(env_file: Path, *, quiet: bool = True) -> subprocess.CompletedProcess:
    """``config`` (``-q``: only validate) with only ``env_file`` as the .env: a developer's own .env or
    shell variables play no part."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    command = [*compose_command(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"]
    command += ["-q"] if quiet else []
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def filled_env_example(tmp_path: Path, *, leave_out: str | None = None) -> Path:
    """.env.example with every secret filled in (but ``leave_out``), as a team member's .env."""
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        name = line.partition("=")[0]
        if name in SECRETS and name != leave_out:
            line = f"{name}=test-value-of-{name.lower()}"
        lines.append(line)
    path = tmp_path / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_compose_file_is_valid_with_the_secrets_of_a_filled_in_env_example(tmp_path):
    result = compose_config(filled_env_example(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", SECRETS)
def test_a_missing_secret_stops_compose_with_a_message_naming_it(tmp_path, secret):
    result = compose_config(filled_env_example(tmp_path, leave_out=secret))
    assert result.returncode != 0
    assert f"{secret} is not set - copy .env.example to .env" in result.stderr


def test_env_example_leaves_every_secret_empty_so_an_unfilled_copy_fails_loudly():
    values = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    assert {name: values.get(name) for name in SECRETS} == {name: "" for name in SECRETS}
    common = compose()["x-airflow-common"]["environment"]
    for name in SECRETS:
        assert re.fullmatch(rf"\$\{{{name}:\?{name} is not set[^}}]*\}}", common[name]), common[name]


# --- the parsed file against the code the tests run ------------------------------------------------


def compose() -> dict:
    """The compose file as YAML sees it: anchors and ``<<`` merge keys resolved."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def airflow_services() -> dict[str, dict]:
    """Every service built on x-airflow-common (the components, airflow-init, the CLI, flower)."""
    return {name: service for name, service in services().items() if name not in NOT_AIRFLOW}


def project_emulator_args():
    """The aws-emulator command's own options (``python -m dev.emulator``'s), and the rest."""
    from dev.emulator import parse_args

    command = services()["aws-emulator"]["command"]
    assert command[:3] == ["python", "-m", "dev.emulator"], command
    return parse_args(command[3:])


def emulator_args():
    """The aws-emulator command parsed by the emulator's own CLI.

    ``python -m dev.emulator ARGS`` runs ``python -m local_aws`` with the project's stack and
    samples (the arguments the tests' ``ProjectEmulator`` passes too), then ``ARGS`` but its own.
    """
    from dev.emulator import emulator_args as project_args
    from local_aws.__main__ import parse_args

    return parse_args([*project_args(Path("seed")), *project_emulator_args()[1]])


def test_the_emulator_runs_the_cli_the_tests_run_listening_on_every_interface():
    from dev.emulator import STACK_NAME, TEMPLATE

    assert project_emulator_args()[1] == ["--host", "0.0.0.0", "--port", "5000"]
    args = emulator_args()
    # Loaded as the tests' emulator is: the project's stack, and the jobs' samples.
    assert (args.host, args.template, args.stack_name) == ("0.0.0.0", TEMPLATE, STACK_NAME)
    assert args.seed_dir is not None


SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"


def test_airflow_reads_the_aws_connection_the_emulator_stores_from_its_secrets_manager():
    from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend

    from glue_cicd.spec import load_environments

    port = emulator_args().port
    stored = project_emulator_args()[0]
    emulator = services()["aws-emulator"]
    for name, service in airflow_services().items():
        environment = service["environment"]
        assert not [key for key in environment if key.startswith("AIRFLOW_CONN_")], name
        assert environment["AIRFLOW__SECRETS__BACKEND"] == SECRETS_MANAGER_BACKEND, name
        kwargs = json.loads(environment["AIRFLOW__SECRETS__BACKEND_KWARGS"])
        assert stored.aws_connection_secret == f"{kwargs['connections_prefix']}/aws_default", name
        assert kwargs["endpoint_url"] == stored.aws_connection_endpoint, name
        endpoint = urlsplit(kwargs["endpoint_url"])
        assert (endpoint.hostname, endpoint.port) == ("aws-emulator", port), name
        # The provider's backend takes these: its Secrets Manager client goes to the emulator.
        client = SecretsManagerBackend(**kwargs).client
        assert (client.meta.endpoint_url, client.meta.region_name) == (kwargs["endpoint_url"], "us-east-1"), name
    assert {env.aws_conn_id for env in load_environments().environments.values()} == {"aws_default"}
    assert any(mapping.endswith(f":{port}") for mapping in emulator["ports"])
    healthcheck = " ".join(emulator["healthcheck"]["test"])
    assert f"127.0.0.1:{port}" in healthcheck
    assert f"SecretId='{stored.aws_connection_secret}'" in healthcheck


def expected_airflow_env(endpoint_url: str) -> dict[str, str]:
    """What ``airflow_env()`` sets (nothing inherited), with the image's project root for the checkout's."""
    from dev.local_airflow import airflow_env

    with mock.patch.dict(os.environ, clear=True):
        env = airflow_env(Path(IMAGE_PROJECT_DIR), endpoint_url)
    env.pop("PATH")  # it finds this checkout's virtualenv; the image has its own PATH
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")  # SQLite; the stack runs on Postgres
    return {name: value.replace(str(PROJECT_DIR), IMAGE_PROJECT_DIR) for name, value in env.items()}


def compose_default(value: str | None) -> str | None:
    """``value`` as compose sets it when neither .env nor the shell sets the variable it names:
    ``${NAME:-default}`` (or ``${NAME-default}``) gives ``default``; anything else is itself."""
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", value or "")
    return match.group(1) if match else value


def test_airflow_services_get_every_variable_airflow_env_sets_with_the_same_values():
    from dev.emulator import aws_connection

    expected = expected_airflow_env(f"http://aws-emulator:{emulator_args().port}")
    assert {"AIRFLOW__CORE__LOAD_EXAMPLES", "GLUE_CICD_ENVIRONMENTS_FILE", "AIRFLOW_CONN_AWS_DEFAULT"} <= set(expected)
    # The emulator's relaxed environments config, unless .env names another (real AWS).
    assert expected["GLUE_CICD_ENVIRONMENTS_FILE"] == f"{IMAGE_PROJECT_DIR}/infrastructure/environments.local.yaml"
    # Airflow puts plugins/ on sys.path itself: the Airflow of the stack sees the sys.path the tests' Airflow sees.
    assert "PYTHONPATH" not in expected
    # The stack's Airflow gets the same connection from the secret the emulator stores.
    connection = json.loads(expected.pop("AIRFLOW_CONN_AWS_DEFAULT"))
    assert aws_connection(project_emulator_args()[0].aws_connection_endpoint) == connection
    for name, service in airflow_services().items():
        environment = service["environment"]
        assert {key: compose_default(environment.get(key)) for key in expected} == expected, name
        assert "PYTHONPATH" not in environment, name


def test_the_folders_the_environment_names_are_the_checkouts_folders():
    for name, service in airflow_services().items():
        for folder in PROJECT_FOLDERS:
            assert f"./{folder}:{IMAGE_PROJECT_DIR}/{folder}" in service["volumes"], (name, folder)
    emulator = services()["aws-emulator"]
    for folder in EMULATOR_FOLDERS:
        assert f"./{folder}:{IMAGE_PROJECT_DIR}/{folder}" in emulator["volumes"], folder
    # `python -m dev.emulator` from the project root, as `make emulator` runs it (the image's working
    # directory): dev/ puts plugins/ and glue_jobs/ on sys.path itself. A PYTHONPATH, if any, is that root.
    assert emulator["environment"].get("PYTHONPATH", IMAGE_PROJECT_DIR) == IMAGE_PROJECT_DIR
    assert emulator.get("working_dir", IMAGE_PROJECT_DIR) == IMAGE_PROJECT_DIR
    assert set(re.findall(r"^WORKDIR\s+(\S+)", dockerfile(), re.MULTILINE)) <= {IMAGE_PROJECT_DIR}


def test_the_official_services_exist_with_healthchecks_and_start_in_order():
    found = services()
    for name in LONG_RUNNING:
        assert name in found, f"service {name} is missing"
        assert found[name].get("healthcheck", {}).get("test"), f"service {name} has no healthcheck"
    assert "airflow-init" in found
    for name in AIRFLOW_COMPONENTS:
        depends_on = found[name]["depends_on"]
        assert depends_on["airflow-init"] == {"condition": "service_completed_successfully"}, name
        for dependency in NOT_AIRFLOW:
            assert depends_on[dependency] == {"condition": "service_healthy"}, (name, dependency)
    assert found["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"


def test_celery_executor_with_redis_postgres_and_the_execution_api():
    for name, service in airflow_services().items():
        environment = service["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert urlsplit(environment["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis", name
        assert urlsplit(environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres", name
        assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert "AIRFLOW__CELERY__WORKER_CONCURRENCY" in services()["airflow-worker"]["environment"]


def test_every_service_but_postgres_and_redis_runs_an_image_our_dockerfile_builds():
    for name, service in services().items():
        if name in ("postgres", "redis"):
            continue
        build = {key: value for key, value in service["build"].items() if key != "target"}  # a stage of it
        assert build == {"context": ".", "dockerfile": "Dockerfile"}, name
    airflow_build = services()["airflow-apiserver"]["build"]
    for name, service in airflow_services().items():
        assert (service["build"], service["image"]) == (airflow_build, AIRFLOW_IMAGE), name
    # The emulator's image adds the development requirements: another stage, under another name.
    emulator = services()["aws-emulator"]
    assert emulator["build"].get("target") != airflow_build.get("target")
    assert emulator["image"] != AIRFLOW_IMAGE


def test_state_lives_and_dies_with_the_stack():
    """The emulator keeps AWS in memory, so Airflow's database may not outlive it (no stale release history)."""
    found = services()
    assert "volumes" not in compose(), "no named volumes: nothing may outlive `docker compose down`"
    assert "volumes" not in found["postgres"]
    assert found["postgres"]["tmpfs"] == ["/var/lib/postgresql/data"]
    assert "--save" in found["redis"]["command"]
    for name in ("postgres", "aws-emulator"):
        assert found[name]["restart"] == "no", f"{name} must not come back empty under a running Airflow"


def test_users_are_make_ups_users_and_include_every_prod_approver():
    from dev.up import USERS
    from glue_cicd.spec import load_environments

    for name, service in airflow_services().items():
        users = dict(
            user.split(":") for user in service["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")
        )
        assert list(users) == [user.split(":")[0] for user in USERS], name
        # The reviewer answers approvals (simple auth manager role `user` may) without administering Airflow.
        assert users == {"admin": "admin", "reviewer": "user"}, name
        assert set(load_environments().environments["prod"].approvers) <= set(users)
        assert service["environment"]["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager")


# --- the team stack: the Airflow services as tests/e2e/test_team_stack.py runs them, without containers


def resolved_services(env_file: Path) -> dict[str, dict]:
    """The services as docker compose resolves them (``config``: interpolation done) with ``env_file``."""
    result = compose_config(env_file, quiet=False)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def outside_containers(value: str, ports: dict[str, int]) -> str:
    """The substitutions dev/team_stack.py documents, literally: the checkout for the image's
    project root, 127.0.0.1 and the stack's ports for the services' hosts."""
    for old, new in (
        (IMAGE_PROJECT_DIR, str(PROJECT_DIR)),
        ("@postgres/", f"@127.0.0.1:{ports['postgres']}/"),
        ("@redis:6379/", f"@127.0.0.1:{ports['redis']}/"),
        ("//aws-emulator:5000", f"//127.0.0.1:{ports['aws-emulator']}"),
        ("//airflow-apiserver:8080/", f"//127.0.0.1:{ports['airflow-apiserver']}/"),
    ):
        value = value.replace(old, new)
    return value


def test_the_team_stack_runs_each_airflow_service_as_compose_does_but_the_documented_substitutions(tmp_path):
    from dev import team_stack

    env_file = filled_env_example(tmp_path)
    resolved = resolved_services(env_file)
    variables = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    home = tmp_path / "airflow-home"
    ports = {name: 41000 + index for index, name in enumerate((*team_stack.HOSTS, *team_stack.OWN_PORTS))}
    # Ports each container had alone: the api-server's (compose maps it), and Airflow's defaults.
    own_ports = {"AIRFLOW__API__PORT": str(ports["airflow-apiserver"])}
    own_ports |= {name: str(ports[name]) for name in team_stack.OWN_PORTS}
    for name in team_stack.COMPONENTS:
        compose_env = resolved[name]["environment"]
        expected = {key: outside_containers(value, ports) for key, value in compose_env.items()}
        for container_only in ("AIRFLOW_UID", "DUMB_INIT_SETSID"):
            expected.pop(container_only, None)
        expected |= {"AIRFLOW_HOME": str(home), **own_ports}
        environment = team_stack.service_env(name, home=home, ports=ports, variables=variables)
        assert environment == expected, name
        assert not re.search(r"[@/](postgres|redis|aws-emulator|airflow-apiserver)\b", json.dumps(environment)), name
        # The image's entrypoint runs `airflow <command>`.
        airflow, *command = team_stack.service_command(name)
        assert (Path(airflow).name, command) == ("airflow", shlex.split(resolved[name]["command"])), name
    assert "DUMB_INIT_SETSID" in resolved["airflow-worker"]["environment"]


def test_the_team_stack_runs_every_long_running_airflow_service_and_compose_users():
    from dev import team_stack

    long_running = {name for name, s in airflow_services().items() if s.get("healthcheck") and not s.get("profiles")}
    assert set(team_stack.COMPONENTS) == long_running
    assert team_stack.users() == {"admin": "admin", "reviewer": "user"}
    # The secrets .env must give are the ones the stack generates.
    assert team_stack.required_variables(services()) == set(SECRETS)


# --- the Dockerfile ------------------------------------------------------------------------------


def dockerfile() -> str:
    """The Dockerfile without comments, continuation lines joined."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).replace("\\\n", " ")


STAGE = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", re.MULTILINE | re.IGNORECASE)


def image_instructions(service: dict) -> str:
    """The Dockerfile's instructions that build ``service``'s image: its ``target`` stage (else the
    last one) after every stage it is built ``FROM``, the first ``FROM`` naming the base image."""
    text = dockerfile()
    starts = list(STAGE.finditer(text))
    assert starts, "the Dockerfile has no FROM"
    stages = {}  # name (an unnamed stage: its index) -> (what it is built FROM, its instructions)
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        stages[(start.group(2) or str(index)).lower()] = (start.group(1).lower(), text[start.start() : end])
    name = str(service["build"].get("target", list(stages)[-1])).lower()
    assert name in stages, f"the Dockerfile has no stage {name!r}"
    chain = []
    while name in stages:
        name, instructions = stages[name]
        chain.insert(0, instructions)
    return "\n".join(chain)


def airflow_image() -> str:
    return image_instructions(services()["airflow-apiserver"])


def emulator_image() -> str:
    return image_instructions(services()["aws-emulator"])


def test_dockerfile_bases_on_the_airflow_image_of_our_pin_and_python():
    pinned = re.search(r"^apache-airflow==(\S+)$", REQUIREMENTS.read_text(), re.MULTILINE).group(1)
    for text in (airflow_image(), emulator_image()):
        base = re.search(r"^FROM (\S+)", text, re.MULTILINE).group(1)
        assert base == f"apache/airflow:{pinned}-python3.11"


def test_dockerfile_installs_requirements_and_java_17():
    for text in (airflow_image(), emulator_image()):
        assert re.search(r"^COPY .*\brequirements\.txt /requirements\.txt$", text, re.MULTILINE)
        assert re.search(r"\bpip install\b[^\n]* -r /requirements\.txt\b", text) or re.search(
            r"\bpip install\b[^\n]* -r /requirements-dev\.txt\b", text
        )
        assert re.search(r"\bapt-get install\b[^\n]*\bopenjdk-17-jre-headless\b", text)
        assert re.search(r"^ENV JAVA_HOME=/usr/lib/jvm/java-17\b", text, re.MULTILINE)


def test_the_airflow_image_installs_the_runtime_requirements_only():
    """As in production: no moto, no linters; the release's test stage skips what needs them."""
    text = airflow_image()
    assert re.search(r"\bpip install\b[^\n]* -r /requirements\.txt\b", text)
    assert "requirements-dev" not in text
    # Airflow puts plugins/ on sys.path itself (see airflow_env()).
    assert not re.search(r"^ENV\b[^\n]*\bPYTHONPATH=", text, re.MULTILINE)


def test_the_emulator_image_adds_the_development_requirements():
    """moto is the emulator; requirements-dev.txt includes requirements.txt, which must lie beside it."""
    assert REQUIREMENTS_DEV.read_text().splitlines().count("-r requirements.txt") == 1
    text = emulator_image()
    assert re.search(r"^COPY .*\brequirements-dev\.txt /requirements-dev\.txt$", text, re.MULTILINE)
    assert re.search(r"^COPY .*\brequirements\.txt /requirements\.txt$", text, re.MULTILINE)
    assert re.search(r"\bpip install\b[^\n]* -r /requirements-dev\.txt\b", text)


def test_dockerfile_puts_the_project_where_the_compose_file_says():
    airflow, emulator = airflow_image(), emulator_image()
    for folder in PROJECT_FOLDERS:
        assert re.search(rf"^COPY .*\b{folder}/ {IMAGE_PROJECT_DIR}/{folder}/$", airflow, re.MULTILINE), folder
    for folder in EMULATOR_FOLDERS:
        assert re.search(rf"^COPY .*\b{folder}/ {IMAGE_PROJECT_DIR}/{folder}/$", emulator, re.MULTILINE), folder
    for folder in set(EMULATOR_FOLDERS) - set(PROJECT_FOLDERS):  # dev tooling: not shipped with Airflow
        assert not re.search(rf"\b{folder}/ {IMAGE_PROJECT_DIR}/", airflow), folder
    assert ".env" in DOCKERIGNORE.read_text().split(), "secrets must stay out of the build context"
