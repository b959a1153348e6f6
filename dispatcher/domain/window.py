"""When a marketing SMS may go out: a weekly window of local hours, shut on public holidays.

French practice keeps marketing SMS to reasonable hours (by default Mon-Sat, 08:00-20:00 Paris
time, never on a public holiday: docs/architecture.md, "A campaign's text"). A batch found
outside its window is not failed: its due time moves to :meth:`SendWindow.next_open` and it
waits in PostgreSQL, like every wait (docs/architecture.md, "Never a recipient silently lost").

Times are wall-clock times. One the clock skips (spring forward) means the first instant after
the gap; one shown twice (autumn fold), the first occurrence: a window opens at most once a day.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from dispatcher.errors import WindowError

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# As an ``end``, midnight means 24:00: a ``time`` cannot say it and no end falls at 00:00.
END_OF_DAY = time(0)
# Calendars repeat yearly, so a window shut for 400 days in a row is shut for good.
SEARCH_DAYS = 400
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_SPEC = re.compile(r"(\S+)\s+(\S+?)-(\S+)\s+(\S+)(?:\s+holidays=(\S+))?", re.IGNORECASE)


@dataclass(frozen=True)
class SendWindow:
    """Open on ``days`` (0 = Monday) from ``start`` to ``end`` (exclusive; END_OF_DAY = 24:00)
    in ``timezone``, except on the public holidays of ``holidays`` (None: no holidays).
    """

    days: frozenset[int]
    start: time
    end: time
    timezone: str
    holidays: str | None = "FR"

    def __post_init__(self) -> None:
        """Refuse a bad window when it is built (settings load), not when a batch meets it."""
        if not self.days <= frozenset(range(7)):
            raise WindowError(f"days {sorted(self.days)}: use 0 (Monday) to 6 (Sunday)")
        for name, clock in (("start", self.start), ("end", self.end)):
            if clock.tzinfo is not None or clock.second or clock.microsecond:
                raise WindowError(f"{name} {clock}: give whole minutes of local time, no zone")
        if self.end != END_OF_DAY and self.end <= self.start:
            raise WindowError(f"times {self._times()}: the end must come after the start")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise WindowError(f"unknown time zone {self.timezone!r}") from None
        if self.holidays is not None:
            try:  # no years: checks country and subdivision without computing a calendar
                holidays_lib.country_holidays(*_calendar(self.holidays), years=[])
            except NotImplementedError as exc:
                raise WindowError(f"unknown holiday calendar {self.holidays!r}: {exc}") from None

    def is_open(self, at: datetime) -> bool:
        """Whether a marketing batch may be sent at ``at`` (timezone-aware)."""
        return self.closes_at(at) is not None

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if open, else the next opening (UTC): a waiting batch's due time.

        The very object, so ``next_open(at) == at`` holds even for a local time on a fold,
        which PEP 495 makes unequal to every datetime of another zone, UTC included.
        """
        today, instant = self._local_day(at), at.astimezone(UTC)
        for offset in range(SEARCH_DAYS + 1):
            span = self._span(today + timedelta(days=offset))
            if span is not None and instant < span[1]:
                return at if span[0] <= instant else span[0]
        raise WindowError(f"send window {self.describe()!r} never opens: {SEARCH_DAYS} days shut")

    def closes_at(self, at: datetime) -> datetime | None:
        """When the local day's window holding ``at`` closes (UTC), None if shut at ``at``: with
        24:00 ends the next day's may open at that very instant, so ask :meth:`next_open` then.
        """
        span = self._span(self._local_day(at))
        return span[1] if span is not None and span[0] <= at < span[1] else None

    @classmethod
    def parse(cls, spec: str) -> SendWindow:
        """Read a setting such as ``Mon-Sat 08:00-20:00 Europe/Paris holidays=FR``.

        Days: three-letter names, ranges (``Fri-Mon`` wraps), lists or ``none``. Without
        ``holidays=`` the field's default (FR) applies, as when the class is built in code.
        """
        match = _SPEC.fullmatch(spec.strip())
        if match is None:
            raise WindowError(f"{spec!r}: expected DAYS HH:MM-HH:MM ZONE [holidays=CC|none]")
        days, opening, closing, zone, calendar = match.groups()
        holidays = cls.holidays if calendar is None else calendar.upper()
        start, end = _parse_clock(opening), _parse_clock(closing, end=True)
        return cls(_parse_days(days), start, end, zone, None if holidays == "NONE" else holidays)

    def describe(self) -> str:
        """The canonical spec, for settings screens and logs: ``parse(describe()) == self``."""
        days, calendar = _describe_days(self.days), self.holidays or "none"
        return f"{days} {self._times()} {self.timezone} holidays={calendar}"

    def _local_day(self, at: datetime) -> date:
        if at.utcoffset() is None:
            raise ValueError(f"{at.isoformat()} is naive: give a timezone-aware datetime")
        return at.astimezone(ZoneInfo(self.timezone)).date()

    def _times(self) -> str:
        closing = "24:00" if self.end == END_OF_DAY else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{closing}"

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC instants the window opens and closes on local ``day``, None if shut all day
        (or squeezed to nothing by a gap). All fall on ``day`` locally, so a date lookup is enough.
        """
        if day.weekday() not in self.days:
            return None
        if self.holidays is not None and day in _closed_days(*_calendar(self.holidays), day.year):
            return None
        zone = ZoneInfo(self.timezone)
        opens = _instant(day, self.start, zone)
        closes = _instant(day + timedelta(days=self.end == END_OF_DAY), self.end, zone)  # 24:00
        return (opens, closes) if opens < closes else None


@cache
def _closed_days(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """One year's public holidays, built once per calendar: a million batches share it."""
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdiv, years=year).keys())


def _calendar(code: str) -> tuple[str, str | None]:
    """``FR`` -> (FR, None); ``FR-57`` -> (FR, 57), as the holidays library names them."""
    country, _, subdiv = code.partition("-")
    return country, subdiv or None


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which the clock in ``zone`` shows ``clock`` on ``day`` or later.

    fold=0 is the first occurrence on a fold. In a gap fold=0 lands after the transition and
    fold=1 before it (PEP 495): the transition, the first instant after the gap, is between.
    """
    wall = datetime.combine(day, clock, tzinfo=zone)
    utc = wall.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return utc
    after = utc.astimezone(zone).utcoffset()
    low, high = int(wall.replace(fold=1).timestamp()), int(utc.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for item in text.split(",") if text.lower() != "none" else ():
        ends = item.split("-", 1)
        unknown = [name for name in ends if name.title() not in DAY_NAMES]
        if unknown:
            raise WindowError(f"unknown day {unknown[0]!r} in {text!r}: use {', '.join(DAY_NAMES)}")
        low, high = (DAY_NAMES.index(name.title()) for name in (ends[0], ends[-1]))
        days.update((low + step) % 7 for step in range((high - low) % 7 + 1))
    return frozenset(days)


def _parse_clock(text: str, *, end: bool = False) -> time:
    match = _CLOCK.fullmatch(text)
    hour, minute = (int(match[1]), int(match[2])) if match else (99, 99)
    if end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if hour < 24 and minute < 60 and not (end and hour == minute == 0):
        return time(hour, minute)
    limits = "00:01 to 24:00 (end of the day)" if end else "00:00 to 23:59"
    raise WindowError(f"bad {'end' if end else 'start'} time {text!r}: use HH:MM, {limits}")


def _describe_days(days: frozenset[int]) -> str:
    """Runs of consecutive days as ranges, Monday first: {0, 4, 5, 6} -> ``Mon,Fri-Sun``."""
    pairs = itertools.groupby(enumerate(sorted(days)), lambda pair: pair[1] - pair[0])
    runs = [[day for _, day in run] for _, run in pairs]
    names = [DAY_NAMES[r[0]] + (f"-{DAY_NAMES[r[-1]]}" if len(r) > 1 else "") for r in runs]
    return ",".join(names) or "none"


DEFAULT_MARKETING_WINDOW = SendWindow.parse("Mon-Sat 08:00-20:00 Europe/Paris holidays=FR")
