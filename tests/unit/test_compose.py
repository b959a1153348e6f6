"""docker-compose.yml is valid (checked by Debian's docker-compose, no engine needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# The secrets compose refuses to start without (no default for any of them).
SECRETS = {
    "POSTGRES_PASSWORD": "db-secret",
    "SMSMODE_CALLBACK_SECRET": "callback-secret",
    "FLOWER_USER": "operator",
    "FLOWER_PASSWORD": "flower-secret",
}


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """docker-compose with only PATH and ``env`` (the secrets by default), none of the caller's
    environment, so a variable set on the machine cannot make a test pass."""
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
        env={"PATH": os.environ.get("PATH", ""), **(SECRETS if env is None else env)},
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
    assert "--basic-auth=operator:flower-secret" in flower["command"]


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_a_secret_and_names_it(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = _compose("config", "-q", env=env)
    assert (result.returncode, f"set {missing} (" in result.stderr) == (1, True)


@pytest.mark.parametrize("empty", sorted(SECRETS))
def test_an_empty_secret_is_refused_like_a_missing_one(empty: str) -> None:
    result = _compose("config", "-q", env={**SECRETS, empty: ""})
    assert result.returncode != 0


def test_no_secret_has_a_default_in_the_file() -> None:
    """``admin:change-me`` once gave anyone Flower's control API when FLOWER_PASSWORD was unset."""
    source = (ROOT / "docker-compose.yml").read_text()
    assert [name for name in SECRETS if f"${{{name}:-" in source] == []
