"""Reading Envoyer SMS Pro requests from raw bytes: parameters and credentials.

"Paramètres": values are UTF-8, URL-encoded. The sandbox percent-decodes the raw query
string and, for POST, an ``application/x-www-form-urlencoded`` body itself, then decodes
UTF-8 (an invalid sequence becomes U+FFFD, which then shows in the recorded text instead of
being silently fixed). Choices the document leaves open:

- GET reads the query string only; POST reads the body and the query string, the body
  winning for a name present in both. Within one of them the last occurrence of a name wins.
- A POST body is read as a form when its Content-Type says so or is absent; other content
  types (multipart...) are not read: their parameters are missing.
- Bodies over :data:`MAX_BODY` bytes are refused (no documented answer: error 3).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

#: A 1000-recipient POST is about 13 kB; this leaves room for any legitimate request.
MAX_BODY = 1 << 20
_FORM = "application/x-www-form-urlencoded"


class BodyTooLargeError(ValueError):
    """The request body exceeds :data:`MAX_BODY`."""


def _decode(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def parse_form(raw: bytes) -> dict[str, str]:
    """``name=value&...`` percent-decoded as UTF-8; the last occurrence of a name wins."""
    params: dict[str, str] = {}
    for item in raw.split(b"&"):
        if item:
            name, _, value = item.partition(b"=")
            params[_decode(name)] = _decode(value)
    return params


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLargeError(size)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_params(request: Request) -> dict[str, str]:
    """The request's parameters (see the module docstring for precedence)."""
    params = parse_form(request.scope.get("query_string", b""))
    if request.method == "POST":
        content_type = request.headers.get("content-type", _FORM).split(";")[0].strip().lower()
        body = await _body(request)
        if content_type == _FORM:
            params.update(parse_form(body))
    return params


def echo(path: str, query: bytes) -> str:
    """The ``<request>`` of an error: the path without ``/api`` and the raw query string, as
    in the document's example (``/message/send?text=test&...``), with the ``password``
    parameter left out so that error logs do not carry it."""
    items = [i for i in query.split(b"&") if i and _decode(i.partition(b"=")[0]) != "password"]
    shown = path.removeprefix("/api")
    return f"{shown}?{b'&'.join(items).decode('latin-1')}" if items else shown


@dataclass(frozen=True)
class Credentials:
    """What the client sent to authenticate ("Authentification", solutions 1 to 3).

    ``candidates`` lists the (password, accountid) readings to try, in order. HTTP Basic
    puts the account id after the password, separated by ':' (solution 1), so a Basic
    secret ``a:b`` is first tried as the password ``a:b``, then as password ``a`` of
    account ``b``: a password containing ':' still works.
    """

    login: str
    candidates: tuple[tuple[str, str | None], ...]
    basic: bool


def credentials(authorization: str | None, params: dict[str, str]) -> Credentials | None:
    """Solution 1 (HTTP Basic) when an Authorization header is present, else solutions 2
    and 3 (``login``/``password``/``accountid`` parameters). With HTTP Basic, parameters
    are ignored ("à indiquer uniquement si vous n'utilisez pas HTTP Basic Authentication");
    a header that is not valid Basic authenticates nobody. ``None``: nothing usable.
    """
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
        login, colon, secret = decoded.partition(":")
        if not login or not colon or not secret:
            return None
        readings: list[tuple[str, str | None]] = [(secret, None)]
        password, sep, account = secret.rpartition(":")
        if sep and password and account:
            readings.append((password, account))
        return Credentials(login, tuple(readings), basic=True)
    login = params.get("login", "").strip()
    password = params.get("password", "")
    if not login or not password:
        return None
    account_id = params.get("accountid", "").strip() or None
    return Credentials(login, ((password, account_id),), basic=False)


@dataclass(frozen=True)
class Call:
    """One request, read once: method, parameters, ``<request>`` echo, credentials."""

    method: str
    params: dict[str, str]
    echo: str
    creds: Credentials | None
