"""The rules submit applies to provider answers, without a database."""

from __future__ import annotations

import pytest

from dispatcher.domain.models import RecipientResult, SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.services.pacing import backoff
from dispatcher.services.submit import batch_outcome
from dispatcher.settings import Timings

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("per_destination", "batch"),
    [
        ([A, A], A),
        ([A, P], A),  # the refused ones fail, the batch goes on to tracking
        ([A, T], T),  # retry: only the still-queued destination is sent again
        ([U, P], U),  # may have gone: an operator decides
        ([P, P], P),
        ([A, U], A),
    ],
)
def test_a_batch_outcome_follows_its_destinations(
    per_destination: list[Outcome], batch: Outcome
) -> None:
    results = [
        RecipientResult(f"3361234567{i}", outcome, "x") for i, outcome in enumerate(per_destination)
    ]
    assert batch_outcome(SendResult(A, None, "", recipients=results)) is batch


def test_backoff_grows_and_stays_under_its_cap() -> None:
    timings = Timings(retry_base_seconds=2, retry_cap_seconds=30)
    ceilings = [min(30, 2 * 2 ** (n - 1)) for n in range(1, 10)]
    for attempt, ceiling in enumerate(ceilings, start=1):
        delay = backoff(attempt, timings)
        assert ceiling / 2 <= delay <= ceiling
