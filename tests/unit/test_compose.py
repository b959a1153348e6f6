"""docker-compose.yml is valid (checked by Debian's docker-compose, no engine needed)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# The secrets compose refuses to start without (no default for any of them).
SECRETS = {
    "POSTGRES_PASSWORD": "db-secret",
    "SMSMODE_CALLBACK_SECRET": "callback-secret",
    "FLOWER_USER": "operator",
    "FLOWER_PASSWORD": "flower-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
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
        "prometheus",
        "grafana",
    }


def test_every_dispatcher_role_shares_one_image_and_one_set_of_settings() -> None:
    services = yaml.safe_load(_compose("config").stdout)["services"]
    others = ("postgres", "redis", "prometheus", "grafana")
    roles = [s for name, s in services.items() if name not in others]
    assert {s["image"] for s in roles} == {"sms-dispatcher:latest"}
    # Flower alone adds its login to the shared settings.
    shared = {
        tuple(sorted((k, v) for k, v in s["environment"].items() if "_FLOWER_" not in k))
        for s in roles
    }
    assert len(shared) == 1


def test_flower_gets_its_login_from_the_environment_not_its_command_line() -> None:
    flower = yaml.safe_load(_compose("config").stdout)["services"]["flower"]
    login = (flower["environment"]["DISPATCHER_FLOWER_USER"],
             flower["environment"]["DISPATCHER_FLOWER_PASSWORD"])  # fmt: skip
    assert (login, flower["command"][:2]) == (
        ("operator", "flower-secret"),
        ["dispatcher", "flower"],
    )
    assert not any("flower-secret" in part for part in flower["command"])


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


@functools.cache
def _services() -> dict[str, Any]:
    """The resolved services, read once for the tests below (each docker-compose run costs
    about a second)."""
    services: dict[str, Any] = yaml.safe_load(_compose("config").stdout)["services"]
    return services


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = _services()
    missing = [
        name
        for name, s in services.items()
        if s.get("restart") != "no" and not s.get("healthcheck", {}).get("test")
    ]
    assert missing == []


def test_the_only_service_without_a_healthcheck_is_the_one_shot_migration() -> None:
    """It exits when done; the roles wait for it to complete, not to be healthy."""
    services = _services()
    unchecked = [name for name, s in services.items() if "healthcheck" not in s]
    waits = services["api"]["depends_on"]["migrate"]["condition"]
    assert (unchecked, services["migrate"]["restart"], waits) == (
        ["migrate"],
        "no",
        "service_completed_successfully",
    )


def test_a_worker_healthcheck_pings_its_own_node_name() -> None:
    """Compose hands ``$$HOSTNAME`` to the shell as ``$HOSTNAME``, the container's host name,
    which is what ``%h`` in the node name becomes (``config`` prints the file's escaping)."""
    services = _services()
    pings = []
    for name in ("worker-submit", "worker-plan-poll"):
        command = services[name]["command"]
        node = command[command.index("-n") + 1].replace("%h", "$$HOSTNAME")
        pings.append(f"inspect ping -d {node} " in services[name]["healthcheck"]["test"][1])
    assert pings == [True, True]


def test_the_api_healthcheck_asks_ready() -> None:
    api = _services()["api"]
    assert "http://127.0.0.1:8000/ready" in " ".join(api["healthcheck"]["test"])


def test_monitoring_listens_on_loopback_only() -> None:
    services = _services()
    published = [
        (name, str(port).split(":")[0])
        for name in ("prometheus", "grafana", "flower")
        for port in services[name]["ports"]
    ]
    assert published == [(name, "127.0.0.1") for name in ("prometheus", "grafana", "flower")]


def test_grafana_gets_its_admin_password_and_the_provisioned_dashboards() -> None:
    grafana = _services()["grafana"]
    binds = [v.split(":") for v in grafana["volumes"] if v.startswith("/")]
    mounts = {source.split("/ops/", 1)[-1]: target for source, target, *_ in binds}
    assert (grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"], mounts) == (
        "grafana-secret",
        {
            "monitoring/grafana/provisioning": "/etc/grafana/provisioning",
            "monitoring/grafana/dashboards": "/etc/grafana/dashboards",
        },
    )
