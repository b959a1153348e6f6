"""The local stack and the demo take what each provider needs from the registry's adapters and
the sandbox's emulators, so a new provider needs no edit in dispatcher/local/."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatcher.local.demo import demo_stack
from dispatcher.local.stack import LocalStack, StackOptions, fill_in, sandbox_emulator
from dispatcher.providers.registry import REGISTRY
from dispatcher.settings import Settings, settings_from_env

SANDBOX_URL = "http://127.0.0.1:9"
API_URL = "http://127.0.0.1:8"


def _stack(accounts: dict[str, dict[str, str]], *, api: bool = False) -> LocalStack:
    stack = LocalStack(StackOptions(data_dir=Path("unused"), sandbox_accounts=accounts, api=api))
    stack.sandbox_url = SANDBOX_URL
    stack.api_url = API_URL if api else None
    return stack


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_every_registered_provider_has_a_sandbox_emulator(provider: str) -> None:
    assert sandbox_emulator(provider).name == provider


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_a_sandbox_account_of_every_provider_is_valid_settings(provider: str) -> None:
    env = _stack({}).sandbox_account_env("rehearsal", {"provider": provider})
    account = settings_from_env(env).account("rehearsal")
    assert (account.provider, account.base_url) == (provider, SANDBOX_URL)


def test_an_account_without_a_provider_is_on_the_default_one() -> None:
    env = _stack({}).sandbox_account_env("rehearsal", {})
    assert env["DISPATCHER_ACCOUNTS__REHEARSAL__ACCESS_TOKEN"] == "sandbox-token"


def test_settings_for_reading_pushes_come_only_with_a_callback_secret() -> None:
    plain = _stack({}).sandbox_account_env("gw", {"provider": "bulkgw"})
    pushed = _stack({}).sandbox_account_env("gw", {"provider": "bulkgw", "callback_secret": "s"})
    assert "DISPATCHER_ACCOUNTS__GW__OPTIONS__DLR" not in plain
    assert pushed["DISPATCHER_ACCOUNTS__GW__OPTIONS__DLR"] == "true"
    assert pushed["DISPATCHER_ACCOUNTS__GW__TIMEZONE"] == "UTC"


def test_explicit_account_settings_win_over_the_emulators() -> None:
    env = _stack({}).sandbox_account_env("gw", {"provider": "bulkgw", "username": "other"})
    assert env["DISPATCHER_ACCOUNTS__GW__USERNAME"] == "other"


def test_pushes_set_in_the_sandbox_config_go_to_the_http_service() -> None:
    stack = _stack(
        {
            "gw": {"provider": "bulkgw", "callback_secret": "s1"},
            "sf": {"provider": "smsfactor", "callback_secret": "s2"},
        },
        api=True,
    )
    config = stack._sandbox_config()
    assert config["bulkgw"]["dlr_url"] == f"{API_URL}/callbacks/bulkgw/gw/s1"
    (inbox,) = config["smsfactor"]["accounts"]
    assert inbox["inbox_url"] == f"{API_URL}/inbound/smsfactor/sf/s2"


def test_a_push_url_already_in_the_sandbox_config_is_kept() -> None:
    config = {"bulkgw": {"dlr_url": "http://elsewhere/dlr", "intermediate_reports": False}}
    fill_in(config, {"bulkgw": {"dlr_url": "http://ours/dlr"}, "timeline": {"spread": 1}})
    assert config == {
        "bulkgw": {"dlr_url": "http://elsewhere/dlr", "intermediate_reports": False},
        "timeline": {"spread": 1},
    }


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_the_demo_starts_the_http_service_for_a_provider_it_cannot_poll(
    provider: str, tmp_path: Path
) -> None:
    options = demo_stack(provider, tmp_path, Settings(), workers=1, concurrency=1)
    (account,) = options.sandbox_accounts.values()
    assert options.api is not REGISTRY[provider].can_poll
    assert ("callback_secret" in account) is options.api


def test_the_demos_envoyer_account_gets_a_request_limit_a_demo_can_live_with(
    tmp_path: Path,
) -> None:
    options = demo_stack("envoyer", tmp_path, Settings(), workers=1, concurrency=1)
    (account,) = options.sandbox_config["envoyer"]["accounts"]
    assert account["api_request_limit"] == 3600
