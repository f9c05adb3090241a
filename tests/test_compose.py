"""docker-compose.yml and the Dockerfile (no Docker engine runs here): the compose file is valid
against the Compose Specification, has the services of SPEC 8 laid out as the official Airflow 3
file lays them out, and the image extends the official Airflow image of the locked version."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
           "airflow-triggerer", "airflow-init")
LONG_RUNNING = ("warehouse", "postgres", "redis", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "metabase")


@pytest.fixture(scope="module")
def text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())


def test_compose_file_matches_the_compose_specification(compose, schema):
    jsonschema.Draft7Validator(schema).validate(compose)


def test_an_invalid_compose_file_is_caught(schema):
    broken = {"services": {"warehouse": {"image": "postgres:18", "ports": {"bad": True}}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_the_services_of_spec_8(compose):
    services = compose["services"]
    assert set(LONG_RUNNING + AIRFLOW) | {"metabase-setup", "airflow-cli"} == set(services)
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
        assert services[name]["restart"] == "always", name
    commands = {name: services[name]["command"] for name in AIRFLOW if name != "airflow-init"}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor",
                        "airflow-worker": "celery worker", "airflow-triggerer": "triggerer"}


def test_airflow_services_share_one_common_block(compose, text):
    assert "x-airflow-common:\n  &airflow-common" in text
    common = compose["x-airflow-common"]
    env = common["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse:5432/lumbung" in env["LUMBUNG_WAREHOUSE_URL"]
    for name in AIRFLOW:
        service = compose["services"][name]
        assert service["image"] == common["image"] and service["build"] == common["build"]
        # one JWT secret for every component, or tasks cannot talk to the API server
        assert service["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] == \
            env["AIRFLOW__API_AUTH__JWT_SECRET"]
        assert service["volumes"] == common["volumes"]
        if name != "airflow-init":
            assert service["depends_on"]["airflow-init"]["condition"] == \
                "service_completed_successfully"
    assert compose["services"]["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "lumbung warehouse init" in compose["services"]["airflow-init"]["command"][1]


def test_workers_scale(compose):
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"


def test_published_ports_listen_on_localhost_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), name


def test_metabase_reads_marts_as_bi_reader(compose):
    setup = compose["services"]["metabase-setup"]
    assert setup["depends_on"]["metabase"]["condition"] == "service_healthy"
    script = (ROOT / "docker" / "metabase_setup.py").read_text()
    ast.parse(script)
    assert '"user": "bi_reader"' in script and '"schema-filters-patterns": "marts"' in script
    assert setup["environment"]["WAREHOUSE_HOST"] == "warehouse"
    metabase = compose["services"]["metabase"]["environment"]
    assert metabase["MB_DB_TYPE"] == "postgres" and metabase["MB_DB_HOST"] == "postgres"


def test_every_required_variable_is_in_the_env_example(text):
    required = set(re.findall(r"\$\{(\w+):\?", text))
    optional = set(re.findall(r"\$\{(\w+):-", text))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert required and required <= example, required - example
    assert optional - {"LUMBUNG_IMAGE", "AIRFLOW_PROJ_DIR"} <= example


def test_the_image_extends_the_official_airflow_image_of_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (airflow,) = [p["version"] for p in lock["package"] if p["name"] == "apache-airflow"]
    assert base == f"apache/airflow:{airflow}-python3.11"
    assert "uv export --frozen" in dockerfile and "COPY --chown=airflow:root pyproject.toml " \
        "uv.lock" in dockerfile
    assert "lumbung airflow manifest" in dockerfile  # no container runs dbt to parse the DAGs
