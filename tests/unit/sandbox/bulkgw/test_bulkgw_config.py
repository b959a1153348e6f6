"""The "bulkgw" config section: parsed by the emulator, unknown keys refused."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.bulkgw import BulkgwEmulator
from dispatcher.sandbox.bulkgw_config import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    BulkgwAccount,
    parse_section,
)
from dispatcher.sandbox.config import ConfigError


def test_without_a_section_there_is_one_default_account() -> None:
    config = parse_section(None)
    assert config.accounts == (BulkgwAccount(DEFAULT_USERNAME, DEFAULT_PASSWORD),)
    assert (config.dlr_url, config.intermediate_reports, config.unicode_unit) == (
        None,
        True,
        "character",
    )


def test_a_full_section_is_parsed() -> None:
    config = parse_section(
        {
            "accounts": [
                {
                    "username": "acme",
                    "password": "pw",
                    "balance": 12,
                    "postpaid": True,
                    "dlr_url": "https://h/dlr",
                }
            ],
            "dlr_url": "http://h/any",
            "intermediate_reports": False,
            "unicode_unit": "hex",
            "dnd": ["+33612345600"],
            "explicit_dnd": ["33612345601"],
        }
    )
    assert config.accounts == (BulkgwAccount("acme", "pw", 12.0, True, "https://h/dlr"),)
    assert (config.dnd, config.explicit_dnd) == (
        frozenset({"33612345600"}),
        frozenset({"33612345601"}),
    )


def test_an_empty_account_list_leaves_only_accept_any_token() -> None:
    assert parse_section({"accounts": []}).accounts == ()


@pytest.mark.parametrize(
    "section",
    [
        {"acounts": []},
        {"accounts": [{"username": "a", "password": "b", "token": "c"}]},
        {"accounts": [{"username": "a"}]},
        {"accounts": [{"username": "a", "password": "b", "balance": "1"}]},
        {"accounts": [{"username": "a", "password": "b"}, {"username": "a", "password": "c"}]},
        {"accounts": {}},
        {"dlr_url": "ftp://h/dlr"},
        {"intermediate_reports": "yes"},
        {"unicode_unit": "bytes"},
        {"dnd": "33612345600"},
    ],
    ids=[
        "unknown-key",
        "unknown-account-key",
        "no-password",
        "balance-type",
        "duplicate-username",
        "accounts-type",
        "url-scheme",
        "flag-type",
        "unit",
        "dnd-type",
    ],
)
def test_invalid_sections_are_refused(section: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_section(section)


def test_an_invalid_section_stops_the_app_from_starting() -> None:
    config = SandboxConfig.from_dict({"bulkgw": {"nope": 1}})
    with pytest.raises(ConfigError):
        create_app(config, emulators=(BulkgwEmulator,))


def test_the_section_comes_from_the_json_config() -> None:
    config = SandboxConfig.from_dict({"bulkgw": {"accounts": []}})
    assert parse_section(config.providers["bulkgw"]).accounts == ()
