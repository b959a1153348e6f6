"""How long a batch waits before its next poll or send (services/pacing.py), without a database."""

from __future__ import annotations

import pytest

from dispatcher.services.pacing import backoff, first_poll_interval, next_interval
from dispatcher.settings import Timings


def _sequence(start: int, timings: Timings, steps: int) -> list[int]:
    intervals = [start]
    for _ in range(steps):
        intervals.append(next_interval(intervals[-1], timings))
    return intervals


def test_a_growth_below_two_still_grows_from_one_second() -> None:
    timings = Timings(poll_growth=1.5, poll_max_interval_seconds=3600)
    assert _sequence(1, timings, 5) == [1, 2, 3, 5, 8, 12]


def test_a_growth_of_two_doubles_the_interval() -> None:
    timings = Timings(poll_growth=2, poll_max_interval_seconds=3600)
    assert _sequence(1, timings, 4) == [1, 2, 4, 8, 16]


@pytest.mark.parametrize("growth", [1.1, 1.5, 2.0, 3.0])
def test_the_interval_reaches_its_maximum_and_stays_there(growth: float) -> None:
    timings = Timings(poll_growth=growth, poll_max_interval_seconds=60)
    intervals = _sequence(1, timings, 100)
    assert max(intervals) == 60
    assert intervals[-3:] == [60, 60, 60]


def test_no_growth_keeps_the_interval() -> None:
    timings = Timings(poll_growth=1, poll_max_interval_seconds=60)
    assert next_interval(7, timings) == 7


def test_a_batch_without_an_interval_yet_starts_at_one_second() -> None:
    assert next_interval(0, Timings(poll_growth=1.5)) == 1


@pytest.mark.parametrize(("delay", "interval"), [(0, 1), (0.5, 1), (1, 1), (2.5, 3), (10, 10)])
def test_the_first_interval_is_the_first_delay_rounded_up_and_never_zero(
    delay: float, interval: int
) -> None:
    assert first_poll_interval(Timings(poll_first_delay_seconds=delay)) == interval


def test_backoff_stays_under_its_cap_after_any_number_of_retries() -> None:
    timings = Timings(retry_base_seconds=2, retry_cap_seconds=300)
    for failures in (1, 10, 1_000, 100_000):  # an outage of days at the cap, unbounded in count
        assert backoff(failures, timings) <= 300
    assert backoff(100_000, timings) >= 150
