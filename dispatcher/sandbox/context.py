"""What every provider emulator shares, and the base class an emulator implements.

A provider is one emulator class: it declares its name and the endpoint names fault rules
can target, and returns its Starlette routes. Everything stateful (store, timeline, fault
rules, callback dispatcher, clock) lives in one :class:`SandboxContext`, so the admin API
and the stats see every provider the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.routing import BaseRoute

from dispatcher.sandbox.callbacks import CallbackDispatcher
from dispatcher.sandbox.config import SandboxConfig
from dispatcher.sandbox.faults import FaultInjector
from dispatcher.sandbox.store import Store
from dispatcher.sandbox.timeline import Timeline

#: Seconds since the epoch; injectable so tests move time instead of sleeping.
Clock = Callable[[], float]


@dataclass
class SandboxContext:
    """The shared state of one sandbox application."""

    config: SandboxConfig
    clock: Clock
    store: Store
    timeline: Timeline
    faults: FaultInjector
    callbacks: CallbackDispatcher


class AdminError(Exception):
    """An admin request that cannot be honoured; becomes a JSON error with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ProviderEmulator(ABC):
    """One provider's HTTP API, written from that provider's documents only."""

    #: Provider name used in stats keys, fault rules and submissions ("smsmode").
    name: ClassVar[str]
    #: Endpoint names fault rules can target ("send", "report", ...), in display order.
    endpoints: ClassVar[tuple[str, ...]]

    # What the product's local stack (dispatcher.local) needs to point an account at this
    # emulator, declared here so that it names no provider. Keys are the dispatcher's account
    # settings (DISPATCHER_ACCOUNTS__<NAME>__<KEY>, lower case); values are public test ones.
    #: Settings that reach the emulator's default account (its credentials).
    account_settings: ClassVar[Mapping[str, str]] = {}
    #: Settings added to an account whose reports this emulator pushes to the HTTP service
    #: (the account has a callback secret): what the adapter needs to read those pushes.
    pushed_account_settings: ClassVar[Mapping[str, str]] = {}
    #: Config the demo runs with, where a documented default would make it wait.
    rehearsal_config: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def push_config(cls, callback_url: str, inbound_url: str) -> Mapping[str, Any]:
        """Config sending the default account's pushes, delivery reports and inbound SMS, to
        these URLs of the HTTP service; empty when the URL travels with each request (sMsmode's
        notification_url) or the provider pushes nothing."""
        return {}

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The provider's HTTP routes, with their full paths."""

    def stat_keys(self) -> list[str]:
        """Counters always listed in the stats, even at zero."""
        keys = [f"{self.name}.{endpoint}" for endpoint in self.endpoints]
        return [*keys, f"{self.name}.callbacks_sent", f"{self.name}.callbacks_failed"]

    def reply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Simulate an SMS reply from a recipient (admin API); optional per provider."""
        raise AdminError(400, f"provider {self.name} does not simulate replies")
