"""The "smsfactor" section of the sandbox config, parsed and validated by the emulator.

``config.py`` keeps the section raw so that this provider's settings live beside its
emulator. Unknown keys are refused (:class:`~dispatcher.sandbox.config.ConfigError`), as
everywhere in the sandbox config. JSON shape, every key optional::

    "smsfactor": {
      "accounts": [{"username": "sandbox@example.com", "password": "sandbox-password",
                    "balance": 1000000000, "postpaid": false,
                    "inbox_url": "http://127.0.0.1:9000/inbox.php",
                    "inbox_number": "33700000000"}],
      "timezone": "Europe/Paris",
      "refresh_period": 1.0,
      "covered_prefixes": ["33", "32", "41"],
      "max_body_bytes": 16777216
    }

Without ``accounts`` (or without the section) the one account is :data:`DEFAULT_ACCOUNT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatcher.sandbox.config import (
    DEFAULT_BALANCE,
    ConfigError,
    require_number,
    require_object,
    require_text,
)

SECTION = "smsfactor"

# Every assigned E.164 country calling code: section 1.2.1.9 wants numbers starting "avec
# un indicatif couvert par notre système" and points to a coverage page the sandbox cannot
# read, so by default every country is covered and only a missing country code is refused.
_COUNTRY_CODES = (
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 "
    "211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 "
    "235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 "
    "255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 "
    "350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 379 "
    "380 381 382 383 385 386 387 389 420 421 423 "
    "500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599 "
    "670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 "
    "850 852 853 855 856 880 886 "
    "960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 "
    "995 996 998"
)
COUNTRY_CODES: tuple[str, ...] = tuple(_COUNTRY_CODES.split())


@dataclass(frozen=True)
class SmsfactorAccount:
    """A login (an email address, section 1.2.1.1), its password, balance and inbox."""

    username: str
    password: str
    balance: float = DEFAULT_BALANCE
    postpaid: bool = False
    #: Section 3: the page the inbound SMS are POSTed to, set on the provider's web site.
    inbox_url: str | None = None
    #: The rented number inbound SMS are sent to (the ``to`` attribute of section 3.1).
    inbox_number: str = "33700000000"


DEFAULT_ACCOUNT = SmsfactorAccount("sandbox@example.com", "sandbox-password")


@dataclass(frozen=True)
class SmsfactorConfig:
    """Settings of the SMSFactor emulator."""

    accounts: tuple[SmsfactorAccount, ...] = (DEFAULT_ACCOUNT,)
    #: Local time of the ``delay`` element (section 1.2.1.8) and of inbound SMS dates.
    timezone: str = "Europe/Paris"
    #: Section 2.3 "Les AR sont mis à jour toutes les minutes": reports show the state as
    #: of the last refresh, one every ``refresh_period`` seconds from acceptance (none
    #: before the first). Small by default so that tests and demos stay fast; 0: live.
    refresh_period: float = 1.0
    covered_prefixes: tuple[str, ...] = COUNTRY_CODES
    #: Larger request bodies get the XML error (-2) without being read to the end.
    max_body_bytes: int = 16 * 1024 * 1024


def _digits(value: Any, where: str) -> str:
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        raise ConfigError(f"{where} must be a string of digits")
    return value


def _account(data: Any) -> SmsfactorAccount:
    keys = {"username", "password", "balance", "postpaid", "inbox_url", "inbox_number"}
    d = require_object(data, keys, "a smsfactor account")
    postpaid = d.get("postpaid", False)
    if not isinstance(postpaid, bool):
        raise ConfigError("smsfactor account.postpaid must be true or false")
    inbox_url = d.get("inbox_url")
    if inbox_url is not None:
        inbox_url = require_text(inbox_url, "smsfactor account.inbox_url")
        if not inbox_url.lower().startswith(("http://", "https://")):
            raise ConfigError("smsfactor account.inbox_url must be an http(s) URL")
    return SmsfactorAccount(
        username=require_text(d.get("username"), "smsfactor account.username"),
        password=require_text(d.get("password"), "smsfactor account.password"),
        balance=require_number(d.get("balance", DEFAULT_BALANCE), "smsfactor account.balance"),
        postpaid=postpaid,
        inbox_url=inbox_url,
        inbox_number=_digits(d.get("inbox_number", "33700000000"), "account.inbox_number"),
    )


def parse_section(data: Any) -> SmsfactorConfig:
    """The section as given in the config (``None``: absent); raises ``ConfigError``."""
    if data is None:
        return SmsfactorConfig()
    keys = {"accounts", "timezone", "refresh_period", "covered_prefixes", "max_body_bytes"}
    d = require_object(data, keys, SECTION)
    base = SmsfactorConfig()
    accounts = base.accounts
    if "accounts" in d:
        if not isinstance(d["accounts"], list) or not d["accounts"]:
            raise ConfigError("smsfactor.accounts must be a non-empty list")
        accounts = tuple(_account(a) for a in d["accounts"])
        if len({a.username for a in accounts}) != len(accounts):
            raise ConfigError("smsfactor.accounts has the same username twice")
    prefixes = d.get("covered_prefixes", list(base.covered_prefixes))
    if not isinstance(prefixes, list) or not prefixes:
        raise ConfigError("smsfactor.covered_prefixes must be a non-empty list")
    max_body = d.get("max_body_bytes", base.max_body_bytes)
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise ConfigError("smsfactor.max_body_bytes must be an integer >= 1")
    return SmsfactorConfig(
        accounts=accounts,
        timezone=require_text(d.get("timezone", base.timezone), "smsfactor.timezone"),
        refresh_period=require_number(d.get("refresh_period", base.refresh_period), "refresh", 0),
        covered_prefixes=tuple(_digits(p, "smsfactor.covered_prefixes[]") for p in prefixes),
        max_body_bytes=max_body,
    )
