"""SMSFactor's code tables, copied row by row from its API document v2.2.

Sections cited are those of the "API SMSFactor" v2.2 document (French). Codes are kept as
the strings the provider sends, descriptions in the document's words. A code missing from a
table is unknown, never transient (docs/architecture.md, "Never the same SMS twice").
"""

from __future__ import annotations

from collections.abc import Mapping

from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import GSM_EXTENDED as STANDARD_GSM_EXTENDED

A, P, U = Outcome.ACCEPTED, Outcome.PERMANENT, Outcome.UNKNOWN
DELIVERED, SUBMITTED = RecipientStatus.DELIVERED, RecipientStatus.SUBMITTED
FAILED, UNKNOWN = RecipientStatus.FAILED, RecipientStatus.UNKNOWN

# Section 1.3.1.1 "Statuts" of apiV2.php. Every error says the request was refused as written
# (docs/providers.md: -1 to -5 are never retried): none is transient.
SEND_ACCEPTED = "1"
SEND_STATUSES: Mapping[str, tuple[Outcome, str]] = {
    "1": (A, "Message envoyé"),
    "-1": (P, "Le login et le mot de passe ne correspondent pas."),
    "-2": (P, "Erreur XML"),
    "-3": (P, "Le nombre de crédits n'est pas suffisant"),
    "-4": (P, "La date différée n'est pas correcte"),
    "-5": (P, "La liste des destinataires contient une erreur."),
}

# Section 2.3.1.1 "Status" of getDr.php: the answer about the request, not the messages.
REPORT_ANSWERS: Mapping[str, tuple[Outcome, str]] = {
    "1": (A, "Message envoyé"),
    "-1": (P, "Le login et le mot de passe ne correspondent pas."),
    "-2": (P, "Erreur XML"),
}

# Section 2.3.1.2, one row per status of a number. NOT_SENT and SENT are not final (the
# message "sera envoyé dès que possible"; SENT has no report yet), the other four are.
# NOT_ALLOWED ("Aucun message ne peut être envoyé vers ce numéro") is a failure, not an
# opt-out: the document does not say the recipient asked for it (it may as well be a network
# or a number range the account cannot reach), and an opt-out would remove the number from
# every later campaign, which needs the provider to say so (as Envoyer SMS Pro's "en STOP
# SMS" does).
REPORT_STATUSES: Mapping[str, tuple[RecipientStatus, str]] = {
    "NOT_SENT": (
        SUBMITTED,
        "Le message est enregistré dans notre base de données mais le système n'a pas pu "
        "l'envoyer. Le message sera envoyé dès que possible.",
    ),
    "SENT": (
        SUBMITTED,
        "Le message a été envoyé mais aucun accusé de réception n'est disponible pour ce numéro.",
    ),
    "NOT_DELIVERED": (FAILED, "Le message ne peut pas être remis au destinataire."),
    "DELIVERED": (DELIVERED, "Le message a été envoyé et reçu."),
    "NOT_ALLOWED": (FAILED, "Aucun message ne peut être envoyé vers ce numéro."),
    "INVALID_DESTINATION_ADDRESS": (FAILED, "Le numéro indiqué n'est pas valide."),
}


def send_status(code: str) -> tuple[Outcome, str]:
    """What an apiV2.php status proves, and the document's description of it."""
    return SEND_STATUSES.get(code, (U, "undocumented status"))


def report_answer(code: str) -> tuple[Outcome, str]:
    """What a getDr.php status proves, and the document's description of it."""
    return REPORT_ANSWERS.get(code, (U, "undocumented status"))


def report_status(code: str) -> tuple[RecipientStatus, str]:
    """The normalised status and the document's description of a number's status."""
    return REPORT_STATUSES.get(code, (UNKNOWN, "undocumented status"))


# Section 1.2.1.4: the text is GSM 7-bit (GSM 03.38, the table the document links to). Form
# feed, an extension character of GSM 03.38, cannot travel in an XML 1.0 document (it is not
# a "Char" of XML 1.0 section 2.2, even as &#12;): a text holding one is refused with the
# characters the provider would change.
GSM_EXTENDED: frozenset[str] = STANDARD_GSM_EXTENDED - {"\f"}
