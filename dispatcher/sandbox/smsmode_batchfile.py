"""sMsmode batch mode: ``sendSMSBatch.do`` with an attached CSV file (section 17).

Written from "sMsmode HTTP API 1.6" only (English v3.3 section 17, French v3.1). The request
is a ``multipart/form-data`` POST whose part ``fichier`` (the name of the curl example) holds
a CSV file; ``accessToken`` and the optional parameters (``classe_msg``, ``date_envoi``,
``refClient``, ``emetteur``, ``nbr_msg``, ``notification_url``) come from the query string,
then from the other parts of the form (first occurrence wins, as for sendSMS). The whole
body is read as raw bytes, like every sMsmode parameter (see :mod:`smsmode_params`).

The file (section 17: "The file encoding should be under ISO-8859-15 format"):

- a header line ``numero,message,emetteur`` with an optional fourth ``refClient`` (names
  compared case-insensitively, blanks around them ignored, quoted or not). The English
  example names three columns but gives four values per row, the French one names the
  fourth ``refClient``: columns are read by position, and a row's fourth value is its
  refClient whether or not the header names it;
- then one recipient per row, 3 or 4 values, quoted or not (``""`` inside quotes is a
  quote; quoted values may hold commas and line breaks; only a comma or the end of the line
  may follow a closing quote); blanks after a comma are skipped; lines whose values are
  all blank are ignored; CRLF, LF and CR line ends are accepted;
- ``numero``: one number (06/07 national numbers become 336/337; a comma is refused);
  ``message``: decoded like sendSMS's (characters outside the section 3 table become '?'),
  truncated to ``nbr_msg`` parts; ``emetteur``: checked like sendSMS's, an empty value uses
  the request's ``emetteur`` (none: the account's default sender); ``refClient``: an empty
  value uses the request's ``refClient``. Blanks around ``emetteur`` and ``refClient`` are
  ignored.

Any problem (no file, empty file, bad header, a row with an empty number or message, a
wrong number of values, bad quoting, ``classe_msg`` other than 2 or 4, an invalid optional
parameter) answers 35 and accepts nothing. ``stop`` and ``notification_url_reponse`` are not
section 17 parameters and are ignored.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from dispatcher.sandbox.config import SmsmodeConfig
from dispatcher.sandbox.faults import Fields
from dispatcher.sandbox.smsmode_params import (
    InvalidParameterError,
    classe_of,
    int_param,
    normalise_number,
    parse_date,
    parse_sender,
    parse_url,
    read_params,
)
from dispatcher.sandbox.smsmode_text import UNICODE_CLASS, compose, decode_message, decode_param
from dispatcher.sandbox.store import Store, Submission

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from dispatcher.sandbox.context import SandboxContext

#: The file part's name (section 17 curl example: ``-F "fichier=@fichier.csv"``).
FILE_FIELD = "fichier"
#: ``method`` of a batch submission in the admin API.
METHOD = "POST-batch"
_HEADER = ("numero", "message", "emetteur")
_REF_COLUMN = "refclient"
_MULTIPART = "multipart/form-data"

#: One file row as raw strings (one latin-1 character per byte): numero, message,
#: emetteur, refClient ("" when absent).
RawRow = tuple[str, str, str, str]
#: A recipient's (refClient, cost in parts) for its delivery-report callbacks.
Details = Callable[[str], tuple[str | None, int]]


@dataclass(frozen=True)
class Upload:
    """What a sendSMSBatch request carried: raw parameters, and the file (None: absent)."""

    params: dict[str, str]
    file: bytes | None


class _Parts:
    """Collects the (name, raw content) of each part of a multipart body."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, bytes]] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._data = bytearray()

    def begin(self) -> None:
        self._headers = {}
        self._data = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[bytes(self._field).strip().lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is not None:
            self.parts.append((name.decode("latin-1"), bytes(self._data)))


def multipart_parts(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """The complete parts of a multipart/form-data body; a malformed body yields those
    read before the damage (none without a boundary)."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return []
    collector = _Parts()
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": collector.begin,
                "on_header_field": collector.header_field,
                "on_header_value": collector.header_value,
                "on_header_end": collector.header_end,
                "on_part_data": collector.data,
                "on_part_end": collector.end,
            },
        )
        parser.write(body)
        parser.finalize()
    except FormParserError:
        pass
    return collector.parts


async def read_upload(request: Request) -> Upload:
    """Raw parameters (query string first, then form fields) and the ``fichier`` part.

    Only a part named ``fichier`` is the file (with or without a filename, which "is not
    taken in account"); the first one wins. Every other part is a parameter.
    """
    params = await read_params(request)
    content_type = request.headers.get("content-type", "")
    found: bytes | None = None
    if content_type.split(";")[0].strip().lower() == _MULTIPART:
        for name, content in multipart_parts(await request.body(), content_type):
            if name == FILE_FIELD:
                found = content if found is None else found
            else:
                params.setdefault(name, content.decode("latin-1"))
    return Upload(params, found)


def read_rows(data: bytes | None) -> list[RawRow]:
    """The file's recipient rows after its header; raises :class:`InvalidParameterError`."""
    if not data:
        raise InvalidParameterError(FILE_FIELD)
    reader = csv.reader(
        io.StringIO(data.decode("latin-1"), newline=""), strict=True, skipinitialspace=True
    )
    try:
        lines = [line for line in reader if any(value.strip() for value in line)]
    except csv.Error as exc:
        raise InvalidParameterError(FILE_FIELD) from exc
    if not lines:
        raise InvalidParameterError(FILE_FIELD)
    names = tuple(name.strip().lower() for name in lines[0])
    if names not in (_HEADER, (*_HEADER, _REF_COLUMN)) or len(lines) < 2:
        raise InvalidParameterError(FILE_FIELD)
    rows: list[RawRow] = []
    for line in lines[1:]:
        if len(line) == 3:
            rows.append((line[0], line[1], line[2], ""))
        elif len(line) == 4:
            rows.append((line[0], line[1], line[2], line[3]))
        else:
            raise InvalidParameterError(FILE_FIELD)
    return rows


@dataclass(frozen=True)
class Recipient:
    """One accepted row: the final text, its parts, and the sender and refClient it uses."""

    number: str
    text: str
    parts: int
    sender: str | None
    ref_client: str | None


@dataclass(frozen=True)
class BatchOrder:
    """A valid sendSMSBatch request, before the balance check."""

    recipients: list[Recipient]
    classe_msg: int
    sender: str | None
    ref_client: str | None
    notification_url: str | None
    scheduled_for: float | None


def parse_batch(upload: Upload, now: float, zone: ZoneInfo, config: SmsmodeConfig) -> BatchOrder:
    """Validate the parameters and the file; raises :class:`InvalidParameterError` (35)."""
    params = upload.params
    classe_msg = classe_of(params)
    if classe_msg == UNICODE_CLASS:  # section 17 lists classes 2 and 4 only
        raise InvalidParameterError("classe_msg")
    sender = parse_sender(params.get("emetteur", ""), classe_msg)
    ref_client = decode_param(params.get("refClient", ""), classe_msg) or None
    nbr_msg = int_param(params.get("nbr_msg", ""), "nbr_msg", 5)
    recipients: list[Recipient] = []
    for raw_number, raw_message, raw_sender, raw_ref in read_rows(upload.file):
        number = normalise_number(raw_number)
        message = decode_message(raw_message, classe_msg)
        if not number or "," in number:
            raise InvalidParameterError("numero")
        if not message:
            raise InvalidParameterError("message")
        composed = compose(message, classe_msg, nbr_msg, 0, config.stop_mention)
        row_sender = parse_sender(raw_sender.strip(), classe_msg)
        row_ref = decode_param(raw_ref.strip(), classe_msg)
        recipients.append(
            Recipient(
                number,
                composed.text,
                composed.parts,
                row_sender or sender,
                row_ref or ref_client,
            )
        )
    return BatchOrder(
        recipients=recipients,
        classe_msg=classe_msg,
        sender=sender,
        ref_client=ref_client,
        notification_url=parse_url(params.get("notification_url", ""), classe_msg, "url"),
        scheduled_for=parse_date(params.get("date_envoi", ""), zone, now),
    )


def submit_batch(
    ctx: SandboxContext, provider: str, upload: Upload, zone: ZoneInfo, config: SmsmodeConfig
) -> Submission | str:
    """Accept the batch as one submission, or return the error code (35, 32, 33).

    Checks in sendSMS's order: token present, token known, request valid, balance (each
    recipient costs its own parts; nothing is accepted when the total does not fit).
    """
    token = upload.params.get("accessToken", "").strip()
    if not token:
        return "35"
    account = ctx.store.account(token)
    if account is None:
        return "32"
    now = ctx.clock()
    try:
        order = parse_batch(upload, now, zone, config)
    except InvalidParameterError:
        return "35"
    recipients = order.recipients
    cost = sum(r.parts for r in recipients)
    if not account.can_pay(cost):
        return "33"
    account.balance -= cost
    texts = [r.text for r in recipients]
    sub = Submission(
        provider=provider,
        id=ctx.store.new_id(),
        token=token,
        method=METHOD,
        accepted_at=now,
        scheduled_for=order.scheduled_for,
        text=texts[0],
        sender=order.sender,
        ref_client=order.ref_client,
        notification_url=order.notification_url,
        numbers=",".join(r.number for r in recipients),
        count=len(recipients),
        parts=max(r.parts for r in recipients),
        cost=float(cost),
        extra={
            "classe_msg": order.classe_msg,
            "notification_url_reponse": None,
            "texts": texts,
            "senders": [r.sender for r in recipients],
            "ref_clients": [r.ref_client for r in recipients],
            "recipient_parts": [r.parts for r in recipients],
        },
    )
    record(ctx.store, sub, texts)
    return sub


def record(store: Store, sub: Submission, texts: list[str]) -> None:
    """``store.add``: the store counts each recipient's duplicates against its own text, which
    ``sub.extra["texts"]`` lists in the order of its numbers."""
    store.add(sub, sub.number_list())


def recipient_details(sub: Submission) -> Details | None:
    """Per-recipient (refClient, cost) for a batch submission's callbacks; None otherwise.

    A number listed on several rows gets its rows' values in turn: the callback schedule
    produces that number's reports row after row at each state change.
    """
    refs = sub.extra.get("ref_clients")
    parts = sub.extra.get("recipient_parts")
    if not isinstance(refs, list) or not isinstance(parts, list):
        return None
    first: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    turns: Counter[str] = Counter()

    def details(number: str) -> tuple[str | None, int]:
        if not first:
            for i, n in enumerate(sub.number_list()):
                if first.setdefault(n, i) != i:
                    repeated.setdefault(n, [first[n]]).append(i)
        rows = repeated.get(number)
        if rows is None:
            i = first[number]
        else:
            i = rows[turns[number] % len(rows)]
            turns[number] += 1
        return refs[i], parts[i]

    return details


def fault_fields(upload: Upload) -> Fields:
    """What fault rules match: the rows' messages (ISO-8859-15, before '?' replacement)
    joined by line breaks, their numbers joined by commas, and every refClient (the
    request's, then the rows') joined by commas; None for what an unreadable file hides."""
    params = upload.params
    refs = [decode_param(params["refClient"], 2)] if "refClient" in params else []
    try:
        rows: list[RawRow] | None = read_rows(upload.file)
    except InvalidParameterError:
        rows = None
    refs += [decode_param(row[3], 2) for row in rows or () if row[3]]
    return {
        "token": params.get("accessToken"),
        "text": None if rows is None else "\n".join(decode_param(r[1], 2) for r in rows),
        "numero": None if rows is None else ",".join(r[0] for r in rows),
        "ref_client": ",".join(refs) if refs else None,
    }
