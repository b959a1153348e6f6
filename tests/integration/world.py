"""A service-layer world on real PostgreSQL without Celery or HTTP servers: a database of its
own, a recording publisher, a limiter that says what the test wants, sMsmode adapters over
httpx.MockTransport answering what the test queues, and a clock in the test's hands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dispatcher.persistence.database import Database
from dispatcher.providers.registry import REGISTRY
from dispatcher.services.deps import Deps
from dispatcher.settings import AccountSettings, Settings, Timings

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    planned: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    polled: list[int] = field(default_factory=list)

    def plan(self, campaign_id: int) -> None:
        self.planned.append(campaign_id)

    def submit(self, batch_ids: Iterable[int]) -> None:
        self.submitted.extend(batch_ids)

    def poll(self, batch_ids: Iterable[int]) -> None:
        self.polled.extend(batch_ids)


@dataclass
class Limiter:
    wait: float = 0.0

    def acquire(self, account: str, rate: str) -> float:
        return self.wait


@dataclass
class Clock:
    """Real time by default; ``set`` freezes it at an instant the test chooses."""

    frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC)

    def set(self, at: datetime) -> None:
        self.frozen = at

    def advance(self, **delta: float) -> None:
        self.frozen = self() + timedelta(**delta)


@dataclass
class World:
    deps: Deps
    publisher: Recorder
    limiter: Limiter
    clock: Clock
    answers: list[Handler]
    requests: list[httpx.Request]

    def answer(self, body: str, status: int = 200) -> None:
        self.answers.append(lambda request: httpx.Response(status, text=body))


def make_world(database: Database, provider: str = "smsmode", **account: Any) -> World:
    credentials = (
        {"access_token": "tok"} if provider == "smsmode" else {"username": "u", "password": "p"}
    )
    settings = Settings(
        accounts={"mock": AccountSettings(name="mock", provider=provider,
                                          base_url="https://mock.test",
                                          **{**credentials, "check_balance": False, **account})},
        timings=Timings(poll_first_delay_seconds=5),
        callback_base_url="https://dispatcher.test",
    )  # fmt: skip
    answers: list[Handler] = []
    requests: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)(request)

    adapter = REGISTRY[provider](
        settings.account("mock"), httpx.Client(transport=httpx.MockTransport(transport)),
        retry_seconds=0,
    )  # fmt: skip
    publisher, limiter, clock = Recorder(), Limiter(), Clock()
    deps = Deps(settings=settings, db=database, publisher=publisher, limiter=limiter,
                adapters=lambda _: adapter, clock=clock, worker="test-worker")  # fmt: skip
    return World(deps, publisher, limiter, clock, answers, requests)
