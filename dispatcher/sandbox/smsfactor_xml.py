"""Reading SMSFactor request documents (sections 1.2 and 2.2) into plain values.

Written from "SMSFactor API v2.2" only. The document publishes XSD files the sandbox cannot
read, so it checks what an XSD naturally would, answering an XML error (-2) for each:

- the root element (``sms``, ``deliveryreport``), no namespace;
- a mandatory element that is absent, an element the document does not describe, an
  element given twice, and child elements inside a value (element order is not checked);
- value rules of section 1.2.1: ``sender`` 1 to 11 ASCII letters and digits (1.2.1.3),
  ``text`` present and at most 1120 characters as received (1.2.1.4), ``isFlash`` 0 or 1
  (1.2.1.5), ``type`` longSMS or bookmark (1.2.1.6), and a ``bookmark`` link for the
  bookmark type (1.2.1.7: it is what the WAP message opens).

An optional element that is present but empty counts as absent (the document's own template
lists every element, empty). Values are stripped of surrounding blanks, except ``text``,
which is kept exactly. The ``gsmsmsid`` attributes are stripped too: the template's
``gsmsmsid=" "`` reads as "no reference". The document's template typos (``</ isFlash>``,
``</ message >``, ``</ deliveryreport >``) are not well-formed XML and are not accepted.

Checks that have their own status codes are the emulator's: credentials (-1), the ``delay``
date (-4), the recipients' numbers (-5) and the balance (-3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from dispatcher.sandbox.smsfactor_wire import XmlError, parse_xml

MAX_TEXT = 1120
MAX_SENDER = 11
TYPES = ("longSMS", "bookmark")
_DELAY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
#: Separator of the stored gsmsmsid list: NUL can never occur in a parsed XML document.
ID_SEPARATOR = "\x00"


@dataclass(frozen=True)
class SendRequest:
    """A structurally valid ``<sms>`` document (section 1.2)."""

    username: str
    password: str
    sender: str
    text: str
    is_flash: bool
    type: str
    bookmark: str | None
    delay: str | None
    numbers: list[str]
    gsmsmsids: list[str]


@dataclass(frozen=True)
class ReportRequest:
    """A structurally valid ``<deliveryreport>`` document (section 2.2)."""

    username: str
    password: str
    ticket: str
    gsmsmsid: str | None


Children = dict[str, etree._Element]


def _children(parent: etree._Element, allowed: tuple[str, ...]) -> Children:
    found: Children = {}
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str) or tag not in allowed:
            raise XmlError(f"élément inattendu <{tag}> dans <{parent.tag}>")
        if tag in found:
            raise XmlError(f"élément <{tag}> répété")
        found[tag] = child
    return found


def _required(found: Children, tag: str) -> etree._Element:
    if tag not in found:
        raise XmlError(f"élément <{tag}> manquant")
    return found[tag]


def _value(element: etree._Element | None, strip: bool = True) -> str:
    if element is None:
        return ""
    if len(element):
        raise XmlError(f"<{element.tag}> ne doit contenir que du texte")
    text = element.text or ""
    return text.strip() if strip else text


def _root(data: bytes, tag: str) -> etree._Element:
    root = parse_xml(data)
    if root.tag != tag:
        raise XmlError(f"l'élément racine doit être <{tag}>")
    return root


def parse_send(data: bytes) -> SendRequest:
    """Section 1.2; raises :class:`XmlError` (status -2)."""
    root = _root(data, "sms")
    top = _children(root, ("authentication", "message", "recipients"))
    auth = _children(_required(top, "authentication"), ("username", "password"))
    message = _children(
        _required(top, "message"), ("sender", "text", "isFlash", "type", "bookmark", "delay")
    )
    sender = _value(_required(message, "sender"))
    if not (0 < len(sender) <= MAX_SENDER and sender.isascii() and sender.isalnum()):
        raise XmlError("<sender> : 1 à 11 caractères alphanumériques")
    text = _value(_required(message, "text"), strip=False)
    if not text:
        raise XmlError("<text> vide")
    if len(text) > MAX_TEXT:
        raise XmlError(f"<text> dépasse {MAX_TEXT} caractères")
    flash = _value(message.get("isFlash")) or "0"
    if flash not in ("0", "1"):
        raise XmlError("<isFlash> doit valoir 0 ou 1")
    kind = _value(message.get("type")) or "longSMS"
    if kind not in TYPES:
        raise XmlError("<type> doit valoir longSMS ou bookmark")
    bookmark = _value(message.get("bookmark")) or None
    if kind == "bookmark" and bookmark is None:
        raise XmlError("<bookmark> manquant pour un SMS de type bookmark")
    numbers: list[str] = []
    ids: list[str] = []
    for gsm in _required(top, "recipients"):
        if gsm.tag != "gsm":
            raise XmlError(f"élément inattendu <{gsm.tag}> dans <recipients>")
        numbers.append(_value(gsm))
        ids.append((gsm.get("gsmsmsid") or "").strip())
    if not numbers:
        raise XmlError("élément <gsm> manquant")
    return SendRequest(
        username=_value(_required(auth, "username")),
        password=_value(_required(auth, "password")),
        sender=sender,
        text=text,
        is_flash=flash == "1",
        type=kind,
        bookmark=bookmark,
        delay=_value(message.get("delay")) or None,
        numbers=numbers,
        gsmsmsids=ids,
    )


def parse_report(data: bytes) -> ReportRequest:
    """Section 2.2; raises :class:`XmlError` (status -2)."""
    root = _root(data, "deliveryreport")
    top = _children(root, ("authentication", "message"))
    auth = _children(_required(top, "authentication"), ("username", "password"))
    ticket = _required(_children(_required(top, "message"), ("ticket",)), "ticket")
    value = _value(ticket)
    if not value:
        raise XmlError("<ticket> vide")
    return ReportRequest(
        username=_value(_required(auth, "username")),
        password=_value(_required(auth, "password")),
        ticket=value,
        gsmsmsid=(ticket.get("gsmsmsid") or "").strip() or None,
    )


def parse_delay(raw: str | None, zone: ZoneInfo, now: float) -> float | None:
    """Section 1.2.1.8 ``yyyy-mm-jjThh:mm:ss`` in ``zone``: the send time when it is in the
    future, None (send now) when absent or past; ValueError (status -4) when malformed."""
    if raw is None:
        return None
    if not _DELAY.fullmatch(raw):
        raise ValueError(raw)
    when = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=zone).timestamp()
    return when if when > now else None


def recipients_ok(numbers: list[str], lengths: tuple[int, ...], covered: frozenset[str]) -> bool:
    """Section 1.2.1.9 (status -5 otherwise): international digits only (``33600000000``),
    at most 15 (E.164), starting with a covered country code. No ``+``, no ``00``, no
    national ``06`` form. Numbers that pass but cannot exist (a French landline, too
    short) are accepted and reported INVALID_DESTINATION_ADDRESS by the timeline."""
    joined = "".join(numbers)
    if not (joined.isascii() and joined.isdigit()):
        return False
    for number in numbers:
        if not number or len(number) > 15:
            return False
        if not any(number[:size] in covered for size in lengths):
            return False
    return True


def join_ids(ids: list[str]) -> str | None:
    """The gsmsmsid list as one compact string (None when no recipient has one)."""
    return ID_SEPARATOR.join(ids) if any(ids) else None


def split_ids(joined: str | None, count: int) -> list[str]:
    """Inverse of :func:`join_ids` for ``count`` recipients."""
    return [""] * count if joined is None else joined.split(ID_SEPARATOR)
