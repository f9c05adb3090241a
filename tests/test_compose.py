"""docker-compose.yml is valid against the Compose Specification (no engine runs here)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_matches_the_compose_specification():
    schema = json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)
    assert "warehouse" in compose["services"]
    ports = compose["services"]["warehouse"]["ports"]
    assert all(p.startswith("127.0.0.1:") for p in ports)  # never on every interface


def test_an_invalid_compose_file_is_caught():
    schema = json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())
    broken = {"services": {"warehouse": {"image": "postgres:18", "ports": {"bad": True}}}}
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert errors
