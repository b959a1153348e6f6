"""The date options of ``dispatcher campaigns``: a bare date is a whole local day, so
``--until`` includes it; anything else is refused naming the formats it takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest

from dispatcher.cli.listing import day_or_time


def test_since_a_date_starts_at_that_days_local_midnight() -> None:
    since = day_or_time("2026-03-07", end=False)

    assert (since.year, since.month, since.day, since.hour, since.minute) == (2026, 3, 7, 0, 0)
    assert since.tzinfo is not None


def test_until_a_date_includes_the_whole_day() -> None:
    until = day_or_time("2026-03-07", end=True)

    assert until - day_or_time("2026-03-07", end=False) == timedelta(days=1)


def test_a_time_with_a_zone_is_taken_as_given() -> None:
    assert day_or_time("2026-03-07T10:30:00+00:00", end=True) == datetime(
        2026, 3, 7, 10, 30, tzinfo=UTC
    )


def test_a_malformed_date_is_refused_naming_the_formats() -> None:
    with pytest.raises(click.BadParameter, match="YYYY-MM-DD"):
        day_or_time("07/03/2026", end=False)
