"""sMsmode's code tables, copied row by row from its HTTP API document.

Sections cited are those of the English document "HTTP API 1.6" v3.3; the French v3.1 has
the same tables. Codes are kept as the strings the provider sends. A code missing from a table
is unknown, never transient (docs/architecture.md, "Never the same SMS twice").
"""

from __future__ import annotations

from collections.abc import Mapping

from dispatcher.domain.statuses import Outcome, RecipientStatus

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN
DELIVERED, SUBMITTED = RecipientStatus.DELIVERED, RecipientStatus.SUBMITTED
FAILED, EXPIRED, UNKNOWN = RecipientStatus.FAILED, RecipientStatus.EXPIRED, RecipientStatus.UNKNOWN

# Section 3 "Response" (the same rows in sections 12, 15 and 17). Only 31 and 50 carry no
# smsID and prove nothing was accepted (docs/providers.md, "Answers and classification").
SEND_CODES: Mapping[str, tuple[Outcome, str]] = {
    "0": (A, "Accepted - message is accepted by the system and is currently being processed"),
    "31": (T, "Internal error"),
    "32": (P, "Authentication error"),
    "33": (P, "Insufficient account balance"),
    "35": (P, "Missing mandatory parameter"),
    "50": (T, "Temporarily unavailable"),
}

# Section 4 "Response", error codes of compteRendu.do. 61 means the provider no longer knows the
# smsID (its search covers the last 30 days): the poll result is marked gone.
REPORT_ERRORS: Mapping[str, tuple[Outcome, str]] = {
    "31": (T, "Internal error"),
    "35": (P, "Missing mandatory parameter"),
    "61": (P, "SMS not found"),
}
REPORT_GONE = "61"

# Section 9 "Response" of deleteSMS.do.
DELETE_CODES: Mapping[str, tuple[Outcome, str]] = {
    "0": (A, "SMS message deleted"),
    "31": (T, "Internal error"),
    "32": (P, "Authentication error"),
    "35": (P, 'Invalid parameters ("accessToken", "numero" or "smsID" are mandatory)'),
    "61": (P, "SMS message not found"),
}

# Section 11: the answers of smsStatus.do that are about the request, not the message. Its 35
# ("Invalid parameters") takes precedence over the annex's 35 ("Reception error") on that
# endpoint, which reports a delivery failure as 39 instead.
STATUS_ERRORS: Mapping[str, tuple[Outcome, str]] = {
    "32": (P, "Authentication error"),
    "35": (P, 'Invalid parameters ("accessToken" and "smsID" are mandatory parameters)'),
    "61": (P, "Invalid smsID"),
}

# Annex "Summary list of statuses of returned SMSs" (the last table), every row, plus the one
# code only section 11 uses (39). Section 4's table (0, 2, 11, 13, 34, 35) and section 11's
# (0, 2, 10, 11, 13, 3501-3503, 3521-3527, 3599, 3998, 3999) use the same numbers for the same
# states. Only final states rank as final (statuses.py), so a temporary code never ends
# tracking:
# - 13 "Issued operator" is marked temporary in the annex (section 4: the phone is off or out
#   of network); section 11 calls it "Delivered" and the French v3.1 "Délivré opérateur", i.e.
#   handed to the operator: submitted. 14 "Issued" (French "Délivré") has no such mark and
#   is read as delivered.
# - 12 and 15 ("partially ...") describe a multi-recipient campaign, not a handset: submitted.
# - 40 "Model" is a saved template, not a message state: unknown.
REPORT_STATUSES: Mapping[str, tuple[RecipientStatus, str]] = {
    "0": (SUBMITTED, "Sent"),
    "1": (SUBMITTED, "In progress"),
    "2": (FAILED, "Internal error"),
    "10": (SUBMITTED, "Programmed"),
    "11": (DELIVERED, "Received"),
    "12": (SUBMITTED, "Partially delivered"),
    "13": (SUBMITTED, "Issued operator (temporary status)"),
    "14": (DELIVERED, "Issued"),
    "15": (SUBMITTED, "Partially received"),
    "16": (DELIVERED, "Listened"),
    "21": (FAILED, "Not deliverable"),
    "22": (FAILED, "Rejected"),
    "33": (FAILED, "Not sent - insufficient credit"),
    "34": (FAILED, "Routing error"),
    "35": (FAILED, "Reception error"),
    "36": (FAILED, "Message error"),
    "37": (EXPIRED, "Expired message"),
    "38": (FAILED, "Message too long"),
    "39": (FAILED, "Delivery error"),  # section 11 only
    "40": (UNKNOWN, "Model"),
    "50": (FAILED, "Not delivered"),
    "100": (DELIVERED, "Read"),
    "101": (DELIVERED, "Not read"),
    "999": (UNKNOWN, "Undefined"),
    "3501": (SUBMITTED, "Temporary operator error"),
    "3502": (SUBMITTED, "Temporary absence error"),
    "3503": (SUBMITTED, "Temporary phone error"),
    "3504": (SUBMITTED, "Temporary portability error"),
    "3521": (FAILED, "Permanent operator error"),
    "3522": (FAILED, "Permanent absence error"),
    "3523": (FAILED, "Permanent phone error"),
    "3524": (FAILED, "Permanent anti-spam error"),
    # Section 11 prints "3526" twice ("Content" and "Portability"); the annex's 3525 is meant.
    "3525": (FAILED, "Permanent content error"),
    "3526": (FAILED, "Permanent portability error"),
    "3527": (FAILED, "Permanent roaming error"),
    "3560": (FAILED, "Non-routable error"),
    "3599": (FAILED, "Other error"),
    "3998": (FAILED, "Invalid recipient"),
    "3999": (FAILED, "Blacklisted recipient"),
}


def report_status(code: str) -> tuple[RecipientStatus, str]:
    """The normalised status and the annex's description of a report code."""
    return REPORT_STATUSES.get(code, (UNKNOWN, "undocumented status"))


# Section 3 "Character encoding": the characters sMsmode accepts in a regular (ISO-8859-15)
# SMS; anything else becomes "?" on its side, so a text holding one is sent as Unicode. The
# table reached us through OCR; each odd row, and what we read in it:
# - "` %27" (French: "‘ %27"): %27 is the apostrophe ', which is GSM; the backtick is not.
# - '" %22' (French: "“"): %22 is the ASCII double quote.
# - "\$ %24": a Markdown escape of $.
# - the blank row "%7C*": the vertical bar |, lost as a table separator; starred like the
#   other GSM extension characters.
# - "i %A1" (French: "ı"): 0xA1 is "¡" in ISO-8859-15, and "¡" is GSM.
# - "Û %FC": 0xFC is "ü" (GSM); "Û" is neither GSM nor 0xFC.
# - "€" appears twice, as %A4 (its ISO-8859-15 byte, what we send) and as %80* (its
#   Windows-1252 byte). GSM has it only as an extension, so it counts double.
# - "È %C8" is not in GSM 03.38 but the table lists it: the document wins, it is accepted.
# - "¤" and the Greek capitals of GSM 03.38 have no ISO-8859-15 byte and are not listed:
#   a text holding one goes as Unicode.
# - Every character the table shows as itself (letters, digits, "*", "-", ".", "_") is the
#   unreserved URL character it names.
GSM_BASIC: frozenset[str] = frozenset(
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    "¡£¥§¿ÄÅÆÇÈÉÑÖØÜßàäåæèéìñòöøùü"
)
# The starred rows ("these characters count double"), "|" and "€" included.
GSM_EXTENDED: frozenset[str] = frozenset("{|}~[\\]^€")
