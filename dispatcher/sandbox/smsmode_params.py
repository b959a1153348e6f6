"""Reading and validating sMsmode request parameters ("sMsmode HTTP API 1.6").

Parameters are read from the raw bytes of the query string and, for POST, of an
``application/x-www-form-urlencoded`` body, because the charset depends on a parameter
(``classe_msg``): a framework decoding everything as UTF-8 first would hide a client that
sends UTF-8 where the document asks for ISO-8859-15. Each value is kept as a latin-1 string
(one character per received byte) until its charset is known.

When a name appears more than once, the first occurrence wins, query string before body,
as a Java servlet's ``getParameter`` does (the API is a Java application: ``*.do`` URLs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from starlette.requests import Request

from dispatcher.sandbox.config import SmsmodeConfig
from dispatcher.sandbox.smsmode_text import (
    UNICODE_CLASS,
    compose,
    decode_message,
    decode_param,
)

#: Section 3: classe_msg 2 (SMS Pro, default), 4 (reply allowed); section 16: 9 (Unicode).
CLASSES = frozenset({2, 4, UNICODE_CLASS})
_DATE = re.compile(r"\d{8}-\d{2}:\d{2}")
_FORM = "application/x-www-form-urlencoded"


class InvalidParameterError(ValueError):
    """Answer 35: a mandatory parameter is missing or a parameter is invalid."""


def _merge(params: dict[str, str], raw: bytes) -> None:
    text = raw.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        params.setdefault(name, value)


async def read_params(request: Request) -> dict[str, str]:
    """Raw parameters (latin-1 strings) from the query string, then a form body."""
    params: dict[str, str] = {}
    _merge(params, request.scope.get("query_string", b""))
    if request.method == "POST":
        content_type = request.headers.get("content-type", _FORM).split(";")[0].strip().lower()
        body = await request.body()
        if content_type == _FORM and body:
            _merge(params, body)
    return params


def classe_of(params: dict[str, str]) -> int:
    """``classe_msg`` (default 2); raises :class:`InvalidParameterError` for other values."""
    raw = params.get("classe_msg", "").strip()
    if not raw:
        return 2
    if not raw.isdigit() or int(raw) not in CLASSES:
        raise InvalidParameterError("classe_msg")
    return int(raw)


def normalise_number(item: str) -> str:
    """Section 3: French national 06/07 numbers become international 336/337 numbers.

    Anything else is kept as given (surrounding blanks removed): an international number
    is already in the documented 336xxxxxxxx form, and a malformed one is accepted and
    later reported as invalid (3998) instead of refusing the whole request.
    """
    item = item.strip()
    if len(item) == 10 and item[0] == "0" and item[1] in "67" and item.isdigit():
        return "33" + item[1:]
    return item


def split_numbers(raw: str) -> list[str]:
    """The comma-separated ``numero`` list, normalised, empty items dropped."""
    if raw.split(None, 1) == [raw] and ",0" not in f",{raw}":
        return [n for n in raw.split(",") if n]  # nothing to strip or normalise: fast path
    return [n for n in (normalise_number(item) for item in raw.split(",")) if n]


@dataclass(frozen=True)
class SendOrder:
    """A valid sendSMS request, before authentication of the balance."""

    message: str
    text: str
    parts: int
    numbers: list[str]
    classe_msg: int
    sender: str | None
    ref_client: str | None
    notification_url: str | None
    reply_url: str | None
    scheduled_for: float | None
    stop: int
    nbr_msg: int


def parse_sender(raw: str, classe_msg: int) -> str | None:
    """Section 3 ``emetteur``: at most 11 characters, no blank, no accent, not an MSISDN;
    not available with classe_msg=4. Printable ASCII except space is accepted."""
    sender = decode_param(raw, classe_msg)
    if not sender:
        return None
    if classe_msg == 4 or len(sender) > 11:
        raise InvalidParameterError("emetteur")
    if not all("!" <= c <= "~" for c in sender) or sender.lstrip("+").isdigit():
        raise InvalidParameterError("emetteur")
    return sender


def parse_url(raw: str, classe_msg: int, name: str) -> str | None:
    """An optional http(s) callback URL (``notification_url``, ``notification_url_reponse``)."""
    url = decode_param(raw, classe_msg).strip()
    if not url:
        return None
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidParameterError(name)
    return url


def int_param(raw: str, name: str, default: int) -> int:
    """An optional positive integer such as ``nbr_msg``; blank gives ``default``."""
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidParameterError(name)
    return int(raw)


def parse_date(raw: str, zone: ZoneInfo, now: float) -> float | None:
    """Section 3 ``date_envoi`` (ddMMyyyy-HH:mm, local time of ``zone``).

    Returns the send time when it is in the future, None (send now) when it is not.
    """
    raw = raw.strip()
    if not raw:
        return None
    if not _DATE.fullmatch(raw):
        raise InvalidParameterError("date_envoi")
    try:
        when = datetime.strptime(raw, "%d%m%Y-%H:%M").replace(tzinfo=zone).timestamp()
    except ValueError as exc:
        raise InvalidParameterError("date_envoi") from exc
    return when if when > now else None


def parse_send(
    params: dict[str, str], method: str, now: float, zone: ZoneInfo, config: SmsmodeConfig
) -> SendOrder:
    """Validate a sendSMS request; raises :class:`InvalidParameterError` (answer 35)."""
    classe_msg = classe_of(params)
    message = decode_message(params.get("message", ""), classe_msg)
    if not message:
        raise InvalidParameterError("message")
    # No contact group exists in the sandbox: "groupe" alone is a missing "numero".
    numbers = split_numbers(params.get("numero", ""))
    if not numbers:
        raise InvalidParameterError("numero")
    # Section 3: "When using HTTP GET list size is limited to 300". The document gives no
    # answer code for a longer list; the sandbox answers 35 (invalid parameter).
    if method == "GET" and len(numbers) > config.get_max_recipients:
        raise InvalidParameterError("numero")
    stop_raw = params.get("stop", "").strip()
    if stop_raw not in ("", "1", "2"):
        raise InvalidParameterError("stop")
    stop = int(stop_raw or 0)
    nbr_msg = int_param(params.get("nbr_msg", ""), "nbr_msg", 5)
    composed = compose(message, classe_msg, nbr_msg, stop, config.stop_mention)
    ref_client = decode_param(params.get("refClient", ""), classe_msg) or None
    return SendOrder(
        message=message,
        text=composed.text,
        parts=composed.parts,
        numbers=numbers,
        classe_msg=classe_msg,
        sender=parse_sender(params.get("emetteur", ""), classe_msg),
        ref_client=ref_client,
        notification_url=parse_url(params.get("notification_url", ""), classe_msg, "url"),
        reply_url=parse_url(params.get("notification_url_reponse", ""), classe_msg, "url"),
        scheduled_for=parse_date(params.get("date_envoi", ""), zone, now),
        stop=stop,
        nbr_msg=nbr_msg,
    )
