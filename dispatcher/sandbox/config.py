"""Sandbox configuration: frozen dataclasses, loadable from a JSON document.

Unknown keys are refused instead of ignored, so a typo in a benchmark or demo config fails
at start rather than silently running with defaults. JSON shape (every key optional)::

    {
      "accounts": [{"token": "sandbox-token", "balance": 1000000000, "postpaid": false}],
      "accept_any_token": false,
      "any_token_balance": 1000000000,
      "timeline": {"gateway_delay": 2, "final_delay": 5, "spread": 3,
                   "rules": [{"suffix": "99", "final": "delivery_error"},
                             {"suffix": "95", "final": null}]},
      "callbacks": {"concurrency": 32, "retries": 3, "backoff": 0.5, "timeout": 5, "tick": 0.05},
      "smsmode": {"timezone": "Europe/Paris", "get_max_recipients": 300,
                  "stop_mention": "STOP 36304", "reply_number": "36034",
                  "search_limit_days": 30},
      "faults": [{"provider": "smsmode", "endpoint": "send",
                  "action": {"type": "code", "code": "50"}, "times": 1}],
      "fault_seed": 0
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dispatcher.sandbox.timeline import (
    DEFAULT_RULES,
    FAST_TIMELINE,
    FINAL_STATE_NAMES,
    OutcomeRule,
    TimelineConfig,
)

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - a public test token, not a secret
DEFAULT_BALANCE = 1_000_000_000.0


#: Top-level config sections owned by an emulator other than sMsmode's.
PROVIDER_SECTIONS = ("envoyer", "smsfactor", "bulkgw")


class ConfigError(ValueError):
    """The configuration document is invalid."""


@dataclass(frozen=True)
class AccountConfig:
    """An access token and its starting balance; postpaid accounts may go negative."""

    token: str
    balance: float = DEFAULT_BALANCE
    postpaid: bool = False


@dataclass(frozen=True)
class CallbackConfig:
    """Outgoing callbacks: at most ``concurrency`` in flight, ``retries`` after a failure."""

    concurrency: int = 32
    retries: int = 3
    backoff: float = 0.5
    timeout: float = 5.0
    tick: float = 0.05


@dataclass(frozen=True)
class SmsmodeConfig:
    """sMsmode-specific settings (document "sMsmode HTTP API 1.6")."""

    timezone: str = "Europe/Paris"
    get_max_recipients: int = 300
    stop_mention: str = "STOP 36304"
    reply_number: str = "36034"
    search_limit_days: float = 30.0


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox needs at start; see the module docstring for the JSON form."""

    accounts: tuple[AccountConfig, ...] = (AccountConfig(DEFAULT_TOKEN),)
    accept_any_token: bool = False
    any_token_balance: float = DEFAULT_BALANCE
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)
    smsmode: SmsmodeConfig = field(default_factory=SmsmodeConfig)
    faults: tuple[Mapping[str, Any], ...] = ()
    fault_seed: int = 0
    #: Raw sections of the other providers ("envoyer", "smsfactor", "bulkgw"): each emulator
    #: parses and validates its own section, so adding a provider does not touch this file.
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def fast(self) -> SandboxConfig:
        """Same config with sub-second report delays, for tests and demos."""
        timeline = replace(
            self.timeline,
            gateway_delay=FAST_TIMELINE.gateway_delay,
            final_delay=FAST_TIMELINE.final_delay,
            spread=FAST_TIMELINE.spread,
        )
        return replace(self, timeline=timeline, callbacks=replace(self.callbacks, backoff=0.1))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SandboxConfig:
        """Build from a parsed JSON object; raises :class:`ConfigError`."""
        try:
            return _sandbox(data)
        except ConfigError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from exc

    @classmethod
    def from_json_file(cls, path: str | Path) -> SandboxConfig:
        """Load a JSON config file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError("the config must be a JSON object")
        return cls.from_dict(data)


# -- checks shared by every provider's sandbox config ---------------------------------


def require_object(data: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be an object")
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(sorted(map(str, unknown)))}")
    return dict(data)


def require_number(value: Any, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where} must be >= {minimum}")
    return float(value)


def require_int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} must be an integer >= {minimum}")
    return value


def require_flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false")
    return value


def require_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def _account(data: Any) -> AccountConfig:
    d = require_object(data, {"token", "balance", "postpaid"}, "an account")
    return AccountConfig(
        token=require_text(d.get("token"), "account.token"),
        balance=require_number(d.get("balance", DEFAULT_BALANCE), "account.balance"),
        postpaid=require_flag(d.get("postpaid", False), "account.postpaid"),
    )


def _rule(data: Any) -> OutcomeRule:
    d = require_object(data, {"suffix", "final"}, "a timeline rule")
    suffix = require_text(d.get("suffix"), "rule.suffix")
    final = d.get("final")
    if final is None:
        return OutcomeRule(suffix, None)
    if final not in FINAL_STATE_NAMES:
        raise ConfigError(f"rule.final must be null or one of {sorted(FINAL_STATE_NAMES)}")
    return OutcomeRule(suffix, FINAL_STATE_NAMES[final])


def _timeline(data: Any) -> TimelineConfig:
    d = require_object(data, {"gateway_delay", "final_delay", "spread", "rules"}, "timeline")
    base = TimelineConfig()
    rules = d.get("rules")
    if rules is not None and not isinstance(rules, list):
        raise ConfigError("timeline.rules must be a list")
    return TimelineConfig(
        gateway_delay=require_number(d.get("gateway_delay", base.gateway_delay), "gateway_delay"),
        final_delay=require_number(d.get("final_delay", base.final_delay), "final_delay"),
        spread=require_number(d.get("spread", base.spread), "spread"),
        rules=DEFAULT_RULES if rules is None else tuple(_rule(r) for r in rules),
    )


def _callbacks(data: Any) -> CallbackConfig:
    d = require_object(data, {"concurrency", "retries", "backoff", "timeout", "tick"}, "callbacks")
    base = CallbackConfig()
    return CallbackConfig(
        concurrency=require_int(d.get("concurrency", base.concurrency), "concurrency", 1),
        retries=require_int(d.get("retries", base.retries), "retries"),
        backoff=require_number(d.get("backoff", base.backoff), "backoff"),
        timeout=require_number(d.get("timeout", base.timeout), "timeout"),
        tick=require_number(d.get("tick", base.tick), "tick"),
    )


def _smsmode(data: Any) -> SmsmodeConfig:
    keys = {"timezone", "get_max_recipients", "stop_mention", "reply_number", "search_limit_days"}
    d = require_object(data, keys, "smsmode")
    base = SmsmodeConfig()
    return SmsmodeConfig(
        timezone=require_text(d.get("timezone", base.timezone), "smsmode.timezone"),
        get_max_recipients=require_int(
            d.get("get_max_recipients", base.get_max_recipients), "max", 1
        ),
        stop_mention=require_text(d.get("stop_mention", base.stop_mention), "smsmode.stop_mention"),
        reply_number=require_text(d.get("reply_number", base.reply_number), "smsmode.reply_number"),
        search_limit_days=require_number(
            d.get("search_limit_days", base.search_limit_days), "days"
        ),
    )


def _sandbox(data: Mapping[str, Any]) -> SandboxConfig:
    keys = {
        "accounts",
        "accept_any_token",
        "any_token_balance",
        "timeline",
        "callbacks",
        "smsmode",
        "faults",
        "fault_seed",
        *PROVIDER_SECTIONS,
    }
    d = require_object(data, keys, "the config")
    base = SandboxConfig()
    accounts = d.get("accounts")
    if accounts is not None and not isinstance(accounts, list):
        raise ConfigError("accounts must be a list")
    faults = d.get("faults", [])
    if not isinstance(faults, list) or not all(isinstance(f, Mapping) for f in faults):
        raise ConfigError("faults must be a list of objects")
    return SandboxConfig(
        accounts=base.accounts if accounts is None else tuple(_account(a) for a in accounts),
        accept_any_token=require_flag(d.get("accept_any_token", False), "accept_any_token"),
        any_token_balance=require_number(d.get("any_token_balance", DEFAULT_BALANCE), "balance"),
        timeline=_timeline(d.get("timeline", {})),
        callbacks=_callbacks(d.get("callbacks", {})),
        smsmode=_smsmode(d.get("smsmode", {})),
        faults=tuple(faults),
        fault_seed=require_int(d.get("fault_seed", 0), "fault_seed"),
        providers={k: require_object(d[k], set(d[k]), k) for k in PROVIDER_SECTIONS if k in d},
    )
