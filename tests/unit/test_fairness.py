"""Fairness without a database: the window of queued batches per campaign is a setting, and
publishing a campaign's next batch can never stop the send of the batch just claimed. The
window's rule itself is SQL, tested on PostgreSQL in tests/integration/test_fairness.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.services.deps import Deps
from dispatcher.services.submit import publish_following
from dispatcher.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(__import__("os").environ):
        if name.startswith("DISPATCHER_"):
            monkeypatch.delenv(name)


def test_the_window_of_queued_batches_per_campaign_comes_from_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN", "3")
    assert load_settings().timings.queued_batches_per_campaign == 3


def test_a_window_of_no_batch_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A window of 0 would publish nothing, and no campaign would ever be sent."""
    monkeypatch.setenv("DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN", "0")
    with pytest.raises(ConfigurationError, match="DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN"):
        load_settings()


class _DownBroker:
    def plan(self, campaign_id: int) -> None:
        raise ConnectionError("broker down")

    def submit(self, batch_ids: Sequence[int]) -> None:
        raise ConnectionError("broker down")

    def poll(self, batch_ids: Sequence[int]) -> None:
        raise ConnectionError("broker down")


class _Deps:
    publisher = _DownBroker()


def test_a_broker_refusing_the_next_batch_leaves_the_claimed_one_to_be_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        publish_following(cast(Deps, _Deps()), 7, [41, 42])
    assert "the sweeper will" in caplog.text
