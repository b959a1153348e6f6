"""How ``dispatcher worker`` and ``flower`` build Celery's command and Flower's environment."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from dispatcher.cli.run import flower_env, worker_argv
from dispatcher.errors import ConfigurationError
from dispatcher.settings import Settings


def _settings(user: str | None = None, password: str | None = None) -> Settings:
    secret = SecretStr(password) if password is not None else None
    return Settings(_env_file=None, flower_user=user, flower_password=secret)


def test_the_worker_consumes_the_queues_asked_for() -> None:
    argv = worker_argv(["submit", "poll"], 4, "w1@%h", "INFO")
    assert argv[argv.index("-Q") + 1] == "submit,poll"
    assert argv[argv.index("-c") + 1] == "4"
    assert "workers.app" in argv


def test_an_unknown_queue_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown queue.*sms.*plan, submit, poll"):
        worker_argv(["sms"], None, "w@%h", "INFO")


def test_flower_credentials_go_to_its_environment() -> None:
    env = flower_env(_settings("ops", "pw"), "0.0.0.0", {"PATH": "/bin"})
    assert env["FLOWER_BASIC_AUTH"] == "ops:pw"


def test_flower_off_loopback_without_credentials_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="DISPATCHER_FLOWER_PASSWORD"):
        flower_env(_settings(), "0.0.0.0", {})


def test_flower_on_loopback_may_run_without_credentials() -> None:
    assert "FLOWER_BASIC_AUTH" not in flower_env(_settings(), "127.0.0.1", {})


def test_a_user_without_a_password_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="both"):
        flower_env(_settings("ops"), "127.0.0.1", {})
