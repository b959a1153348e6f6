"""What a campaign will cost before anything is sent, and whether the account can pay it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.text import Encoding
from dispatcher.errors import ProviderError
from dispatcher.providers.base import Provider
from dispatcher.services import limits
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

SHOWN_TEXTS = 20


@dataclass(frozen=True)
class TextCost:
    text: str
    recipients: int
    encoding: Encoding
    parts: int


@dataclass(frozen=True)
class Estimate:
    """A campaign as it would be enqueued (``estimate_campaign``): nothing is written."""

    account: str
    provider: str
    recipients: int
    dropped: Mapping[str, int]
    texts: list[TextCost]  # the most used distinct texts, up to SHOWN_TEXTS
    distinct_texts: int
    parts: int  # SMS parts billed, all recipients together
    credits: float
    balance: Decimal | None = None
    balance_note: str = ""
    non_gsm: tuple[str, ...] = ()  # characters that make a text Unicode
    transliterated: tuple[tuple[str, str], ...] = ()
    stop: str = "none"
    window: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def sufficient(self) -> bool | None:
        return None if self.balance is None else self.balance >= Decimal(str(self.credits))

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account, "provider": self.provider, "recipients": self.recipients,
            "dropped": dict(self.dropped), "distinct_texts": self.distinct_texts,
            "texts": [{"text": t.text, "recipients": t.recipients, "encoding": t.encoding.value,
                       "parts": t.parts} for t in self.texts],
            "parts": self.parts, "credits": self.credits,
            "balance": None if self.balance is None else str(self.balance),
            "balance_note": self.balance_note, "sufficient": self.sufficient,
            "non_gsm": list(self.non_gsm), "transliterated": [list(p) for p in self.transliterated],
            "stop": self.stop, "window": self.window,
        }  # fmt: skip


class CostCounter:
    """Parts per distinct text, streamed: only the most used texts are kept."""

    def __init__(self, adapter: Provider, options: CampaignOptions) -> None:
        # The provider's own STOP mention (options.stop) is billed too, in some documents.
        self._adapter, self._options, self._force = adapter, options, options.forced_encoding
        self.parts = 0
        self.distinct = 0
        self.shown: list[TextCost] = []

    def add(self, text: str, recipients: int) -> None:
        measure = self._adapter.measure(text, force=self._force)
        parts = self._adapter.billed_parts(text, self._options, force=self._force)
        self.parts += parts * recipients
        self.distinct += 1
        if len(self.shown) < SHOWN_TEXTS:
            self.shown.append(TextCost(text, recipients, measure.encoding, parts))


BALANCE_FOR_SECONDS = 60
# enqueue waits on this question, so it is short: a slow or dead provider costs a campaign its
# balance check (the estimate says why), never the producer's time.
BALANCE_ASK_SECONDS = 1.0
FAILED_FOR_SECONDS = 60  # a provider that did not answer is not asked again for a minute


def known_balance(deps: Deps, adapter: Provider) -> tuple[Decimal | None, str]:
    """The account's balance asked of the provider (at most once a minute, within its request
    limit, in about a second), else the last one a provider reported (SMSFactor's send
    answers), else None with the reason."""
    account = adapter.account
    if not account.check_balance:
        return (
            None,
            f"not checked (DISPATCHER_ACCOUNTS__...__CHECK_BALANCE is off for {account.name})",
        )
    if not adapter.has_balance:
        cached = deps.cache.get(f"balance:{account.name}")
        if cached is not None:
            return Decimal(cached), "as reported by the provider's last answer"
        return None, f"{adapter.name} has no balance endpoint"
    recent = deps.cache.get(f"balance-asked:{account.name}")
    if recent is not None:
        return Decimal(recent), "asked of the provider less than a minute ago"
    skipped = _not_asking(deps, adapter)
    if skipped:
        return None, f"not asked: {skipped}"
    try:
        balance = limits.bounded(adapter, BALANCE_ASK_SECONDS).balance()
    except ProviderError as exc:
        log.warning("balance of %s unknown: %s", account.name, exc)
        deps.cache.set(f"balance-failed:{account.name}", str(exc), FAILED_FOR_SECONDS)
        return None, f"could not be read (asked for {BALANCE_ASK_SECONDS:g} s at most): {exc}"
    deps.cache.set(f"balance-asked:{account.name}", str(balance), BALANCE_FOR_SECONDS)
    return balance, ""


def _not_asking(deps: Deps, adapter: Provider) -> str | None:
    """Why the balance is not worth asking now, if it is not: the provider is known to be
    down, or did not answer a minute ago, or the account's request limit is reached."""
    name = adapter.account.name
    breaker = deps.breaker.state(name)
    if breaker.is_open:
        return f"the provider is not answering (circuit open): {breaker.last_error}"
    failed = deps.cache.get(f"balance-failed:{name}")
    if failed is not None:
        return f"asking failed less than a minute ago ({failed})"
    if limits.take_slot(deps, adapter, discover=False) > 0:
        return "the account's request limit is reached"
    return None
