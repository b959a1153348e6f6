"""Envoyer SMS Pro's code tables, copied row by row from its REST API document 2.10.

The document is Envoyer SMS Pro's "API SMS HTTP REST" 2.10 (French); sections are cited by
their titles. Codes are kept as the strings the provider sends. A code missing from a table
is unknown, never transient (docs/architecture.md, "Never the same SMS twice").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import GSM_BASIC as STANDARD_BASIC
from dispatcher.domain.text import GSM_EXTENDED as STANDARD_EXTENDED

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN

# "Messages d'erreur": every error_id and its error_message. There is no 6 in the document.
ERROR_MESSAGES: Mapping[str, str] = {
    "1": "Authentication failed",
    "2": "Missing parameters",
    "3": "Bad value of parameters",
    "4": "Message too long",
    "5": "Not enough SMS",
    "7": "Unknown messageid",
    "8": "Message is pending",
    "9": "Message is being sent",
    "10": "Message has been sent",
    "11": "Message is already cancelled",
    "12": "Message cannot received response",
}

# 1 to 5 concern any request and refuse it as written (docs/providers.md).
_REFUSED: Mapping[str, Outcome] = {"1": P, "2": P, "3": P, "4": P, "5": P}

# /api/message/send ("FONCTION NOUVEAU MESSAGE"). 7 to 12 are documented for stats, cancel
# and replies only: met on a send, they prove nothing either way.
SEND_ERRORS: Mapping[str, Outcome] = {
    **_REFUSED,
    "7": U,
    "8": U,
    "9": U,
    "10": U,
    "11": U,
    "12": U,
}

# /api/message/stats ("FONCTION STATISTIQUES DES MESSAGES"). 7: the provider does not know
# the messageid (the poll is marked gone); 8: a scheduled message not sent yet, so no report
# yet (accepted, nothing to apply).
POLL_ERRORS: Mapping[str, Outcome] = {
    **_REFUSED,
    "7": P,
    "8": A,
    "9": U,
    "10": U,
    "11": U,
    "12": U,
}
POLL_GONE, POLL_PENDING = "7", "8"

# /api/message/cancel ("FONCTION ANNULATION D'ENVOI DE MESSAGE PROGRAMME"). 9 (being sent)
# and 10 (already sent) mean it is too late; 11 (already cancelled) is what we asked for, so
# it counts as success. 8 (pending) is exactly what can be cancelled: met here it is unknown.
CANCEL_ERRORS: Mapping[str, Outcome] = {
    **_REFUSED,
    "7": P,
    "8": U,
    "9": P,
    "10": P,
    "11": A,
    "12": U,
}

# Every other call (account status, STOP SMS): only 1 to 5 are documented for them.
ACCOUNT_ERRORS: Mapping[str, Outcome] = {
    **_REFUSED,
    "7": U,
    "8": U,
    "9": U,
    "10": U,
    "11": U,
    "12": U,
}

# "Les statuts de réception des SMS": status_id, description, état (Final / Intermédiaire).
# 5 "en STOP SMS": the number is on the STOP list, the SMS was not delivered (final).
REPORT_STATUSES: Mapping[str, tuple[RecipientStatus, str]] = {
    "1": (RecipientStatus.DELIVERED, "SMS délivré"),
    "2": (RecipientStatus.FAILED, "SMS non délivré"),
    "3": (RecipientStatus.SUBMITTED, "SMS délivré à l'opérateur"),
    "4": (RecipientStatus.SUBMITTED, "SMS en cours de traitement"),
    "5": (RecipientStatus.FAILED, "en STOP SMS"),
}
OPTED_OUT = "5"


def report_status(code: str) -> tuple[RecipientStatus, str]:
    """The normalised status and the document's description of a status_id."""
    return REPORT_STATUSES.get(code, (RecipientStatus.UNKNOWN, "undocumented status"))


# "Les statuts de STOP SMS": stop_sms_status_id.
STOP_SMS_STATUSES: Mapping[str, bool] = {"0": False, "1": True}

# "HTTP Status Codes": 400 is also "the code returned if you exceed the request limit", with
# no error_id given. A 400 whose error has no documented error_id (6, the gap in the table,
# included), or whose message speaks of a request limit, is read as that limit.
RATE_LIMIT_WORDS = re.compile(
    r"request.{0,20}limit|limit.{0,20}request|limite|quota|too many requests|trop de requ",
    re.IGNORECASE,
)


def error_outcome(
    table: Mapping[str, Outcome], status: int, error_id: str | None, message: str
) -> tuple[Outcome, bool]:
    """What an error answer proves, and whether it is the request limit."""
    if status == 400 and (error_id not in ERROR_MESSAGES or RATE_LIMIT_WORDS.search(message)):
        return T, True
    return table.get(error_id or "", U), False


# "Détails sur le nombre de caractères": "special characters and line breaks count for 2".
# The document names no character set and no Unicode mode; its counts (160, then 306 and 459
# in "Détails sur le long SMS") are GSM 03.38's. We read "special characters" as GSM's
# extension characters (two septets on the air as well) and count "\n" and "\r" double; the
# accented letters GSM has (é, è, à, ù, ì, ò, Ç...) count once, and a text holding any other
# character is refused rather than sent altered (see EnvoyerProvider.validate).
GSM_BASIC: frozenset[str] = STANDARD_BASIC - {"\n", "\r"}
GSM_EXTENDED: frozenset[str] = STANDARD_EXTENDED | {"\n", "\r"}
