"""Envoyer SMS Pro answers: the XML documents and the HTTP status of each error.

Written from "Messages d'erreur", "HTTP Status Codes" and each function's "Retour du
serveur". Documents are built as text in the layout of the document's examples (two-space
indentation, UTF-8 declaration), which is also much faster than a tree for a 1000-recipient
stats answer. Where the examples are not well-formed XML the sandbox stays well-formed: the
error example's ``<request>`` holds a raw ``&`` (escaped here as ``&amp;``), and the account
lists close ``</ sms_remaining>`` with a space (written ``</sms_remaining>`` here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.responses import Response

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MEDIA_TYPE = "application/xml; charset=UTF-8"

#: "Messages d'erreur": error_id -> error_message. 6 is missing from the document's table;
#: the sandbox uses it for the request-rate limit, which has no documented id.
MESSAGES: dict[int, str] = {
    1: "Authentication failed",
    2: "Missing parameters",
    3: "Bad value of parameters",
    4: "Message too long",
    5: "Not enough SMS",
    6: "API request limit exceeded",
    7: "Unknown messageid",
    8: "Message is pending",
    9: "Message is being sent",
    10: "Message has been sent",
    11: "Message is already cancelled",
    12: "Message cannot received response",
}
RATE_LIMIT_ERROR_ID = 6

#: "HTTP Status Codes" gives no per-error status. The sandbox answers 401 for error 1 (the
#: 401 row: missing or wrong authentication fields); 403 ("nous comprenons votre requête mais
#: vous n'êtes pas autorisés à l'effectuer") when a valid request is refused by the state of
#: the account or message: 5, 8, 9, 10, 11, 12; and 400 for an invalid request (2, 3, 4, 7)
#: and the request-rate limit (the 400 row says so explicitly).
HTTP_STATUS: dict[int, int] = {1: 401, 5: 403, 8: 403, 9: 403, 10: 403, 11: 403, 12: 403}

# Characters XML 1.0 forbids even escaped; they become U+FFFD.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Element content: markup characters escaped, XML-forbidden characters replaced."""
    if text.isascii() and text.isalnum():
        return text  # numbers and ids, the bulk of a large report
    return _INVALID_XML.sub("\ufffd", text).translate(_ESCAPES)


class ApiError(Exception):
    """A documented error answer: ``error_id`` and ``error_message`` (with its detail)."""

    def __init__(self, error_id: int, detail: str | None = None) -> None:
        base = MESSAGES.get(error_id, "Error")
        self.error_id = error_id
        self.message = base if detail is None else f"{base} - {detail}"
        super().__init__(self.message)

    @property
    def status(self) -> int:
        """The HTTP status that goes with it (see :data:`HTTP_STATUS`)."""
        return HTTP_STATUS.get(self.error_id, 400)

    @classmethod
    def from_code(cls, code: str) -> ApiError:
        """For the fault action ``code``: the documented error of that id."""
        return cls(int(code))


def missing(detail: str) -> ApiError:
    """Error 2 with one of the documented details, e.g. "Text is missing"."""
    return ApiError(2, detail)


def bad(detail: str) -> ApiError:
    """Error 3 with one of the documented details, e.g. "Too many recipients"."""
    return ApiError(3, detail)


def document(body: str, status: int = 200) -> Response:
    """A full answer: declaration, ``<envoyersmspro>`` root, UTF-8 bytes."""
    text = f"{XML_DECLARATION}<envoyersmspro>\n{body}</envoyersmspro>\n"
    return Response(text.encode("utf-8"), status_code=status, media_type=MEDIA_TYPE)


def elements(indent: int, pairs: Iterable[tuple[str, object]]) -> str:
    """``<name>value</name>`` lines at ``indent`` levels of two spaces."""
    pad = "  " * indent
    return "".join(f"{pad}<{name}>{escape(str(value))}</{name}>\n" for name, value in pairs)


def success(section: str, pairs: Iterable[tuple[str, object]]) -> Response:
    """``<status>success</status>`` then one section holding simple elements."""
    return document(
        f"  <status>success</status>\n  <{section}>\n{elements(2, pairs)}  </{section}>\n"
    )


def error_response(request: str, error: ApiError) -> Response:
    """The "Messages d'erreur" document. The example shows the message between spaces
    (``<error_message> Not enough SMS </error_message>``); the sandbox keeps them, so a
    client must trim the message before comparing it."""
    body = (
        "  <status>fail</status>\n  <error>\n"
        f"    <request>{escape(request)}</request>\n"
        f"    <error_id>{error.error_id}</error_id>\n"
        f"    <error_message> {escape(error.message)} </error_message>\n"
        "  </error>\n"
    )
    return document(body, error.status)
