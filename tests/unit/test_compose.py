"""docker-compose.yml is valid (checked by Debian's docker-compose, no engine needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (.ci/run installs Debian's package)")
        pytest.skip("docker-compose not installed (apt-get install docker-compose)")
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_docker_compose_file_is_valid() -> None:
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_describes_the_production_shape() -> None:
    config = yaml.safe_load(_compose("config").stdout)
    assert set(config["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "worker-submit",
        "worker-plan-poll",
        "beat",
        "flower",
        "api",
    }


def test_every_dispatcher_role_shares_one_image_and_one_set_of_settings() -> None:
    services = yaml.safe_load(_compose("config").stdout)["services"]
    roles = [s for name, s in services.items() if name not in ("postgres", "redis")]
    assert {s["image"] for s in roles} == {"sms-dispatcher:latest"}
    assert len({tuple(sorted(s["environment"].items())) for s in roles}) == 1


def test_flower_asks_for_a_password() -> None:
    flower = yaml.safe_load(_compose("config").stdout)["services"]["flower"]
    assert any(str(part).startswith("--basic-auth=") for part in flower["command"])
