"""The ``"bulkgw"`` section of the sandbox config, parsed and validated by its emulator.

Unknown keys are refused (:class:`~dispatcher.sandbox.config.ConfigError`) as everywhere in
the sandbox config, so a typo fails at start. JSON shape (every key optional)::

    "bulkgw": {
      "accounts": [{"username": "sandbox", "password": "sandbox-password",
                    "balance": 1000000000, "postpaid": false,
                    "dlr_url": "http://127.0.0.1:9000/dlr"}],
      "dlr_url": null,
      "intermediate_reports": true,
      "unicode_unit": "character",
      "dnd": ["33612345600"],
      "explicit_dnd": []
    }

Without ``accounts`` the only account is :data:`DEFAULT_USERNAME` /
:data:`DEFAULT_PASSWORD`. The section-level ``dlr_url`` serves accounts without their own,
including the ones ``accept_any_token`` creates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatcher.sandbox.bulkgw_text import UNICODE_UNITS
from dispatcher.sandbox.config import (
    DEFAULT_BALANCE,
    ConfigError,
    require_flag,
    require_object,
    require_text,
)

SECTION = "bulkgw"
DEFAULT_USERNAME = "sandbox"
DEFAULT_PASSWORD = "sandbox-password"  # noqa: S105 - a public test credential, not a secret
_SECTION_KEYS = {
    "accounts",
    "dlr_url",
    "intermediate_reports",
    "unicode_unit",
    "dnd",
    "explicit_dnd",
}
_ACCOUNT_KEYS = {"username", "password", "balance", "postpaid", "dlr_url"}


@dataclass(frozen=True)
class BulkgwAccount:
    """An HTTP account (section 1.2 parameters 1 and 2) and where its reports go."""

    username: str
    password: str
    balance: float = DEFAULT_BALANCE
    postpaid: bool = False
    dlr_url: str | None = None


@dataclass(frozen=True)
class BulkgwConfig:
    """Accounts, report options and the DND lists (answers 1732 and 1042)."""

    accounts: tuple[BulkgwAccount, ...] = (BulkgwAccount(DEFAULT_USERNAME, DEFAULT_PASSWORD),)
    dlr_url: str | None = None
    intermediate_reports: bool = True
    unicode_unit: str = "character"
    dnd: frozenset[str] = field(default_factory=frozenset)
    explicit_dnd: frozenset[str] = field(default_factory=frozenset)


def _url(value: Any, where: str) -> str | None:
    if value is None:
        return None
    url = require_text(value, where)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http:// or https:// URL")
    return url


def _numbers(value: Any, where: str) -> frozenset[str]:
    """A DND list: international numbers, stored without '+' as destinations are compared."""
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise ConfigError(f"{where} must be a list of numbers (strings)")
    return frozenset(n.strip().removeprefix("+") for n in value)


def _account(data: Any) -> BulkgwAccount:
    d = require_object(data, _ACCOUNT_KEYS, "a bulkgw account")
    balance = d.get("balance", DEFAULT_BALANCE)
    if isinstance(balance, bool) or not isinstance(balance, int | float):
        raise ConfigError("bulkgw account.balance must be a number")
    return BulkgwAccount(
        username=require_text(d.get("username"), "bulkgw account.username"),
        password=require_text(d.get("password"), "bulkgw account.password"),
        balance=float(balance),
        postpaid=require_flag(d.get("postpaid", False), "bulkgw account.postpaid"),
        dlr_url=_url(d.get("dlr_url"), "bulkgw account.dlr_url"),
    )


def parse_section(data: Mapping[str, Any] | None) -> BulkgwConfig:
    """The section as a :class:`BulkgwConfig`; ``None`` (no section) gives the defaults."""
    if data is None:
        return BulkgwConfig()
    d = require_object(data, _SECTION_KEYS, SECTION)
    base = BulkgwConfig()
    accounts = base.accounts
    if "accounts" in d:
        if not isinstance(d["accounts"], list):
            raise ConfigError("bulkgw.accounts must be a list")
        accounts = tuple(_account(a) for a in d["accounts"])
        names = [a.username for a in accounts]
        if len(set(names)) != len(names):
            raise ConfigError("bulkgw.accounts: each username may appear only once")
    unit = d.get("unicode_unit", base.unicode_unit)
    if unit not in UNICODE_UNITS:
        raise ConfigError(f"bulkgw.unicode_unit must be one of {list(UNICODE_UNITS)}")
    return BulkgwConfig(
        accounts=accounts,
        dlr_url=_url(d.get("dlr_url"), "bulkgw.dlr_url"),
        intermediate_reports=require_flag(
            d.get("intermediate_reports", base.intermediate_reports), "intermediate_reports"
        ),
        unicode_unit=str(unit),
        dnd=_numbers(d.get("dnd", []), "bulkgw.dnd"),
        explicit_dnd=_numbers(d.get("explicit_dnd", []), "bulkgw.explicit_dnd"),
    )
