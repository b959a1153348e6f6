"""Which request-rate limit an account gets: the setting, else what the provider says, else
the provider's default; asked of the provider once and remembered."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from dispatcher.cache import MemoryCache
from dispatcher.errors import TransientProviderError
from dispatcher.persistence.database import Database
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.services.deps import Deps
from dispatcher.services.limits import rate_for
from dispatcher.settings import AccountSettings, Settings


@dataclass
class Recorder:
    asked: list[str] = field(default_factory=list)

    def acquire(self, account: str, rate: str) -> float:
        self.asked.append(rate)
        return 0.0


class Discovering(SmsmodeProvider):
    learns_rate_limit = True
    answers: list[str | Exception] = []  # noqa: RUF012

    def discover_rate_limit(self) -> str | None:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _deps(adapter: SmsmodeProvider) -> Deps:
    return Deps(
        settings=Settings(),
        db=Database("postgresql://u@127.0.0.1:1/x"),
        publisher=None,  # type: ignore[arg-type]
        limiter=Recorder(),
        adapters=lambda _: adapter,
        cache=MemoryCache(),
    )


def _account(**kw: object) -> AccountSettings:
    return AccountSettings(
        name="a", provider="smsmode", base_url="https://p.test", access_token="t", **kw
    )  # type: ignore[arg-type]


def test_the_accounts_setting_wins() -> None:
    adapter = Discovering(_account(rate_limit="7/second"), httpx.Client())
    assert rate_for(_deps(adapter), adapter) == "7/second"


def test_a_provider_without_discovery_gets_its_default() -> None:
    adapter = SmsmodeProvider(_account(), httpx.Client())
    assert rate_for(_deps(adapter), adapter) == SmsmodeProvider.default_rate_limit


def test_the_providers_answer_is_asked_once_and_remembered() -> None:
    adapter = Discovering(_account(), httpx.Client())
    Discovering.answers = ["500 per 60 minutes"]
    deps = _deps(adapter)
    assert rate_for(deps, adapter) == "500 per 60 minutes"
    assert rate_for(deps, adapter) == "500 per 60 minutes"
    assert Discovering.answers == []


def test_a_failed_question_falls_back_to_the_default_for_a_while() -> None:
    adapter = Discovering(_account(), httpx.Client())
    Discovering.answers = [TransientProviderError("smsmode", "50", "later")]
    deps = _deps(adapter)
    assert rate_for(deps, adapter) == SmsmodeProvider.default_rate_limit
    assert rate_for(deps, adapter) == SmsmodeProvider.default_rate_limit  # not asked again
