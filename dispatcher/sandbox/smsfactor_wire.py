"""SMSFactor on the wire: reading the posted XML safely, and writing the XML answers.

Written from "SMSFactor API v2.2" only. Sections 1.1 and 2.1 say the XML document is sent
"via une méthode POST" without saying how it travels, so the sandbox accepts both readings
and records which one it saw (``transport``):

- ``body``: the raw request body is the document (any content type, e.g. text/xml);
- ``form``: an ``application/x-www-form-urlencoded`` body with a field named ``XML``, the
  way section 3 pushes inbound SMS ("la variable est XML="); a form-typed body that starts
  with ``<`` is read as a raw document (what ``curl -d @file.xml`` sends);
- ``multipart``: a ``multipart/form-data`` body with a part named ``XML``.

Bodies are read from raw bytes, at most ``max_body_bytes`` of them, and parsed by lxml with
entities, DTDs and network access off; a DOCTYPE is refused outright, so entity-expansion
and external-entity documents never reach the tree. Every such failure is an XML error.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from dispatcher.sandbox.timeline import State

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FIELD = "XML"
# A DOCTYPE in the encodings a client may plausibly use; lxml's docinfo check backs it up.
_DOCTYPE = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(rb'\bname="?([^";\r\n]*)"?', re.IGNORECASE)


class XmlError(ValueError):
    """Status -2 ("Erreur XML"); the message says what was wrong (section 1.3.1.2 allows a
    different message for XML errors)."""


async def read_document(request: Request, limit: int) -> tuple[bytes, str]:
    """The posted XML document and how it travelled; raises :class:`XmlError`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise XmlError(f"document trop volumineux (plus de {limit} octets)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise XmlError(f"document trop volumineux (plus de {limit} octets)")
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime == FORM and not body.lstrip().startswith(b"<"):
        return _form_field(body), "form"
    if mime == MULTIPART:
        return _multipart_field(body, content_type), "multipart"
    return body, "body"


def _form_field(body: bytes) -> bytes:
    """The first ``XML`` field, as bytes (its charset is the document's own business)."""
    text = body.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        if name == FIELD:
            return value.encode("latin-1")
    raise XmlError("champ XML absent du formulaire")


def _multipart_field(body: bytes, content_type: str) -> bytes:
    """The first part named ``XML`` of a multipart/form-data body."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise XmlError("formulaire multipart sans boundary")
    delimiter = b"--" + found.group(1).encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        for line in head.split(b"\r\n"):
            if not line.lower().startswith(b"content-disposition:"):
                continue
            name = _PART_NAME.search(line)
            if name is not None and name.group(1) == FIELD.encode():
                return content.removesuffix(b"\r\n")
    raise XmlError("champ XML absent du formulaire")


def parse_xml(data: bytes) -> etree._Element:
    """The root element of a trusted-shape parse; raises :class:`XmlError`."""
    data = data.lstrip(b" \t\r\n")
    if not data:
        raise XmlError("document vide")
    if any(needle in data for needle in _DOCTYPE):
        raise XmlError("DOCTYPE interdit")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise XmlError(f"document mal formé ({exc})") from exc
    if root is None or root.getroottree().docinfo.internalDTD is not None:
        raise XmlError("DOCTYPE interdit")
    return root


#: Section 1.3.1.1 (and 2.3.1.1): the definitions of the codes, used as the messages.
MESSAGES = {
    "1": "Message envoyé",
    "-1": "Le login et le mot de passe ne correspondent pas.",
    "-2": "Erreur XML",
    "-3": "Le nombre de crédits n'est pas suffisant",
    "-4": "La date différée n'est pas correcte",
    "-5": "La liste des destinataires contient une erreur.",
}

#: Section 2.3.1.2: report statuses of each timeline state. NOT_SENT ("enregistré [...]
#: sera envoyé dès que possible") covers a message waiting for its ``delay`` and the
#: moments before the operator takes it; SENT ("aucun accusé de réception n'est
#: disponible") is the operator holding it; every failure without a dedicated status is
#: NOT_DELIVERED.
STATUSES: dict[State, str] = {
    State.SCHEDULED: "NOT_SENT",
    State.SENT: "NOT_SENT",
    State.GATEWAY: "SENT",
    State.RECEIVED: "DELIVERED",
    State.DELIVERY_ERROR: "NOT_DELIVERED",
    State.ROUTING_ERROR: "NOT_DELIVERED",
    State.INVALID_RECIPIENT: "INVALID_DESTINATION_ADDRESS",
    State.EXPIRED: "NOT_DELIVERED",
    State.BLACKLISTED: "NOT_ALLOWED",
    State.REJECTED: "NOT_DELIVERED",
}
STATUS_TEXT = [STATUSES[s] for s in sorted(STATUSES)]


def answer(status: str, message: str | None = None) -> Response:
    """A ``<response>`` with the code's documented wording (or ``message``)."""
    return status_answer(status, message or MESSAGES.get(status, "Erreur"))


def xml_error(exc: XmlError) -> Response:
    """Section 1.3.1.2: "En cas d'une erreur XML le message peut être différent"."""
    return answer("-2", f"{MESSAGES['-2']} : {exc}")


def code_answer(code: str) -> Response:
    """A fault rule's ``code``: the status with that number, always negative (the only
    positive status, 1, is an acceptance, which a fault cannot fake without a ticket).
    Fault rules take unsigned digits today, so ``"5"`` answers -5; ``"-5"`` works too."""
    return answer("-" + code.lstrip("-"))


def format_credits(balance: float) -> str:
    """Section 1.3.1.4: the remaining credits, without a needless decimal part."""
    if balance == int(balance):
        return str(int(balance))
    return f"{balance:.6f}".rstrip("0").rstrip(".")


def _xml_response(lines: list[str]) -> Response:
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(lines) + "\n"
    return Response(body.encode("utf-8"), media_type="text/xml; charset=utf-8")


def status_answer(
    status: str, message: str, ticket: str | None = None, credits: str | None = None
) -> Response:
    """Section 1.3 ``<response>``; ``ticket`` and ``credits`` only when given (success)."""
    lines = [
        "<response>",
        f"  <status>{status}</status>",
        f"  <message>{escape(message)}</message>",
    ]
    if ticket is not None:
        lines.append(f"  <ticket>{escape(ticket)}</ticket>")
    if credits is not None:
        lines.append(f"  <credits>{credits}</credits>")
    lines.append("</response>")
    return _xml_response(lines)


def report_answer(message: str, rows: list[tuple[str, str, str]]) -> Response:
    """Section 2.3 with status 1 and one ``<gsm number gsmsmsid>STATUS</gsm>`` per row
    (number, gsmsmsid, status).

    The document's example ``<gsm number="" gsmsmsid="" /></gsm>`` is not well-formed
    and shows no place for the status; the sandbox puts it in the element's text.
    """
    lines = ["<response>", "  <status>1</status>", f"  <message>{escape(message)}</message>"]
    attr = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
    lines += [
        f'  <gsm number="{escape(n, attr)}" gsmsmsid="{escape(i, attr)}">{s}</gsm>'
        for n, i, s in rows
    ]
    lines.append("</response>")
    return _xml_response(lines)
