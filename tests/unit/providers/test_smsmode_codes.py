"""sMsmode's tables: every status of the annex, and the accepted character table (section 3)."""

from __future__ import annotations

import urllib.parse

import pytest

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.domain.text import Encoding
from dispatcher.providers import smsmode_codes as codes

from ._smsmode import provider

D, S, F, E, U = (
    RecipientStatus.DELIVERED,
    RecipientStatus.SUBMITTED,
    RecipientStatus.FAILED,
    RecipientStatus.EXPIRED,
    RecipientStatus.UNKNOWN,
)

# Annex "Summary list of statuses of returned SMSs", row by row, and section 11's 39.
ANNEX = [
    ("0", "Sent", S),
    ("1", "In progress", S),
    ("2", "Internal error", F),
    ("10", "Programmed", S),
    ("11", "Received", D),
    ("12", "Partially delivered", S),
    ("13", "Issued operator (temporary status)", S),
    ("14", "Issued", D),
    ("15", "Partially received", S),
    ("16", "Listened", D),
    ("21", "Not deliverable", F),
    ("22", "Rejected", F),
    ("33", "Not sent - insufficient credit", F),
    ("34", "Routing error", F),
    ("35", "Reception error", F),
    ("36", "Message error", F),
    ("37", "Expired message", E),
    ("38", "Message too long", F),
    ("50", "Not delivered", F),
    ("40", "Model", U),
    ("100", "Read", D),
    ("101", "Not read", D),
    ("999", "Undefined", U),
    ("3501", "Temporary operator error", S),
    ("3502", "Temporary absence error", S),
    ("3503", "Temporary phone error", S),
    ("3504", "Temporary portability error", S),
    ("3521", "Permanent operator error", F),
    ("3522", "Permanent absence error", F),
    ("3523", "Permanent phone error", F),
    ("3524", "Permanent anti-spam error", F),
    ("3525", "Permanent content error", F),
    ("3526", "Permanent portability error", F),
    ("3527", "Permanent roaming error", F),
    ("3560", "Non-routable error", F),
    ("3599", "Other error", F),
    ("3998", "Invalid recipient", F),
    ("3999", "Blacklisted recipient", F),
    ("39", "Delivery error", F),  # section 11
]


@pytest.mark.parametrize(("code", "description", "status"), ANNEX)
def test_every_status_code(code: str, description: str, status: RecipientStatus) -> None:
    assert codes.report_status(code) == (status, description)


def test_the_table_has_exactly_the_documented_codes() -> None:
    assert set(codes.REPORT_STATUSES) == {code for code, _, _ in ANNEX}


@pytest.mark.parametrize("code", ["3", "17", "61", "3505", "4000", ""])
def test_an_unmapped_status_is_unknown(code: str) -> None:
    assert codes.report_status(code)[0] is RecipientStatus.UNKNOWN


@pytest.mark.parametrize("code", ["13", "0", "1", "10", "3501", "12", "15"])
def test_temporary_statuses_are_not_final(code: str) -> None:
    assert not codes.report_status(code)[0].is_final


# Section 3 "Character encoding", every row, OCR damage repaired (see smsmode_codes.py).
# (character, code in the table, starred = counts double)
TABLE = [
    ("\n", "%0A", False),
    ("\r", "%0D", False),
    (" ", "+", False),
    ("!", "%21", False),
    ('"', "%22", False),
    ("#", "%23", False),
    ("$", "%24", False),
    ("%", "%25", False),
    ("&", "%26", False),
    ("'", "%27", False),
    ("(", "%28", False),
    (")", "%29", False),
    ("*", "*", False),
    ("+", "%2B", False),
    (",", "%2C", False),
    ("-", "-", False),
    (".", ".", False),
    ("/", "%2F", False),
    ("{", "%7B", True),
    ("|", "%7C", True),
    ("}", "%7D", True),
    ("~", "%7E", True),
    ("[", "%5B", True),
    ("\\", "%5C", True),
    ("]", "%5D", True),
    ("^", "%5E", True),
    (":", "%3A", False),
    (";", "%3B", False),
    ("<", "%3C", False),
    ("=", "%3D", False),
    (">", "%3E", False),
    ("?", "%3F", False),
    ("@", "%40", False),
    ("_", "_", False),
    ("¡", "%A1", False),
    ("£", "%A3", False),
    ("€", "%A4", True),
    ("¥", "%A5", False),
    ("§", "%A7", False),
    ("¿", "%BF", False),
    ("Ä", "%C4", False),
    ("Å", "%C5", False),
    ("Æ", "%C6", False),
    ("Ç", "%C7", False),
    ("È", "%C8", False),
    ("É", "%C9", False),
    ("Ñ", "%D1", False),
    ("Ö", "%D6", False),
    ("Ø", "%D8", False),
    ("Ü", "%DC", False),
    ("ß", "%DF", False),
    ("à", "%E0", False),
    ("ä", "%E4", False),
    ("å", "%E5", False),
    ("æ", "%E6", False),
    ("è", "%E8", False),
    ("é", "%E9", False),
    ("ì", "%EC", False),
    ("ñ", "%F1", False),
    ("ò", "%F2", False),
    ("ö", "%F6", False),
    ("ø", "%F8", False),
    ("ù", "%F9", False),
    ("ü", "%FC", False),
] + [(c, c, False) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"]


@pytest.mark.parametrize(("char", "iso", "double"), TABLE)
def test_each_accepted_character(char: str, iso: str, double: bool) -> None:
    measured = provider().measure(char)
    assert measured.encoding is Encoding.GSM
    assert measured.units == (2 if double else 1)
    # The byte we send is the byte the table documents ("*" and "~" may be escaped or not).
    documented = urllib.parse.unquote_to_bytes(iso.replace("+", " "))
    assert char.encode("iso-8859-15") == documented


def test_the_sets_hold_the_table_and_nothing_else() -> None:
    assert {c for c, _, _ in TABLE} == codes.GSM_BASIC | codes.GSM_EXTENDED
    assert {c for c, _, double in TABLE if double} == codes.GSM_EXTENDED


@pytest.mark.parametrize("char", ["¤", "Δ", "Ω", "ê", "Û", "`", "’", "\f", "ı", "☺"])
def test_characters_outside_the_table_make_the_text_unicode(char: str) -> None:
    assert provider().measure(f"Hello {char}").encoding is Encoding.UNICODE
