"""How long a batch waits before its next send or its next poll, and how long its reports
may still come (its horizon).

Shared by submit (transient answers), track (failed and successful polls) and callbacks (a
batch reconciled from a report starts polling), so that one rule of waiting holds everywhere
and no service imports another for it. Every wait computed here becomes a due time in
PostgreSQL (docs/design-rules.md 1.5), never a countdown on the broker.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from dispatcher.providers.base import Provider
from dispatcher.settings import Timings

# 2 ** 60 seconds is far above any cap; a larger exponent would only risk a float overflow
# once a provider has been down for a thousand retries.
_MAX_EXPONENT = 60


def backoff(attempt: int, timings: Timings) -> float:
    """Capped exponential backoff with equal jitter: half fixed, half random. ``attempt`` is
    the 1-based count of failures in a row (a batch's ``retries + 1``, a poll's
    ``poll_failures + 1``), unbounded in number: only time limits them."""
    exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
    ceiling = min(timings.retry_cap_seconds, timings.retry_base_seconds * 2.0**exponent)
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def first_poll_interval(timings: Timings) -> int:
    """The first poll interval in whole seconds, rounded up: 0.5 s is 1 s, never 0."""
    return max(1, math.ceil(timings.poll_first_delay_seconds))


def next_interval(current: int, timings: Timings) -> int:
    """The next poll interval in whole seconds: ``current`` times the growth, rounded up and
    at least one second more whenever the growth is above 1, so that 1.5 grows 1, 2, 3, 5, 8
    (truncating, ``int(1 * 1.5)`` stayed at 1 forever); never above the maximum."""
    cap = max(1, int(timings.poll_max_interval_seconds))
    if timings.poll_growth <= 1:
        return min(max(current, 1), cap)
    # The small epsilon keeps float noise (10 * 1.1 = 11.000000000000002) from adding a second.
    grown = max(current + 1, math.ceil(current * timings.poll_growth - 1e-9))
    return min(grown, cap)


def report_horizon(adapter: Provider, timings: Timings, *, polls: bool) -> timedelta | None:
    """How long after acceptance a batch's reports may still come: ``POLL_HORIZON_HOURS``
    when set, else the provider's own (a polled batch), or for a batch that cannot be polled
    (the bulk gateway's) its pushed reports' (``Provider.pushed_report_horizon``). None when
    no report will ever come: the batch's recipients expire at acceptance."""
    own = adapter.report_horizon if polls else adapter.pushed_report_horizon()
    if own is None:
        return None
    return timedelta(hours=timings.poll_horizon_hours) if timings.poll_horizon_hours else own
