"""Fairness without a database: publishing a campaign's next batch can never stop the send
of the batch just claimed. The window's rule itself is SQL, tested on PostgreSQL in
tests/integration/test_fairness.py; its setting in tests/unit/test_settings.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import pytest

from dispatcher.services.deps import Deps
from dispatcher.services.submit import publish_following


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
