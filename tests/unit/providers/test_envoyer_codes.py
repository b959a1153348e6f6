"""Envoyer SMS Pro's tables, row by row: "Messages d'erreur" (and its detailed list for 2 and
3), "Les statuts de réception des SMS", "Les statuts de STOP SMS", and the character count."""

from __future__ import annotations

import pytest

from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding
from dispatcher.providers import envoyer_codes as codes

from ._envoyer import batch, error, provider
from ._http import response

P, U, A = Outcome.PERMANENT, Outcome.UNKNOWN, Outcome.ACCEPTED

# error_id, error_message, and the outcome on send, stats, cancel and the other calls.
ERRORS = [
    ("1", "Authentication failed", P, P, P, P),
    ("2", "Missing parameters", P, P, P, P),
    ("3", "Bad value of parameters", P, P, P, P),
    ("4", "Message too long", P, P, P, P),
    ("5", "Not enough SMS", P, P, P, P),
    ("7", "Unknown messageid", U, P, P, U),
    ("8", "Message is pending", U, A, U, U),
    ("9", "Message is being sent", U, U, P, U),
    ("10", "Message has been sent", U, U, P, U),
    ("11", "Message is already cancelled", U, U, A, U),
    ("12", "Message cannot received response", U, U, U, U),
]


@pytest.mark.parametrize(("code", "message", "send", "poll", "cancel", "other"), ERRORS)
def test_every_error_id(
    code: str, message: str, send: Outcome, poll: Outcome, cancel: Outcome, other: Outcome
) -> None:
    assert codes.ERROR_MESSAGES[code] == message
    assert codes.SEND_ERRORS[code] is send
    assert codes.POLL_ERRORS[code] is poll
    assert codes.CANCEL_ERRORS[code] is cancel
    assert codes.ACCOUNT_ERRORS[code] is other


def test_the_tables_have_exactly_the_documented_ids() -> None:
    documented = {row[0] for row in ERRORS}
    for table in (
        codes.ERROR_MESSAGES,
        codes.SEND_ERRORS,
        codes.POLL_ERRORS,
        codes.CANCEL_ERRORS,
        codes.ACCOUNT_ERRORS,
    ):
        assert set(table) == documented


@pytest.mark.parametrize("code", ["0", "6", "13", "", "01"])
def test_an_undocumented_error_id_is_unknown_outside_a_400(code: str) -> None:
    assert codes.error_outcome(codes.SEND_ERRORS, 200, code, "") == (U, False)


# "Messages d'erreur", the detailed messages of error_id 2 and 3 (the document writes both
# "-" and "–"). Each is a refusal of the request as written, never the request limit.
DETAILED = [
    ("2", "Missing parameters - Recipients are missing"),
    ("2", "Missing parameters – Text is missing"),
    ("2", "Missing parameters - Sendername is missing"),
    ("2", "Missing parameters - Senddate is missing"),
    ("2", "Missing parameters - Sendtime is missing"),
    ("3", "Bad value of parameters - Wrong numbers : 3360000, 33700"),
    ("3", "Bad value of parameters – No number found"),
    ("3", "Bad value of parameters – No message found"),
    ("3", "Bad value of parameters – No sendername found"),
    ("3", "Bad value of parameters – Sendername must be longer than 2 characters"),
    ("3", "Bad value of parameters – Sendername must be shorter than 12 characters"),
    ("3", "Bad value of parameters – Sendername cannot contain special characters"),
    ("3", "Bad value of parameters – Sendername cannot be a number"),
    ("3", "Bad value of parameters – Senddate must contains 8 digits"),
    ("3", "Bad value of parameters – Unrecognized date"),
    ("3", "Bad value of parameters – Sendtime must contains 4 digits"),
    ("3", "Bad value of parameters – Bad hour value for sendtime"),
    ("3", "Bad value of parameters – Bad minute value for sendtime"),
    ("3", "Bad value of parameters – Too many recipients"),
    ("3", "Bad value of parameters – Tag cannot be empty"),
    ("3", "Bad value of parameters – Tag must must be shorter than 21 characters."),
    ("3", "Bad value of parameters – Accountname is missing"),
    ("3", "Bad value of parameters – Accountname cannot be null"),
    ("3", "Bad value of parameters – Accountname must be shorter than 51"),
    ("3", "Bad value of parameters – Deleteaccountid is missing"),
    ("3", "Bad value of parameters – Deleteaccountid cannot be null"),
    ("3", "Bad value of parameters – Debitaccountid is missing"),
    ("3", "Bad value of parameters – Creditaccountid is missing"),
    ("3", "Bad value of parameters – Sms is missing"),
    ("3", "Bad value of parameters – Debitaccountid cannot be null"),
    ("3", "Bad value of parameters – Creditaccountid cannot be null"),
    ("3", "Bad value of parameters – Sms cannot be null"),
    ("3", "Bad value of parameters – Debitaccountid and creditaccountid cannot be null."),
    ("3", "Bad value of parameters – Sms must be strictly positive"),
    ("3", "Bad value of parameters – Debitaccountid does not exist"),
    ("3", "Bad value of parameters – Creditaccountid does not exist"),
    ("3", "Bad value of parameters – Debit account has not enough SMS"),
    ("3", "Bad value of parameters – Phonenumber is missing"),
    ("3", "Bad value of parameters – Phonenumber cannot be null"),
    ("3", "Bad value of parameters – You do not send SMS to the 33600000000"),
    ("3", "Bad value of parameters - Offset should be an integer"),
    ("3", "Bad value of parameters - Offset cannot be bigger than the number of response"),
]


@pytest.mark.parametrize(("code", "message"), DETAILED)
def test_every_detailed_message_is_a_permanent_refusal(code: str, message: str) -> None:
    result = provider().parse_send_response(response(error(code, message), 400), batch())
    assert (result.outcome, result.code, result.description) == (P, code, message)
    assert not result.rate_limited
    assert codes.RATE_LIMIT_WORDS.search(message) is None


@pytest.mark.parametrize(("code", "message", "send", "poll", "cancel", "other"), ERRORS)
def test_no_documented_message_reads_as_the_request_limit(
    code: str, message: str, send: Outcome, poll: Outcome, cancel: Outcome, other: Outcome
) -> None:
    assert codes.error_outcome(codes.SEND_ERRORS, 400, code, message) == (send, False)


# "Les statuts de réception des SMS": status_id, description, état.
STATUSES = [
    ("1", "SMS délivré", RecipientStatus.DELIVERED, True),
    ("2", "SMS non délivré", RecipientStatus.FAILED, True),
    ("3", "SMS délivré à l'opérateur", RecipientStatus.SUBMITTED, False),
    ("4", "SMS en cours de traitement", RecipientStatus.SUBMITTED, False),
    ("5", "en STOP SMS", RecipientStatus.FAILED, True),
]


@pytest.mark.parametrize(("code", "description", "status", "final"), STATUSES)
def test_every_status_id(code: str, description: str, status: RecipientStatus, final: bool) -> None:
    assert codes.report_status(code) == (status, description)
    assert status.is_final is final  # "Final" / "Intermédiaire"


def test_the_status_table_has_exactly_the_documented_ids() -> None:
    assert set(codes.REPORT_STATUSES) == {row[0] for row in STATUSES}
    assert codes.OPTED_OUT == "5"


@pytest.mark.parametrize("code", ["0", "6", "11", "", "1 "])
def test_an_undocumented_status_is_unknown(code: str) -> None:
    assert codes.report_status(code)[0] is RecipientStatus.UNKNOWN


def test_every_stop_sms_status() -> None:
    # "Les statuts de STOP SMS": 0 not activated, 1 activated.
    assert dict(codes.STOP_SMS_STATUSES) == {"0": False, "1": True}


# -- characters ("Détails sur le nombre de caractères") -------------------------------------------


@pytest.mark.parametrize(
    ("char", "units"),
    [
        ("a", 1),
        ("é", 1),  # GSM's own accented letters count once
        ("è", 1),
        ("à", 1),
        ("Ç", 1),
        ("@", 1),
        ("\n", 2),  # "les retours à la ligne comptent pour 2 caractères"
        ("\r", 2),
        ("€", 2),  # "les caractères spéciaux": GSM's extension characters
        ("{", 2),
        ("}", 2),
        ("[", 2),
        ("]", 2),
        ("~", 2),
        ("\\", 2),
        ("^", 2),
        ("|", 2),
        ("\f", 2),
    ],
)
def test_character_count(char: str, units: int) -> None:
    measured = provider().measure(char)
    assert (measured.encoding, measured.units) == (Encoding.GSM, units)


def test_the_sets_are_gsm_with_line_breaks_counted_double() -> None:
    assert codes.GSM_BASIC | codes.GSM_EXTENDED == GSM_BASIC | GSM_EXTENDED
    assert {*GSM_EXTENDED, "\n", "\r"} == codes.GSM_EXTENDED
    assert not codes.GSM_BASIC & codes.GSM_EXTENDED


def test_the_stop_mention_leaves_141_characters() -> None:
    # "STOP SMS au 36111" preceded by a line break: 17 + 2.
    mention = provider().measure("\nSTOP SMS au 36111").units
    assert 160 - mention == 141


@pytest.mark.parametrize("char", ["ç", "ê", "ô", "â", "î", "û", "ë", "’", "☺", "`"])
def test_characters_outside_gsm_are_not_gsm(char: str) -> None:
    assert provider().measure(f"Bonjour {char}").non_gsm == (char,)
