"""The "smsfactor" config section: defaults, validation, accounts in the shared store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.config import ConfigError
from dispatcher.sandbox.smsfactor import SmsfactorEmulator
from dispatcher.sandbox.smsfactor_config import (
    COUNTRY_CODES,
    DEFAULT_ACCOUNT,
    SmsfactorAccount,
    SmsfactorConfig,
    parse_section,
)

from .test_smsfactor_support import USER, Clients, context, send

if TYPE_CHECKING:
    from starlette.testclient import TestClient

ACCOUNT = {"username": USER, "password": "p"}


def test_absent_section_gives_the_default_account() -> None:
    assert parse_section(None) == SmsfactorConfig()
    assert SmsfactorConfig().accounts == (
        SmsfactorAccount("sandbox@example.com", "sandbox-password"),
    )


def test_section_without_accounts_keeps_the_default_account() -> None:
    assert parse_section({"refresh_period": 5}).accounts == (DEFAULT_ACCOUNT,)


def test_every_key_is_read() -> None:
    account = {
        **ACCOUNT,
        "balance": 10,
        "postpaid": True,
        "inbox_url": "https://example.com/inbox.php",
        "inbox_number": "33611111111",
    }
    section = {
        "accounts": [account],
        "timezone": "UTC",
        "refresh_period": 60,
        "covered_prefixes": ["33"],
        "max_body_bytes": 1000,
    }
    assert parse_section(section) == SmsfactorConfig(
        accounts=(
            SmsfactorAccount(USER, "p", 10.0, True, "https://example.com/inbox.php", "33611111111"),
        ),
        timezone="UTC",
        refresh_period=60.0,
        covered_prefixes=("33",),
        max_body_bytes=1000,
    )


def test_default_coverage_is_every_country_code() -> None:
    assert {"1", "33", "44", "262", "590", "687"} <= set(COUNTRY_CODES)


@pytest.mark.parametrize(
    "section",
    [
        [],
        {"unknown": 1},
        {"accounts": []},
        {"accounts": [{"username": USER}]},
        {"accounts": [{**ACCOUNT, "token": "x"}]},
        {"accounts": [{**ACCOUNT, "balance": "10"}]},
        {"accounts": [{**ACCOUNT, "postpaid": 1}]},
        {"accounts": [{**ACCOUNT, "inbox_url": "ftp://x"}]},
        {"accounts": [{**ACCOUNT, "inbox_number": "+33600000000"}]},
        {"accounts": [ACCOUNT, ACCOUNT]},
        {"refresh_period": -1},
        {"refresh_period": True},
        {"covered_prefixes": []},
        {"covered_prefixes": ["+33"]},
        {"max_body_bytes": 0},
        {"timezone": ""},
    ],
    ids=[
        "not-an-object",
        "unknown-key",
        "no-accounts",
        "no-password",
        "unknown-account-key",
        "balance-type",
        "postpaid-type",
        "inbox-url",
        "inbox-number",
        "same-username",
        "negative-refresh",
        "bool-refresh",
        "no-coverage",
        "coverage-digits",
        "body-limit",
        "empty-timezone",
    ],
)
def test_invalid_sections_are_refused(section: Any) -> None:
    with pytest.raises(ConfigError):
        parse_section(section)


def test_invalid_section_fails_at_app_creation() -> None:
    config = SandboxConfig.from_dict({"smsfactor": {"refresh": 1}})
    with pytest.raises(ConfigError):
        create_app(config, emulators=(SmsfactorEmulator,))


def test_unknown_timezone_fails_at_app_creation() -> None:
    config = SandboxConfig.from_dict({"smsfactor": {"timezone": "Mars/Olympus"}})
    with pytest.raises(ConfigError):
        create_app(config, emulators=(SmsfactorEmulator,))


def test_configured_accounts_replace_the_default(clients: Clients) -> None:
    client = clients({"accounts": [ACCOUNT]})
    assert send(client, password="p").status == "1"
    assert send(client, username=DEFAULT_ACCOUNT.username).status == "-1"


def test_accounts_live_in_the_shared_store(clients: Clients) -> None:
    client = clients({"accounts": [{**ACCOUNT, "balance": 7}]})
    account = context(client).store.accounts[f"smsfactor:{USER}"]
    assert (account.balance, account.postpaid) == (7.0, False)


def test_reset_restores_balances_and_keeps_accounts(clients: Clients) -> None:
    client = clients({"accounts": [{**ACCOUNT, "balance": 7}]})
    send(client, password="p")
    client.post("/_sandbox/reset").raise_for_status()
    assert send(client, password="p").credits == "6"


def test_section_timezone_is_used_for_delay(clients: Clients) -> None:
    client: TestClient = clients({"timezone": "UTC"})
    send(client, delay="2024-03-01T11:30:00")
    found = client.get("/_sandbox/submissions").json()["submissions"]
    assert found[0]["scheduled_for"] == "2024-03-01T11:30:00+00:00"
