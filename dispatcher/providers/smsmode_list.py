"""sMsmode's list of sent messages (section 10, ``smsList.do``): finding a send whose answer
never came.

This is part of the sMsmode adapter: :class:`SmsmodeSentList` holds ``find_submission`` and
:class:`dispatcher.providers.smsmode.SmsmodeProvider` inherits it, as it inherits the batch
file. Reading and matching the list are pure functions, tested with the document's shapes.

Section 10 gives the request (``accessToken``, ``offset`` = "number of SMS messages to fetch",
50 by default), one answer pattern ``smsId | sent_date | SMS_Message_text | Recipient_MSISDN |
cost_in_credit | recipient_count |`` and the error codes 31, 32, 35. What this module decides
where the document is silent (docs/providers.md, "smsList.do"):

- one message per line, newest first; a text may itself hold line breaks, so a record ends
  at the line that closes its six fields, not at every line break;
- ``sent_date`` is read as ``ddMMyyyy-HH:mm`` (the format of ``date_envoi``, section 3, the
  same date) or ``yyyy-MM-dd HH:mm:ss`` (section 12's), in the account's zone;
- which recipient a multi-recipient line names is not said: any of the batch's numbers
  matches;
- the listed text may carry the STOP mention sMsmode appends (section 3) and '?' for
  characters outside its table: texts are compared after mapping every character outside
  printable ASCII to '?', and the listed text need only start with ours;
- an answer that is a code alone (``31``, ``32 | Authentication error``) is an error.

A line matches the probe when its recipient count equals the request's, its number is one of
the request's, its date lies in the send window (a minute of slack each side: the date has
minutes only), its text matches and its id is no other batch's. One match is ``Found``; two
are ``Undecided`` (never guess between two submissions); none, with the list reaching back
before the window (or holding fewer lines than asked, so the whole history), is ``Absent``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from dispatcher.domain.placement import Absent, Found, Placement, SubmissionProbe, Undecided
from dispatcher.providers.base import Provider

PATH = "/http/1.6/smsList.do"  # section 10
DEFAULT_OFFSET = 50  # section 10: "default set to 50"
# Never asked for in the document; the product's ceiling on one read, so that one answer
# stays small. A busier account than that within one send window is Undecided, then unplaced.
MAX_OFFSET = 1000
SLACK = timedelta(minutes=1)  # the listed date has minutes only
DATE_FORMATS = ("%d%m%Y-%H:%M", "%Y-%m-%d %H:%M:%S")  # sections 3 and 12
ERRORS = {"31": "Internal error", "32": "Authentication error", "35": "Invalid parameter"}

_ERROR = re.compile(r"([0-9]{1,2})(?:\s*\|.*)?", re.DOTALL)
_RECORD = re.compile(
    r"^[ \t]*(?P<id>[A-Za-z0-9]+)[ \t]*\|[ \t]*(?P<date>[^|\n]+?)[ \t]*\|"
    r"(?P<text>.*?)\|[ \t]*(?P<msisdn>\+?[0-9]+)[ \t]*\|[ \t]*(?P<cost>[0-9]+(?:[.,][0-9]+)?)"
    r"[ \t]*\|[ \t]*(?P<count>[0-9]+)[ \t]*\|?[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_NOT_PLAIN = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class Listed:
    """One line of smsList.do."""

    sms_id: str
    sent_at: datetime
    text: str
    msisdn: str
    recipients: int


def offset_for(probe: SubmissionProbe) -> int:
    """Enough lines to reach back past the send window: twice the account's requests since it
    began (others' requests interleave), plus the default page, within the ceiling."""
    return min(MAX_OFFSET, 2 * probe.recent_sends + DEFAULT_OFFSET)


def parse_list(body: str, zone: ZoneInfo) -> list[Listed]:
    """The lines of an answer, newest first as listed; ValueError when the answer is an error
    code or not the documented pattern."""
    body = body.strip()
    if not body:
        return []
    error = _ERROR.fullmatch(body)
    if error is not None:
        code = error[1]
        raise ValueError(f"smsList.do answered {code} ({ERRORS.get(code, 'undocumented code')})")
    listed: list[Listed] = []
    end = 0
    for found in _RECORD.finditer(body):
        if body[end : found.start()].strip():
            raise ValueError(f"unreadable line in smsList.do: {body[end : found.start()][:120]!r}")
        listed.append(
            Listed(
                sms_id=found["id"],
                sent_at=_date(found["date"], zone),
                text=found["text"].strip(),
                msisdn=found["msisdn"].lstrip("+"),
                recipients=int(found["count"]),
            )
        )
        end = found.end()
    if body[end:].strip():
        raise ValueError(f"unreadable line in smsList.do: {body[end:][:120]!r}")
    return listed


def place(listed: list[Listed], probe: SubmissionProbe, asked: int) -> Placement:
    """What the list proves about ``probe`` (see the module docstring)."""
    start, end = probe.sent_after - SLACK, probe.sent_before + SLACK
    numbers = {n.lstrip("+") for n in probe.msisdns}
    matches = [
        line
        for line in listed
        if line.recipients == len(numbers)
        and line.msisdn in numbers
        and start <= line.sent_at <= end
        and line.sms_id not in probe.taken_refs
        and _same_text(line.text, probe.text)
    ]
    if len(matches) == 1:
        line = matches[0]
        return Found(line.sms_id, f"smsList.do line {line.sms_id} sent {line.sent_at.isoformat()}")
    if matches:
        ids = ", ".join(m.sms_id for m in matches)
        return Undecided(f"{len(matches)} messages in smsList.do match the batch: {ids}")
    oldest = min((line.sent_at for line in listed), default=None)
    if len(listed) < asked:  # the account's whole list: nothing older exists
        return Absent(start, end, f"not among the account's {len(listed)} listed message(s)")
    if oldest is not None and oldest < start:
        return Absent(start, end, f"not among {len(listed)} listed messages back to {oldest}")
    return Undecided(f"smsList.do's last {asked} messages do not reach back to {start}")


def _same_text(listed: str, ours: str | None) -> bool:
    if ours is None:  # a batch file: one text per recipient, the line shows one of them
        return True
    return _plain(listed).startswith(_plain(ours))


def _plain(text: str) -> str:
    return " ".join(_NOT_PLAIN.sub("?", text).split())


def _date(value: str, zone: ZoneInfo) -> datetime:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"sent_date {value!r} matches none of {DATE_FORMATS}")


class SmsmodeSentList(Provider):
    """The sent-list half of the sMsmode adapter (section 10); the adapter inherits it."""

    can_find_submissions = True

    def find_submission(self, probe: SubmissionProbe) -> Placement:
        asked = offset_for(probe)
        token = self.account.secret("access_token")
        params = {"accessToken": token, "offset": str(asked)}
        answer = self._exchange(httpx.Request("GET", self.url(PATH), params=params))
        if answer.response is None:
            return Undecided(f"smsList.do: {answer.error}")
        status = answer.response.status_code
        if status != 200:
            return Undecided(f"smsList.do: HTTP {status}")
        try:
            listed = parse_list(answer_text(answer.response), self.zone)
        except ValueError as exc:
            return Undecided(str(exc))
        return place(listed, probe, asked)


def answer_text(response: httpx.Response) -> str:
    """An answer's text, this one's and every other sMsmode answer's (the adapter's too).
    The document names no charset: UTF-8, else ISO-8859-15 (section 3's)."""
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        return response.content.decode("iso-8859-15")
