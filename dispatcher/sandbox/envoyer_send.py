"""Validation of ``/api/message/send`` ("FONCTION NOUVEAU MESSAGE").

Checks run in the order of the document's error list ("Messages d'erreur"): first the
missing parameters (error 2: recipients, text, sendername, senddate, sendtime), then the bad
values (error 3: wrong numbers, no number, no message, no sendername, the four sendername
rules, senddate, sendtime, too many recipients, tag), then the length (error 4). The balance
(error 5) is the emulator's business. Choices the document leaves open are commented where
they are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatcher.sandbox.envoyer_config import INTERNATIONAL
from dispatcher.sandbox.envoyer_text import MessageTooLongError, compose
from dispatcher.sandbox.envoyer_xml import ApiError, bad, missing

#: "Détails sur le nombre de destinataires".
MAX_RECIPIENTS = {"GET": 100, "POST": 1000}
TAG_MAX = 20
SENDER_MIN, SENDER_MAX = 3, 11
_DATE = re.compile(r"[0-9]{8}")
_TIME = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class SendOrder:
    """A valid send request."""

    text: str
    length: int
    sms: int
    truncated: bool
    numbers: list[str]
    wrong_numbers: list[str]
    sender: str
    scheduled_for: float | None
    tag: str | None
    stop: bool
    long_allowed: bool
    dedupe: bool
    all_numbers_allowed: bool
    responses_allowed: bool


def flag(params: dict[str, str], name: str) -> bool:
    """Options are "=1 par défaut inactif": only the value 1 turns one on."""
    return params.get(name, "").strip() == "1"


def split_numbers(raw: str) -> list[str]:
    """The ``recipients`` list: items separated by ',', blanks around them and empty items
    ignored. Numbers are not rewritten: "+336..." or "06..." are wrong numbers, since the
    document asks for the country code without anything else (``33600000001``)."""
    return [n for n in (item.strip() for item in raw.split(",")) if n]


def _sender(raw: str) -> str:
    """``sendername``: "Limité à 11 caractères. Pas de caractères spéciaux." and at least 3
    characters (revision 2.4.0). "Special" is anything but ASCII letters and digits (blanks
    included); surrounding blanks are ignored. The four rules are checked in list order."""
    sender = raw.strip()
    if not sender:
        raise bad("No sendername found")
    if len(sender) < SENDER_MIN:
        raise bad("Sendername must be longer than 2 characters")
    if len(sender) > SENDER_MAX:
        raise bad("Sendername must be shorter than 12 characters")
    if not (sender.isascii() and sender.isalnum()):
        raise bad("Sendername cannot contain special characters")
    if sender.isdigit():
        raise bad("Sendername cannot be a number")
    return sender


def _schedule(date_raw: str, time_raw: str, zone: ZoneInfo, now: float) -> float | None:
    """``senddate`` YYYYMMDD and ``sendtime`` HHMM in the provider's local time (France).

    The document does not say what a past date does: like an absent one, it sends at once.
    """
    if not date_raw:
        return None
    if not _DATE.fullmatch(date_raw):
        raise bad("Senddate must contains 8 digits")
    try:
        day = datetime.strptime(date_raw, "%Y%m%d")
    except ValueError as exc:
        raise bad("Unrecognized date") from exc
    if not _TIME.fullmatch(time_raw):
        raise bad("Sendtime must contains 4 digits")
    hour, minute = int(time_raw[:2]), int(time_raw[2:])
    if hour > 23:
        raise bad("Bad hour value for sendtime")
    if minute > 59:
        raise bad("Bad minute value for sendtime")
    when = day.replace(hour=hour, minute=minute, tzinfo=zone).timestamp()
    return when if when > now else None


def _tag(params: dict[str, str]) -> str | None:
    """``tag``: "Alphanumérique limité à 20 caractères". Only the two documented errors are
    enforced (no error exists for a non-alphanumeric tag, so any character is accepted)."""
    if "tag" not in params:
        return None
    tag = params["tag"]
    if not tag.strip():
        raise bad("Tag cannot be empty")
    if len(tag) > TAG_MAX:
        raise bad("Tag must must be shorter than 21 characters.")  # sic, the document's text
    return tag


def parse_send(params: dict[str, str], method: str, now: float, zone: ZoneInfo) -> SendOrder:
    """Validate a send request; raises :class:`ApiError` (errors 2, 3 and 4)."""
    for name, detail in (
        ("recipients", "Recipients are missing"),
        ("text", "Text is missing"),
        ("sendername", "Sendername is missing"),
    ):
        if name not in params:
            raise missing(detail)
    # Optional parameters: an empty value is the same as an absent one.
    date_raw, time_raw = params.get("senddate", "").strip(), params.get("sendtime", "").strip()
    if time_raw and not date_raw:
        raise missing("Senddate is missing")
    if date_raw and not time_raw:
        raise missing("Sendtime is missing")
    numbers = split_numbers(params["recipients"])
    dedupe = flag(params, "dedupe")
    if dedupe:
        numbers = list(dict.fromkeys(numbers))  # keeps the first occurrence's position
    all_allowed = flag(params, "allnumberallowed")
    wrong = [n for n in numbers if not INTERNATIONAL.fullmatch(n)]
    if wrong and not all_allowed:
        raise bad(f"Wrong numbers : {','.join(wrong)}")
    if not numbers:
        raise bad("No number found")
    text = params["text"]
    if not text.strip():
        raise bad("No message found")
    sender = _sender(params["sendername"])
    scheduled_for = _schedule(date_raw, time_raw, zone, now)
    # The limit counts the recipients left after dedupe, wrong numbers included. HEAD is
    # processed as the GET it stands for.
    if len(numbers) > MAX_RECIPIENTS["POST" if method == "POST" else "GET"]:
        raise bad("Too many recipients")
    tag = _tag(params)
    stop, long_allowed = flag(params, "stopsms"), flag(params, "longmessageallowed")
    try:
        composed = compose(
            text,
            stop=stop,
            long_allowed=long_allowed,
            truncation_allowed=flag(params, "messagetruncationallowed"),
        )
    except MessageTooLongError as exc:
        raise ApiError(4) from exc
    return SendOrder(
        text=composed.text,
        length=composed.length,
        sms=composed.sms,
        truncated=composed.truncated,
        numbers=numbers,
        wrong_numbers=wrong,
        sender=sender,
        scheduled_for=scheduled_for,
        tag=tag,
        stop=stop,
        long_allowed=long_allowed,
        dedupe=dedupe,
        all_numbers_allowed=all_allowed,
        responses_allowed=flag(params, "responsestatusid"),
    )
