"""The ``"envoyer"`` config section: parsing, validation, defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.config import ConfigError
from dispatcher.sandbox.envoyer import EnvoyerEmulator
from dispatcher.sandbox.envoyer_config import (
    DEFAULT_ACCOUNT,
    EnvoyerAccount,
    EnvoyerConfig,
    parse_section,
)

from .test_envoyer_support import Clients, parse, remaining

VALID_ACCOUNT: dict[str, Any] = {"login": "me", "password": "pw"}

if TYPE_CHECKING:
    pass


def test_an_absent_section_has_the_default_account() -> None:
    assert parse_section(None) == EnvoyerConfig()
    assert EnvoyerConfig().accounts == (DEFAULT_ACCOUNT,)
    assert (DEFAULT_ACCOUNT.login, DEFAULT_ACCOUNT.password, DEFAULT_ACCOUNT.account_id) == (
        "sandbox",
        "sandbox-token",
        "1",
    )


def test_a_section_without_accounts_keeps_the_default_account() -> None:
    assert parse_section({"window_seconds": 60}).accounts == (DEFAULT_ACCOUNT,)


def test_a_full_section_is_parsed() -> None:
    config = parse_section(
        {
            "accounts": [
                {
                    "login": "33600000000",
                    "password": "pw",
                    "account_id": 496,
                    "account_name": "SOCIETE1",
                    "balance": 155,
                    "api_request_limit": 5000,
                    "stop_list": ["33600000001"],
                }
            ],
            "window_seconds": 60,
            "any_token_api_request_limit": 1000,
            "timezone": "UTC",
        }
    )
    assert config == EnvoyerConfig(
        accounts=(
            EnvoyerAccount("33600000000", "pw", "496", "SOCIETE1", 155, 5000, ("33600000001",)),
        ),
        window_seconds=60.0,
        any_token_api_request_limit=1000,
        timezone="UTC",
    )


def test_account_defaults() -> None:
    (account,) = parse_section({"accounts": [VALID_ACCOUNT]}).accounts
    assert account == EnvoyerAccount("me", "pw", "1000", "ACCOUNT1000", 1_000_000_000, 100, ())


def test_an_empty_account_list_leaves_only_accept_any_token() -> None:
    assert parse_section({"accounts": []}).accounts == ()


@pytest.mark.parametrize(
    "section",
    [
        {"nope": 1},
        {"accounts": {}},
        {"accounts": [{**VALID_ACCOUNT, "token": "x"}]},
        {"accounts": [{"password": "pw"}]},
        {"accounts": [{"login": "me"}]},
        {"accounts": [{**VALID_ACCOUNT, "login": "a:b"}]},
        {"accounts": [{**VALID_ACCOUNT, "account_id": "x1"}]},
        {"accounts": [{**VALID_ACCOUNT, "account_id": True}]},
        {"accounts": [{**VALID_ACCOUNT, "balance": -1}]},
        {"accounts": [{**VALID_ACCOUNT, "balance": 1.5}]},
        {"accounts": [{**VALID_ACCOUNT, "api_request_limit": 0}]},
        {"accounts": [{**VALID_ACCOUNT, "stop_list": ["0612345678"]}]},
        {"accounts": [{**VALID_ACCOUNT, "stop_list": "33612345678"}]},
        {"accounts": [{**VALID_ACCOUNT, "account_name": ""}]},
        {"accounts": [{**VALID_ACCOUNT, "account_id": 1}, {**VALID_ACCOUNT, "account_id": 1}]},
        {"accounts": [VALID_ACCOUNT, {**VALID_ACCOUNT, "password": "other"}]},
        {"window_seconds": 0},
        {"window_seconds": "60"},
        {"any_token_api_request_limit": 0},
        {"timezone": "Mars/Olympus"},
        {"timezone": ""},
        [],
    ],
)
def test_invalid_sections_are_refused(section: Any) -> None:
    with pytest.raises(ConfigError):
        parse_section(section)


def test_the_section_comes_from_the_sandbox_config_json(make: Clients) -> None:
    config = SandboxConfig.from_dict({"envoyer": {"accounts": [VALID_ACCOUNT]}})
    client = make.wrap(create_app(config, emulators=(EnvoyerEmulator,)))
    assert remaining(client, ("me", "pw")) == 1_000_000_000


def test_an_invalid_section_stops_the_app_from_being_built() -> None:
    config = SandboxConfig.from_dict({"envoyer": {"bogus": True}})
    with pytest.raises(ConfigError):
        create_app(config, emulators=(EnvoyerEmulator,))


def test_configured_accounts_replace_the_default(make: Clients) -> None:
    client = make({"accounts": [{**VALID_ACCOUNT, "balance": 5}]})
    assert remaining(client, ("me", "pw")) == 5
    response = client.get("/api/account/status?login=sandbox&password=sandbox-token")
    assert parse(response).status == 401


def test_reset_restores_configured_balances(make: Clients) -> None:
    client = make({"accounts": [{**VALID_ACCOUNT, "balance": 5}]})
    client.get(
        "/api/message/send?text=x&recipients=33612345678&sendername=Societe&login=me&password=pw"
    )
    assert remaining(client, ("me", "pw")) == 4
    client.post("/_sandbox/reset")
    assert remaining(client, ("me", "pw")) == 5
