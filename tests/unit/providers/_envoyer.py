"""Shared builders for the Envoyer SMS Pro adapter tests, and the document's example answers."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.text import measure
from dispatcher.providers.envoyer import EnvoyerProvider
from dispatcher.settings import AccountSettings
from tests.unit.providers._http import (
    Handler,
    mock_client,
    no_network,
)
from tests.unit.providers._options import batch_fields

LOGIN, PASSWORD = "33612345678", "s3cr3t-Pa55"  # "login: Votre numéro de mobile"
BASE_URL = "https://www.envoyersmspro.com"
DOC_NUMBERS = ("33600000001", "35200000077")  # the send example ("Exemple")

# "FONCTION NOUVEAU MESSAGE", "Retour du serveur".
SEND_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <message>
    <message_id>879</message_id>
    <sms_sent>2</sms_sent>
    <sms_remaing>564</sms_remaing>
  </message>
</envoyersmspro>
"""

# "Messages d'erreur": the example as printed, "&" unescaped in <request>.
ERROR_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>fail</status>
  <error>
    <request>/message/send?text=test&sendername=Societe&recipients=33600000000
  </request>
    <error_id>5</error_id>
    <error_message> Not enough SMS </error_message>
  </error>
</envoyersmspro>
"""

# "FONCTION STATISTIQUES DES MESSAGES", "Retour du serveur" (joined across its page break).
STATS_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <stats>
    <number_status_1>1</number_status_1>
    <number_status_2>1</number_status_2>
    <number_status_3>0</number_status_3>
    <number_status_4>0</number_status_4>
    <number_status_5>0</number_status_5>
  <recipient>
    <mobile_number>33600000001</mobile_number>
        <delivered_date>2011-02-10 13:32:00</delivered_date>
        <status_id>1</status_id>
    </recipient>
    <recipient>
        <mobile_number>352000000077</mobile_number>
        <delivered_date></delivered_date>
        <status_id>2</status_id>
    </recipient>
</stats>
</envoyersmspro>
"""

# "FONCTION ANNULATION D'ENVOI DE MESSAGE PROGRAMME", "Retour du serveur".
CANCEL_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <message>
    <message_id>879</message_id>
    <recredited_sms>2</recredited_sms>
    <sms_remaing>564</sms_remaing>
  </message>
</envoyersmspro>
"""

# "FONCTION SMS RESTANT", "Retour du serveur".
STATUS_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <account>
    <sms_remaining>564</sms_remaining>
    <api_request_limit>100</api_request_limit>
  </account>
</envoyersmspro>
"""

# "FONCTION ACTIVATION STOP SMS" and "FONCTION DESACTIVATION STOP SMS", "Retour du serveur".
STOP_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <stopsms>
    <phone_number>33600000000</phone_number>
  </stopsms>
</envoyersmspro>
"""

# "FONCTION CONSULTATION STOP SMS", "Retour du serveur".
STOP_CHECK_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<envoyersmspro>
  <status>success</status>
  <stopsms>
    <phone_number>33600000000</phone_number>
    <stop_sms_status_id>1</stop_sms_status_id>
  </stopsms>
</envoyersmspro>
"""

_PAYLOAD = "<status>success</status><message><message_id>{}</message_id></message>"
# Hostile or broken answers: none may be read, each is UNKNOWN and resolves nothing.
HOSTILE = {
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    + '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    + '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    + f"<envoyersmspro>{_PAYLOAD.format('&lol3;')}</envoyersmspro>",
    "external entity": '<?xml version="1.0"?>'
    '<!DOCTYPE envoyersmspro [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<envoyersmspro>{_PAYLOAD.format('&xxe;')}</envoyersmspro>",
    "network entity": '<!DOCTYPE envoyersmspro [<!ENTITY net SYSTEM "http://evil.test/x">]>'
    f"<envoyersmspro>{_PAYLOAD.format('&net;')}</envoyersmspro>",
    "bare doctype": "<!DOCTYPE envoyersmspro>"
    f"<envoyersmspro>{_PAYLOAD.format(879)}</envoyersmspro>",
    "external dtd": '<!DOCTYPE envoyersmspro SYSTEM "http://evil.test/a.dtd">'
    f"<envoyersmspro>{_PAYLOAD.format(879)}</envoyersmspro>",
    "undeclared entity": f"<envoyersmspro>{_PAYLOAD.format('&xxe;')}</envoyersmspro>",
    "truncated": SEND_ANSWER[: SEND_ANSWER.index("</message_id>") + 5],
    "truncated at the end": SEND_ANSWER.rstrip()[:-3],
    "two roots": f"<envoyersmspro>{_PAYLOAD.format(879)}</envoyersmspro><envoyersmspro/>",
    "another root": f"<smsfactor>{_PAYLOAD.format(879)}</smsfactor>",
    "no status": "<envoyersmspro><message><message_id>879</message_id></message></envoyersmspro>",
    "odd status": f"<envoyersmspro>{_PAYLOAD.format(879).replace('success', 'ok')}</envoyersmspro>",
    "html": "<html><body>Bad gateway</body></html>",
    "text": "OK 879",
    "empty": "",
    "oversized": SEND_ANSWER.replace("<status>", " " * (1 << 20) + "<status>"),
}
# The same document with a DOCTYPE, in UTF-16: no byte spells "<!DOCTYPE".
UTF16_DOCTYPE = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE envoyersmspro>'
    f"<envoyersmspro>{_PAYLOAD.format(879)}</envoyersmspro>"
).encode("utf-16")


def error(error_id: str | None, message: str = "", status: str = "fail") -> str:
    """A failure document shaped like the section "Messages d'erreur" example."""
    id_element = f"<error_id>{error_id}</error_id>" if error_id is not None else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><envoyersmspro><status>{status}</status>'
        f"<error><request>/message/send?text=x</request>{id_element}"
        f"<error_message>{message}</error_message></error></envoyersmspro>"
    )


def stats(*recipients: tuple[str, str, str]) -> str:
    """A stats answer with (mobile_number, delivered_date, status_id) rows."""
    rows = "".join(
        f"<recipient><mobile_number>{m}</mobile_number><delivered_date>{d}</delivered_date>"
        f"<status_id>{s}</status_id></recipient>"
        for m, d, s in recipients
    )
    return f"<envoyersmspro><status>success</status><stats>{rows}</stats></envoyersmspro>"


def account(**overrides: Any) -> AccountSettings:
    fields: dict[str, Any] = {
        "name": "envoyer-test",
        "provider": "envoyer",
        "base_url": BASE_URL,
        "username": LOGIN,
        "password": PASSWORD,
    }
    fields.update(overrides)
    return AccountSettings(**fields)


def provider(handler: Handler = no_network, **overrides: Any) -> EnvoyerProvider:
    client = mock_client(handler)
    return EnvoyerProvider(account(**overrides), client, retry_seconds=0)


def params_auth(**overrides: Any) -> dict[str, Any]:
    """Account overrides for the login/password parameter form of authentication."""
    return {"options": {"auth": "params"}, **overrides}


def batch(
    text: str = "Ceci est un test",
    *,
    msisdns: Sequence[str] = DOC_NUMBERS,
    method: str = "POST",
    sender: str | None = "Societe",
    segments: int | None = None,
    **fields: Any,
) -> OutboundBatch:
    """A batch measured as the planner would; by default the document's send example."""
    measured = measure(text, basic=EnvoyerProvider.gsm_basic, extended=EnvoyerProvider.gsm_extended)
    fields.setdefault("client_ref", "b7")
    return OutboundBatch(
        batch_id=7,
        campaign_id=3,
        text=text,
        encoding=fields.pop("encoding", measured.encoding),
        segments=segments if segments is not None else measured.segments,
        sender=sender,
        msisdns=list(msisdns),
        recipient_ids=list(range(len(msisdns))),
        method=method,
        **batch_fields(EnvoyerProvider, fields),
    )


def wire(request: httpx.Request) -> str:
    """The form as sent: the query string of a GET, the body of a POST."""
    raw = request.url.query if request.method == "GET" else request.content
    return raw.decode("ascii")


def form(request: httpx.Request) -> dict[str, str]:
    """The request's parameters, decoded as UTF-8 ("Encodage"); each may appear once."""
    pairs = urllib.parse.parse_qsl(
        wire(request), keep_blank_values=True, strict_parsing=bool(wire(request))
    )
    assert len({k for k, _ in pairs}) == len(pairs), f"a parameter appears twice: {wire(request)}"
    return dict(pairs)


def basic_auth(request: httpx.Request) -> tuple[str, str] | None:
    """The (login, password) of an Authorization: Basic header, None without one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    assert scheme == "Basic"
    login, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    return login, password
