"""SendWindow: the default French marketing window, clock changes, parsing, and properties.

Expected instants are written as Paris wall-clock times and checked in UTC; the property tests
compare against a plain wall-clock reading on days without a clock change, which shares no
code with the module's instant arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.domain.window import (
    DEFAULT_MARKETING_WINDOW,
    END_OF_DAY,
    SendWindow,
)
from dispatcher.errors import DispatcherError, WindowError

PARIS = ZoneInfo("Europe/Paris")
DEFAULT = DEFAULT_MARKETING_WINDOW


def paris(
    y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=PARIS, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def window(spec: str) -> SendWindow:
    return SendWindow.parse(spec)


# --- the default window: Mon-Sat 08:00-20:00 Paris, closed on French public holidays ---------


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        pytest.param(paris(2026, 3, 10, 21), paris(2026, 3, 11, 8), id="tuesday-21h-to-wednesday"),
        pytest.param(paris(2026, 3, 14, 21), paris(2026, 3, 16, 8), id="saturday-21h-to-monday"),
        pytest.param(paris(2026, 3, 15, 12), paris(2026, 3, 16, 8), id="sunday-noon-to-monday"),
        pytest.param(paris(2026, 3, 10, 7, 59), paris(2026, 3, 10, 8), id="0759-to-0800"),
        pytest.param(paris(2026, 3, 10, 20), paris(2026, 3, 11, 8), id="20h-is-closed"),
        pytest.param(paris(2026, 7, 13, 21), paris(2026, 7, 15, 8), id="eve-of-14-july"),
        pytest.param(paris(2026, 7, 14, 12), paris(2026, 7, 15, 8), id="on-14-july"),
        pytest.param(paris(2026, 4, 4, 21), paris(2026, 4, 7, 8), id="before-easter-monday"),
        pytest.param(paris(2026, 5, 13, 21), paris(2026, 5, 15, 8), id="eve-of-ascension"),
        pytest.param(paris(2026, 4, 30, 21), paris(2026, 5, 2, 8), id="eve-of-1-may-a-friday"),
        pytest.param(paris(2026, 12, 24, 21), paris(2026, 12, 26, 8), id="christmas-eve-to-sat"),
        pytest.param(paris(2026, 12, 31, 21), paris(2027, 1, 2, 8), id="new-year-across-years"),
        pytest.param(paris(2026, 3, 28, 21), paris(2026, 3, 30, 8), id="over-spring-forward"),
        pytest.param(paris(2026, 10, 24, 21), paris(2026, 10, 26, 8), id="over-fall-back"),
    ],
)
def test_default_window_moves_a_closed_instant_to_the_next_opening(
    at: datetime, opens: datetime
) -> None:
    assert DEFAULT.next_open(at) == opens
    assert not DEFAULT.is_open(at)


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        pytest.param(paris(2026, 3, 10, 8), True, id="0800-exactly-open"),
        pytest.param(paris(2026, 3, 10, 19, 59, 59, 999999), True, id="last-microsecond-open"),
        pytest.param(paris(2026, 3, 10, 20), False, id="2000-exactly-closed"),
        pytest.param(paris(2026, 3, 10, 7, 59, 59, 999999), False, id="before-0800-closed"),
        pytest.param(paris(2026, 3, 14, 12), True, id="saturday-open"),
        pytest.param(paris(2026, 3, 15, 12), False, id="sunday-closed"),
        pytest.param(paris(2026, 12, 25, 12), False, id="christmas-closed"),
        pytest.param(paris(2026, 12, 26, 12), True, id="26-december-open-outside-alsace"),
    ],
)
def test_default_window_is_open_iff_next_open_is_now(at: datetime, is_open: bool) -> None:
    assert DEFAULT.is_open(at) is is_open
    assert (DEFAULT.next_open(at) == at) is is_open


@pytest.mark.parametrize(
    ("at", "opens_utc"),
    [
        pytest.param(paris(2026, 1, 12, 21), utc(2026, 1, 13, 7), id="winter-cet-0700z"),
        pytest.param(paris(2026, 7, 15, 21), utc(2026, 7, 16, 6), id="summer-cest-0600z"),
    ],
)
def test_next_open_is_returned_in_utc(at: datetime, opens_utc: datetime) -> None:
    result = DEFAULT.next_open(at)
    assert result.tzinfo is UTC
    assert (result, result.utcoffset()) == (opens_utc, timedelta(0))


def test_an_open_instant_comes_back_as_the_same_object() -> None:
    # PEP 495: an ambiguous local time never equals a UTC one, so only ``at`` itself keeps
    # next_open(at) == at true on the autumn fold.
    second_pass = paris(2026, 10, 25, 2, 15, fold=1)
    night = window("Mon-Sun 00:00-24:00 Europe/Paris holidays=none")
    assert night.next_open(second_pass) is second_pass
    assert DEFAULT.next_open(paris(2026, 3, 10, 12)) == utc(2026, 3, 10, 11)


def test_the_instant_counts_not_the_zone_it_is_written_in() -> None:
    new_york = datetime(2026, 3, 10, 16, tzinfo=ZoneInfo("America/New_York"))  # 21:00 Paris
    assert DEFAULT.next_open(new_york) == paris(2026, 3, 11, 8)


@pytest.mark.parametrize(
    ("at", "closes"),
    [
        pytest.param(paris(2026, 1, 13, 10), utc(2026, 1, 13, 19), id="winter-2000-is-1900z"),
        pytest.param(paris(2026, 7, 15, 8), utc(2026, 7, 15, 18), id="summer-2000-is-1800z"),
        pytest.param(paris(2026, 1, 13, 20), None, id="closed-at-2000"),
        pytest.param(paris(2026, 7, 14, 10), None, id="closed-on-a-holiday"),
    ],
)
def test_closes_at_gives_the_end_of_the_open_window_or_none(
    at: datetime, closes: datetime | None
) -> None:
    assert DEFAULT.closes_at(at) == closes


# --- holiday calendars -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "at", "opens"),
    [
        pytest.param("FR", paris(2026, 12, 24, 21), paris(2026, 12, 26, 8), id="fr-26-dec-open"),
        pytest.param("FR-57", paris(2026, 12, 24, 21), paris(2026, 12, 28, 8), id="moselle-26"),
        pytest.param("FR", paris(2026, 4, 2, 21), paris(2026, 4, 3, 8), id="fr-good-friday"),
        pytest.param("FR-57", paris(2026, 4, 2, 21), paris(2026, 4, 4, 8), id="moselle-good-fri"),
        pytest.param("none", paris(2026, 7, 13, 21), paris(2026, 7, 14, 8), id="no-holidays"),
    ],
)
def test_the_holiday_calendar_decides_which_days_are_shut(
    spec: str, at: datetime, opens: datetime
) -> None:
    assert window(f"Mon-Sat 08:00-20:00 Europe/Paris holidays={spec}").next_open(at) == opens


def test_a_calendar_is_built_once_per_country_and_year(monkeypatch: pytest.MonkeyPatch) -> None:
    german = window("Mon-Sat 08:00-20:00 Europe/Berlin holidays=DE")
    built: list[object] = []
    real = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> holidays.HolidayBase:
        built.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    start = datetime(2041, 3, 1, tzinfo=UTC)
    for hour in range(1000):
        german.next_open(start + timedelta(hours=hour))
    assert built.count(2041) <= 1


# --- clock changes: the gap opens at its end, the fold at the first occurrence ----------------

NIGHT_OPENING = window("Mon-Sun 02:30-20:00 Europe/Paris holidays=none")
NIGHT_CLOSING = window("Mon-Sun 00:00-02:30 Europe/Paris holidays=none")


def test_an_opening_time_in_the_spring_gap_means_the_first_instant_after_it() -> None:
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 never shows.
    assert NIGHT_OPENING.next_open(paris(2026, 3, 29, 0)) == utc(2026, 3, 29, 1)
    assert not NIGHT_OPENING.is_open(utc(2026, 3, 29, 1) - timedelta(microseconds=1))
    assert NIGHT_OPENING.is_open(utc(2026, 3, 29, 1))
    assert NIGHT_OPENING.next_open(paris(2026, 3, 28, 0)) == utc(2026, 3, 28, 1, 30)  # day before


def test_a_closing_time_in_the_spring_gap_closes_at_the_jump() -> None:
    assert NIGHT_CLOSING.closes_at(paris(2026, 3, 29, 1)) == utc(2026, 3, 29, 1)
    assert not NIGHT_CLOSING.is_open(utc(2026, 3, 29, 1))


def test_a_window_inside_the_spring_gap_does_not_open_that_day() -> None:
    sundays = window("Sun 02:00-02:30 Europe/Paris holidays=none")
    assert sundays.next_open(paris(2026, 3, 28, 12)) == paris(2026, 4, 5, 2)


def test_an_opening_time_on_the_autumn_fold_means_the_first_occurrence() -> None:
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 shows twice.
    assert NIGHT_OPENING.next_open(paris(2026, 10, 25, 0)) == utc(2026, 10, 25, 0, 30)
    first = paris(2026, 10, 25, 2, 30, fold=0).astimezone(UTC)
    assert NIGHT_OPENING.next_open(paris(2026, 10, 25, 0)) == first
    # 02:15 the second time round comes after the first 02:30: the window is already open.
    assert NIGHT_OPENING.is_open(paris(2026, 10, 25, 2, 15, fold=1))
    assert not NIGHT_OPENING.is_open(paris(2026, 10, 25, 2, 15, fold=0))


def test_a_closing_time_on_the_autumn_fold_closes_at_the_first_occurrence() -> None:
    assert NIGHT_CLOSING.closes_at(paris(2026, 10, 25, 1)) == utc(2026, 10, 25, 0, 30)
    second_pass = paris(2026, 10, 25, 2, 15, fold=1)
    assert not NIGHT_CLOSING.is_open(second_pass)
    assert NIGHT_CLOSING.next_open(second_pass) == paris(2026, 10, 26, 0)


# --- 24:00 -----------------------------------------------------------------------------------


def test_00_00_to_24_00_is_the_whole_day() -> None:
    always = window("Mon-Sun 00:00-24:00 UTC holidays=none")
    assert always.is_open(utc(2026, 3, 10, 0))
    assert always.is_open(utc(2026, 3, 10, 23, 59, 59, 999999))
    assert always.closes_at(utc(2026, 3, 10, 15)) == utc(2026, 3, 11)
    assert always.end == END_OF_DAY


def test_24_00_closes_at_local_midnight() -> None:
    evenings = window("Mon-Fri 18:00-24:00 Europe/Paris holidays=none")
    assert evenings.is_open(paris(2026, 3, 13, 23, 59, 59))
    assert evenings.closes_at(paris(2026, 3, 13, 23)) == paris(2026, 3, 14, 0)
    assert not evenings.is_open(paris(2026, 3, 14, 0))
    assert evenings.next_open(paris(2026, 3, 14, 0)) == paris(2026, 3, 16, 18)


# --- parse and describe ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("Mon-Sat 08:00-20:00 Europe/Paris holidays=FR",) * 2,
        ("Mon,Wed,Fri 09:30-18:00 Europe/Brussels holidays=BE",) * 2,
        ("Mon-Sun 00:00-24:00 UTC holidays=none",) * 2,
        ("none 08:00-20:00 UTC holidays=none",) * 2,
        ("mon-fri 9:00-17:30 UTC holidays=fr-57", "Mon-Fri 09:00-17:30 UTC holidays=FR-57"),
        ("Fri-Mon 10:00-12:00 UTC holidays=None", "Mon,Fri-Sun 10:00-12:00 UTC holidays=none"),
        ("Mon,Tue,Wed,Sat 08:00-20:00 UTC", "Mon-Wed,Sat 08:00-20:00 UTC holidays=FR"),
        (" Sat,Sun  10:00-18:00\tUTC HOLIDAYS=US ", "Sat-Sun 10:00-18:00 UTC holidays=US"),
    ],
)
def test_parse_then_describe_gives_the_canonical_spec(spec: str, canonical: str) -> None:
    parsed = SendWindow.parse(spec)
    assert parsed.describe() == canonical
    assert SendWindow.parse(canonical) == parsed


def test_the_default_window_is_the_french_marketing_window() -> None:
    explicit = SendWindow(frozenset(range(6)), time(8), time(20), "Europe/Paris", "FR")
    assert explicit == DEFAULT
    assert DEFAULT.describe() == "Mon-Sat 08:00-20:00 Europe/Paris holidays=FR"


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        pytest.param("Mon-Sam 08:00-20:00 Europe/Paris holidays=FR", "'Sam'", id="bad-day"),
        pytest.param("Lundi 08:00-20:00 Europe/Paris holidays=FR", "'Lundi'", id="french-day"),
        pytest.param("Mon-Sat 08:00-25:00 Europe/Paris holidays=FR", "'25:00'", id="hour-25"),
        pytest.param("Mon-Sat 8h-20h Europe/Paris holidays=FR", "'8h'", id="not-hh-mm"),
        pytest.param("Mon-Sat 08:60-20:00 Europe/Paris holidays=FR", "'08:60'", id="minute-60"),
        pytest.param("Mon-Sat 24:00-20:00 Europe/Paris holidays=FR", "'24:00'", id="start-24h"),
        pytest.param("Mon-Sat 08:00-00:00 Europe/Paris holidays=FR", "'00:00'", id="end-0h"),
        pytest.param("Mon-Sat 20:00-08:00 Europe/Paris holidays=FR", "20:00-08:00", id="overnight"),
        pytest.param("Mon-Sat 08:00-08:00 Europe/Paris holidays=FR", "08:00-08:00", id="empty"),
        pytest.param("Mon-Sat 08:00-20:00 Europe/Pariss holidays=FR", "'Europe/Pariss'", id="tz"),
        pytest.param("Mon-Sat 08:00-20:00 Europe/Paris holidays=XX", "'XX'", id="country"),
        pytest.param("Mon-Sat 08:00-20:00 Europe/Paris holidays=FR-99", "'FR-99'", id="subdiv"),
        pytest.param("Mon-Sat 08:00-20:00", "'Mon-Sat 08:00-20:00'", id="no-timezone"),
        pytest.param("Mon-Sat 08:00-20:00 UTC hols=FR", "hols=FR", id="bad-holidays-key"),
        pytest.param("Mon-Sat 0800 UTC", "'Mon-Sat 0800 UTC'", id="no-dash"),
        pytest.param("", "expected", id="empty-spec"),
    ],
)
def test_a_malformed_spec_is_refused_naming_the_bad_part(spec: str, named: str) -> None:
    with pytest.raises(WindowError, match=re.escape(named)) as caught:
        SendWindow.parse(spec)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DispatcherError)


MONDAY = frozenset({0})


@pytest.mark.parametrize(
    ("build", "named"),
    [
        pytest.param(lambda: SendWindow(frozenset({7}), time(8), time(20), "UTC"), "days"),
        pytest.param(lambda: SendWindow(MONDAY, time(8, 0, 30), time(20), "UTC"), "start"),
        pytest.param(lambda: SendWindow(MONDAY, time(8), time(20, tzinfo=UTC), "UTC"), "end"),
        pytest.param(lambda: SendWindow(MONDAY, time(8), time(7), "UTC"), "08:00-07:00"),
        pytest.param(lambda: SendWindow(MONDAY, time(8), time(20), "Mars/Olympus"), "Mars"),
        pytest.param(lambda: SendWindow(MONDAY, time(8), time(20), "UTC", "fr"), "'fr'"),
    ],
)
def test_a_bad_window_is_refused_when_built(build: Callable[[], SendWindow], named: str) -> None:
    with pytest.raises(WindowError, match=re.escape(named)):
        build()


@pytest.mark.parametrize("method", [DEFAULT.is_open, DEFAULT.next_open, DEFAULT.closes_at])
def test_a_naive_datetime_is_refused(method: Callable[[datetime], object]) -> None:
    with pytest.raises(ValueError, match="naive"):
        method(datetime(2026, 3, 10, 12))


def test_a_window_with_no_days_never_opens() -> None:
    never = SendWindow(frozenset(), time(8), time(20), "Europe/Paris")
    assert not never.is_open(paris(2026, 3, 10, 12))
    assert never.closes_at(paris(2026, 3, 10, 12)) is None
    with pytest.raises(WindowError, match="never opens"):
        never.next_open(paris(2026, 3, 10, 12))


# --- properties over random windows and instants -----------------------------------------------

ZONES = [
    "Europe/Paris", "Europe/London", "Europe/Dublin", "America/New_York", "America/St_Johns",
    "America/Santiago", "America/Havana", "Australia/Sydney", "Pacific/Chatham", "Asia/Kolkata",
    "UTC",
]  # fmt: skip
CALENDARS = [None, "FR", "FR-57", "BE", "US", "CL"]
FIRST, LAST = datetime(2024, 1, 1), datetime(2030, 12, 31)


def _clock_change_days() -> list[datetime]:
    """Every UTC midnight before which some zone's offset changed: where the edge cases live."""
    days: set[datetime] = set()
    for name in ZONES:
        zone, day = ZoneInfo(name), FIRST.replace(tzinfo=UTC)
        while day < LAST.replace(tzinfo=UTC):
            if (
                day.astimezone(zone).utcoffset()
                != (day + timedelta(1)).astimezone(zone).utcoffset()
            ):
                days.add(day)
            day += timedelta(1)
    return sorted(days)


CLOCK_CHANGES = _clock_change_days()


@st.composite
def windows(draw: st.DrawFn) -> SendWindow:
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(start + 1, 24 * 60))
    return SendWindow(
        draw(st.frozensets(st.integers(0, 6), min_size=1)),
        time(start // 60, start % 60),
        END_OF_DAY if end == 24 * 60 else time(end // 60, end % 60),
        draw(st.sampled_from(ZONES)),
        draw(st.sampled_from(CALENDARS)),
    )


instants = st.one_of(
    st.datetimes(FIRST, LAST, timezones=st.sampled_from([UTC, *map(ZoneInfo, ZONES[:4])])),
    st.builds(
        lambda day, minutes: day + timedelta(minutes=minutes),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-36 * 60, 36 * 60),
    ),
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wall_clock_open(window: SendWindow, at: datetime) -> bool | None:
    """The plain reading of a window, or None on a local day whose clock changes."""
    zone = ZoneInfo(window.timezone)
    local = at.astimezone(zone)
    day = local.date()
    midnights = (datetime.combine(day + timedelta(n), time(0), zone) for n in (0, 1))
    if len({m.utcoffset() for m in midnights}) > 1:
        return None
    shut = _holidays(window.holidays, day.year)
    after_start = local.time() >= window.start
    before_end = window.end == END_OF_DAY or local.time() < window.end
    return day.weekday() in window.days and day not in shut and after_start and before_end


def _holidays(code: str | None, year: int) -> holidays.HolidayBase | dict[date, str]:
    if code is None:
        return {}
    country, _, subdiv = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None, years=year)


@PROPERTY
@given(windows(), instants, st.lists(st.floats(0, 1, exclude_max=True), max_size=20))
def test_next_open_is_the_first_open_instant_at_or_after(
    window: SendWindow, at: datetime, fractions: list[float]
) -> None:
    opens = window.next_open(at)
    assert opens >= at
    assert window.is_open(opens)
    assert window.is_open(at) is (opens == at)
    if opens > at:
        probes = [at + (opens - at) * f for f in fractions] + [opens - timedelta(microseconds=1)]
        assert not any(window.is_open(probe) for probe in probes if probe < opens)
    for instant in (at, opens):
        reading = wall_clock_open(window, instant)
        assert reading is None or reading is window.is_open(instant)


@PROPERTY
@given(windows(), instants, st.lists(st.floats(0, 1, exclude_max=True), max_size=20))
def test_closes_at_ends_an_unbroken_open_stretch(
    window: SendWindow, at: datetime, fractions: list[float]
) -> None:
    closes = window.closes_at(at)
    assert (closes is not None) is window.is_open(at)
    if closes is not None:
        assert closes > at
        probes = [at + (closes - at) * f for f in fractions] + [closes - timedelta(microseconds=1)]
        assert all(window.is_open(probe) for probe in probes if probe < closes)


@settings(max_examples=200, deadline=None)
@given(windows())
def test_describe_round_trips_through_parse(window: SendWindow) -> None:
    assert SendWindow.parse(window.describe()) == window
