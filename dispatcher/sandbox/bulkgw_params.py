"""Reading and validating bulk gateway request parameters (sections 1.2 and 2.1).

The query string is read from its raw bytes: the document says every parameter "should be
URL-UTF-8 encoded", and decoding the bytes here (not in a framework) is what lets a message
that is not valid UTF-8 be answered 1705 instead of being silently repaired. When a name
appears more than once the first occurrence wins; parameters the document does not define
(such as the ``ip=x`` of the example in section 1.3.1) are ignored.

Request-level errors raise :class:`RequestError` with the section 1.4 code. An invalid
destination is not a request-level error: :func:`destination_of` returns ``None`` and the
emulator answers 1706 for that destination only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl

from dispatcher.sandbox.bulkgw_text import TEXT_TYPES, fits_charset

#: Section 1.2: every parameter of the GET submission API is needed ("not provided or
#: left blank" is answer 1702).
SEND_PARAMS = ("username", "password", "type", "dlr", "destination", "source", "message")
#: Section 2.1 adds the schedule.
SCHEDULE_PARAMS = (*SEND_PARAMS, "date", "time", "gmt")

# Section 1.2 parameter 5: "may or may not include a plus [+] sign". The document gives no
# number format; the sandbox wants an international number: 8 to 15 digits (E.164), not
# starting with 0, so national forms (0612345678) and 00-prefixed forms are 1706.
_DESTINATION = re.compile(r"\+?([1-9][0-9]{7,14})")
# Section 1.2 parameter 6: "Max Length of 18 if numeric" (the '+' is not counted) and
# "Max Length of 11 if alphanumeric". "Alphanumeric" is read as ASCII letters and digits,
# plus the space, '.', '-' and '_' usual in sender names, with at least one letter and no
# leading or trailing space; anything else is 1707.
_NUMERIC_SOURCE = re.compile(r"\+?[0-9]{1,18}")
_ALPHA_SOURCE = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,9}[A-Za-z0-9._-])?")
# Section 2.1 parameters 8 to 10.
_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2}) ?([AaPp][Mm])")
_GMT = re.compile(r"(?:GMT ?)?([+-])([0-9]{1,2}):([0-9]{2})", re.IGNORECASE)


class RequestError(Exception):
    """A request-level error: the answer is this section 1.4 code alone."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def read_query(raw_query: bytes) -> dict[str, str]:
    """Raw parameters, each value one latin-1 character per received byte."""
    params: dict[str, str] = {}
    text = raw_query.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        params.setdefault(name, value)
    return params


def text_of(raw: str) -> str:
    """A parameter's UTF-8 text; invalid bytes become U+FFFD (never a valid value)."""
    return raw.encode("latin-1").decode("utf-8", "replace")


def require(params: dict[str, str], names: tuple[str, ...]) -> None:
    """1702 when a parameter is absent or blank (whitespace only counts as blank)."""
    for name in names:
        if not params.get(name, "").strip():
            raise RequestError("1702")


@dataclass(frozen=True)
class Order:
    """A request whose request-level parameters are valid (section 1.2)."""

    message_type: int
    text: str
    source: str
    dlr: bool
    destinations: list[str]


def message_type_of(raw: str) -> int:
    """Section 1.2 parameter 3: 0, 1, 2, 5, 6 or 7; 3 (reserved), 4 (WAP push: no text
    message to send) and anything else are 1704. Exactly one digit, no blanks."""
    if len(raw) != 1 or not raw.isdigit() or int(raw) not in TEXT_TYPES:
        raise RequestError("1704")
    return int(raw)


def message_of(raw: str, message_type: int) -> str:
    """Section 1.2 parameter 7: UTF-8 text the type's encoding can carry, else 1705."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("1705") from exc
    if not fits_charset(text, message_type):
        raise RequestError("1705")
    return text


def source_of(raw: str) -> str:
    """Section 1.2 parameter 6, validated as described at ``_ALPHA_SOURCE``; else 1707."""
    source = text_of(raw)
    if _NUMERIC_SOURCE.fullmatch(source) or _ALPHA_SOURCE.fullmatch(source):
        return source
    raise RequestError("1707")


def split_destinations(raw: str) -> list[str]:
    """Section 1.2 parameter 5: the comma-separated list (an encoded %2C or a literal
    comma), each item without surrounding blanks, empty items dropped."""
    return [item for item in (part.strip() for part in text_of(raw).split(",")) if item]


def destination_of(item: str) -> str | None:
    """The number to deliver to (digits, no '+'), or ``None`` for an invalid destination."""
    found = _DESTINATION.fullmatch(item)
    return None if found is None else found.group(1)


def all_plain_numbers(destinations: list[str]) -> bool:
    """True when every item is already a valid destination without '+' (what
    :func:`destination_of` would return unchanged), checked without a per-item regex."""
    joined = ",".join(destinations)
    return (
        joined.isascii()
        and joined.replace(",", "").isdigit()
        and ",0" not in f",{joined}"
        and min(map(len, destinations), default=0) >= 8
        and max(map(len, destinations), default=0) <= 15
    )


def parse_order(params: dict[str, str]) -> Order:
    """Validate the request-level parameters, in the order of the section 1.4 codes."""
    message_type = message_type_of(params["type"])
    text = message_of(params["message"], message_type)
    destinations = split_destinations(params["destination"])
    if not destinations:
        raise RequestError("1702")  # only commas and blanks: the parameter is blank
    source = source_of(params["source"])
    if params["dlr"] not in ("0", "1"):
        raise RequestError("1708")
    return Order(message_type, text, source, params["dlr"] == "1", destinations)


def scheduled_time(date: str, time: str, gmt: str) -> float:
    """Section 2.1 parameters 8 to 10 as an epoch; a bad value of any of them is 1702.

    The document gives no code for an invalid date, time or offset; 1702 ("Invalid URL")
    is the closest. ``time`` hours run 00 to 12 as documented: 00 and 12 am are midnight,
    00 and 12 pm are noon. ``gmt`` needs its sign: an unencoded '+' arrives as a blank and
    is refused, like the sign the document says to URL-encode in ``source``.
    """
    d, t, g = (
        _DATE.fullmatch(date.strip()),
        _TIME.fullmatch(time.strip()),
        _GMT.fullmatch(gmt.strip()),
    )
    if d is None or t is None or g is None:
        raise RequestError("1702")
    hours, minutes = int(t.group(1)), int(t.group(2))
    offset_hours, offset_minutes = int(g.group(2)), g.group(3)
    if hours > 12 or minutes > 59 or offset_hours > 12 or offset_minutes not in ("00", "30"):
        raise RequestError("1702")
    sign = -1 if g.group(1) == "-" else 1
    zone = timezone(sign * timedelta(hours=offset_hours, minutes=int(offset_minutes)))
    hours = hours % 12 + (12 if t.group(3).lower() == "pm" else 0)
    try:
        local = datetime(int(d.group(3)), int(d.group(1)), int(d.group(2)), hours, minutes)
    except ValueError as exc:  # 02/30/2024, month 13...
        raise RequestError("1702") from exc
    return local.replace(tzinfo=zone).astimezone(UTC).timestamp()
