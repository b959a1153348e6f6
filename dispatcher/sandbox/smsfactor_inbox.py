"""SMSFactor inbound SMS (section 3, "Réception de SMS"), simulated through the admin API.

The provider POSTs an ``<inbox>`` document to a page the customer declares on its web
interface, in a form variable named ``XML`` (section 3: "la variable est XML="). The sandbox
has no web interface: the page is the account's ``inbox_url`` in the config section.

Section 3.1's example is mangled by escaping (``from="\\ 0000000000\\"``); the sandbox sends
the evident intent, one ``<sms from="..." to="..." date="yyyy-mm-dd hh:mm:ss">`` per message
with the text in CDATA, numbers in the international form of section 1.2.1.9
(``33612345678``), the date in the configured local time. No XML declaration (the example
has none), so the document is UTF-8 by XML's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from dispatcher.sandbox.callbacks import CallbackRequest
from dispatcher.sandbox.context import AdminError
from dispatcher.sandbox.smsfactor_config import SmsfactorAccount
from dispatcher.sandbox.smsfactor_wire import FIELD, FORM

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def cdata(text: str) -> str:
    """``text`` in CDATA sections; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def inbox_document(sender: str, to: str, when: datetime, text: str) -> str:
    """The section 3.1 document for one inbound SMS."""
    date = when.strftime("%Y-%m-%d %H:%M:%S")
    attrs = f"from={quoteattr(sender)} to={quoteattr(to)} date={quoteattr(date)}"
    return f"<inbox>\n<sms {attrs}>{cdata(text)}</sms>\n</inbox>"


def _digits(payload: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
            raise AdminError(400, f'"{key}" must be an international number, digits only')
        return value
    return None


def inbox_push(
    provider: str,
    account: SmsfactorAccount,
    payload: Mapping[str, Any],
    zone: ZoneInfo,
    now: float,
) -> tuple[CallbackRequest, str]:
    """The POST to the account's inbox page for the admin ``payload``, and its document.

    ``payload``: ``from`` (or ``numero``, as for sMsmode), the replying number, required;
    ``message`` (default "STOP"); ``to`` (default the account's ``inbox_number``).
    """
    if not account.inbox_url:
        raise AdminError(409, f"smsfactor account {account.username} has no inbox_url")
    sender = _digits(payload, "from", "numero")
    if sender is None:
        raise AdminError(400, '"from" (the number the SMS comes from) is required')
    to = _digits(payload, "to") or account.inbox_number
    message = payload.get("message", "STOP")
    if not isinstance(message, str) or _NOT_XML.search(message):
        raise AdminError(400, '"message" must be a string XML can carry')
    document = inbox_document(sender, to, datetime.fromtimestamp(now, zone), message)
    body = f"{FIELD}={quote_plus(document, encoding='utf-8')}".encode("ascii")
    return CallbackRequest(provider, account.inbox_url, "POST", body, FORM), document
