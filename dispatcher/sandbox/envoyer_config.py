"""The ``"envoyer"`` section of the sandbox config, parsed and validated by its emulator.

The document ("API SMS HTTP REST" 2.10, "Authentification" and "FONCTION LISTE DES
COMPTES") models a customer as one login (a mobile number) and password owning one or
several accounts, each with an id, a name, an SMS balance and an API request limit. JSON
shape (every key optional)::

    "envoyer": {
      "accounts": [{"login": "33600000000", "password": "secret", "account_id": "496",
                    "account_name": "SOCIETE1", "balance": 155, "api_request_limit": 5000,
                    "stop_list": ["33600000001"]}],
      "window_seconds": 3600,
      "any_token_api_request_limit": 100,
      "timezone": "Europe/Paris"
    }

Unknown keys are refused (:class:`ConfigError`), like the rest of the sandbox config.
Without an ``accounts`` key the section holds :data:`DEFAULT_ACCOUNT`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatcher.sandbox.config import ConfigError, require_int, require_object

#: "Les limites du nombre de requête": 100 requests per 60 minutes unless agreed otherwise.
DOCUMENTED_REQUEST_LIMIT = 100
DOCUMENTED_WINDOW_SECONDS = 3600.0
#: Account id given to accounts created by ``accept_any_token`` without an ``accountid``.
ANY_ACCOUNT_ID = "1"
#: "Doit être au format international": country code first, no "+", 8 to 15 digits (E.164).
INTERNATIONAL = re.compile(r"[1-9][0-9]{7,14}")

_ACCOUNT_KEYS = {
    "login",
    "password",
    "account_id",
    "account_name",
    "balance",
    "api_request_limit",
    "stop_list",
}
_SECTION_KEYS = {"accounts", "window_seconds", "any_token_api_request_limit", "timezone"}


def account_key(login: str, account_id: str) -> str:
    """The store token of one account: ``envoyer:LOGIN:ACCOUNTID``."""
    return f"envoyer:{login}:{account_id}"


@dataclass(frozen=True)
class EnvoyerAccount:
    """One account of a login, as the config declares it."""

    login: str
    password: str
    account_id: str
    account_name: str
    balance: int
    api_request_limit: int = DOCUMENTED_REQUEST_LIMIT
    stop_list: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Its store token."""
        return account_key(self.login, self.account_id)


#: The account used when the config has no ``envoyer.accounts`` (the product's demo uses it).
DEFAULT_ACCOUNT = EnvoyerAccount(
    login="sandbox",
    password="sandbox-token",  # noqa: S106 - a public test credential, not a secret
    account_id="1",
    account_name="SANDBOX",
    balance=1_000_000_000,
)


@dataclass(frozen=True)
class EnvoyerConfig:
    """Validated section; ``window_seconds`` shortens the rate-limit window for tests/demos."""

    accounts: tuple[EnvoyerAccount, ...] = (DEFAULT_ACCOUNT,)
    window_seconds: float = DOCUMENTED_WINDOW_SECONDS
    any_token_api_request_limit: int = DOCUMENTED_REQUEST_LIMIT
    timezone: str = "Europe/Paris"

    @property
    def zone(self) -> ZoneInfo:
        """The provider's local time, used for ``senddate``/``sendtime`` and report dates."""
        return ZoneInfo(self.timezone)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def _account_id(value: Any, where: str) -> str:
    """Ids are integers in the document (496, 504...); a digit string is accepted too."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise ConfigError(f"{where} must be a non-negative integer")


def _stop_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list of international numbers")
    for number in value:
        if not isinstance(number, str) or not INTERNATIONAL.fullmatch(number):
            raise ConfigError(f"{where}: {number!r} is not an international number")
    return tuple(value)


def _account(data: Any, index: int) -> EnvoyerAccount:
    where = f"envoyer.accounts[{index}]"
    d = require_object(data, _ACCOUNT_KEYS, where)
    login = _text(d.get("login"), f"{where}.login")
    if ":" in login:
        raise ConfigError(f"{where}.login cannot contain ':' (HTTP Basic separator)")
    account_id = _account_id(d.get("account_id", 1000 + index), f"{where}.account_id")
    return EnvoyerAccount(
        login=login,
        password=_text(d.get("password"), f"{where}.password"),
        account_id=account_id,
        account_name=_text(d.get("account_name", f"ACCOUNT{account_id}"), f"{where}.name"),
        balance=require_int(d.get("balance", DEFAULT_ACCOUNT.balance), f"{where}.balance", 0),
        api_request_limit=require_int(
            d.get("api_request_limit", DOCUMENTED_REQUEST_LIMIT), f"{where}.api_request_limit", 1
        ),
        stop_list=_stop_list(d.get("stop_list", []), f"{where}.stop_list"),
    )


def _check_consistency(accounts: tuple[EnvoyerAccount, ...]) -> None:
    """Account ids are unique (the document's ids are global); one password per login."""
    ids: set[str] = set()
    passwords: dict[str, str] = {}
    for account in accounts:
        if account.account_id in ids:
            raise ConfigError(f"envoyer: account_id {account.account_id} is declared twice")
        ids.add(account.account_id)
        if passwords.setdefault(account.login, account.password) != account.password:
            raise ConfigError(f"envoyer: login {account.login} has two different passwords")


def parse_section(data: Any) -> EnvoyerConfig:
    """Validate the raw ``envoyer`` section (``None``: absent); raises :class:`ConfigError`."""
    if data is None:
        return EnvoyerConfig()
    d = require_object(data, _SECTION_KEYS, "envoyer")
    base = EnvoyerConfig()
    raw_accounts = d.get("accounts")
    if raw_accounts is not None and not isinstance(raw_accounts, list):
        raise ConfigError("envoyer.accounts must be a list")
    accounts = (
        base.accounts
        if raw_accounts is None
        else tuple(_account(a, i) for i, a in enumerate(raw_accounts))
    )
    _check_consistency(accounts)
    window = d.get("window_seconds", base.window_seconds)
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        raise ConfigError("envoyer.window_seconds must be a number > 0")
    timezone = _text(d.get("timezone", base.timezone), "envoyer.timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"envoyer.timezone: unknown timezone {timezone!r}") from exc
    return EnvoyerConfig(
        accounts=accounts,
        window_seconds=float(window),
        any_token_api_request_limit=require_int(
            d.get("any_token_api_request_limit", base.any_token_api_request_limit),
            "envoyer.any_token_api_request_limit",
            1,
        ),
        timezone=timezone,
    )
