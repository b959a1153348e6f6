"""sMsmode emulator: the list of sent messages (section 10, ``smsList.do``).

Written from the document alone, as the rest of the emulator is. Section 10 gives the request
(``accessToken``; optional ``offset``, "number of SMS messages to fetch (default set to 50)"),
the answer's pattern ``smsId | sent_date | SMS_Message_text | Recipient_MSISDN |
cost_in_credit | recipient_count |`` and the errors 31, 32 and 35. Where it is silent the
sandbox chooses, and docs/providers.md ("smsList.do") writes the same choices down:

- one message per line, most recent first, lines separated by ``\\n``; the text is written as
  accepted (STOP mention included, '?' replacements made), line breaks and all;
- ``sent_date`` in ``ddMMyyyy-HH:mm`` (the format section 3 gives ``date_envoi``), on the
  sandbox's clock in its configured zone; a scheduled message shows its send time;
- a message to several recipients shows its first recipient;
- ``cost_in_credit`` as section 5 writes a balance (``212.5``);
- deleted messages are not listed (they were never sent, or the account removed them);
- an ``offset`` that is not a positive whole number is an invalid parameter (35).
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from starlette.responses import PlainTextResponse, Response

from dispatcher.sandbox.context import SandboxContext
from dispatcher.sandbox.store import Submission

PROVIDER = "smsmode"
DEFAULT_OFFSET = 50
DATE = "%d%m%Y-%H:%M"
LIST = {"31": "Internal error", "32": "Authentication error", "35": "Invalid parameter"}


def error(code: str) -> Response:
    return PlainTextResponse(f"{code} | {LIST[code]}")


def sms_list(ctx: SandboxContext, params: dict[str, str], zone: ZoneInfo) -> Response:
    token = params.get("accessToken", "").strip()
    if not token:
        return error("35")
    if ctx.store.account(token) is None:
        return error("32")
    raw = params.get("offset", "").strip()
    if raw and not (raw.isdigit() and int(raw) > 0):
        return error("35")
    offset = int(raw) if raw else DEFAULT_OFFSET
    listed = (s for s in ctx.store.newest_first(PROVIDER, token) if not s.deleted)
    lines = [line(s, zone) for s in islice(listed, offset)]
    return PlainTextResponse("\n".join(lines))


def line(sub: Submission, zone: ZoneInfo) -> str:
    sent = datetime.fromtimestamp(sub.base, zone).strftime(DATE)
    first = sub.numbers.split(",", 1)[0]
    fields = (sub.id, sent, sub.text, first, _credits(sub.cost), str(sub.count))
    return " | ".join(fields) + " |"


def _credits(cost: float) -> str:
    text = f"{cost:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
