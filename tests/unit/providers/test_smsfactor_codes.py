"""SMSFactor's tables, row by row: send statuses (1.3.1.1), getDr statuses (2.3.1.1), the
per-number statuses (2.3.1.2), and the GSM set (1.2.1.4)."""

from __future__ import annotations

import pytest

from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import GSM_BASIC, Encoding
from dispatcher.domain.text import GSM_EXTENDED as STANDARD_EXTENDED
from dispatcher.providers import smsfactor_codes as codes

from ._http import response
from ._smsfactor import batch, provider, send_answer

A, P, U = Outcome.ACCEPTED, Outcome.PERMANENT, Outcome.UNKNOWN
D, S, F = RecipientStatus.DELIVERED, RecipientStatus.SUBMITTED, RecipientStatus.FAILED

# Section 1.3.1.1, every row; outcomes as docs/providers.md, "SMSFactor", reads them.
SEND = [
    ("1", "Message envoyé", A),
    ("-1", "Le login et le mot de passe ne correspondent pas.", P),
    ("-2", "Erreur XML", P),
    ("-3", "Le nombre de crédits n'est pas suffisant", P),
    ("-4", "La date différée n'est pas correcte", P),
    ("-5", "La liste des destinataires contient une erreur.", P),
]

# Section 2.3.1.1, every row.
REPORT = [
    ("1", "Message envoyé", A),
    ("-1", "Le login et le mot de passe ne correspondent pas.", P),
    ("-2", "Erreur XML", P),
]

# Section 2.3.1.2, every status.
STATUSES = [
    ("NOT_SENT", S, "sera envoyé dès que possible"),
    ("SENT", S, "aucun accusé de réception n'est disponible"),
    ("NOT_DELIVERED", F, "ne peut pas être remis"),
    ("DELIVERED", D, "envoyé et reçu"),
    ("NOT_ALLOWED", F, "Aucun message ne peut être envoyé vers ce numéro"),
    ("INVALID_DESTINATION_ADDRESS", F, "pas valide"),
]


@pytest.mark.parametrize(("code", "description", "outcome"), SEND)
def test_every_send_status(code: str, description: str, outcome: Outcome) -> None:
    assert codes.send_status(code) == (outcome, description)


@pytest.mark.parametrize(("code", "description", "outcome"), SEND)
def test_every_send_status_in_an_answer(code: str, description: str, outcome: Outcome) -> None:
    result = provider().parse_send_response(response(send_answer(code, "", "T1")), batch())
    assert (result.outcome, result.code, result.description) == (outcome, code, description)


@pytest.mark.parametrize(("code", "description", "outcome"), REPORT)
def test_every_report_answer_status(code: str, description: str, outcome: Outcome) -> None:
    assert codes.report_answer(code) == (outcome, description)


@pytest.mark.parametrize(("code", "status", "words"), STATUSES)
def test_every_number_status(code: str, status: RecipientStatus, words: str) -> None:
    found, description = codes.report_status(code)
    assert found is status
    assert words in description


def test_the_tables_have_exactly_the_documented_codes() -> None:
    assert set(codes.SEND_STATUSES) == {code for code, _, _ in SEND}
    assert set(codes.REPORT_ANSWERS) == {code for code, _, _ in REPORT}
    assert set(codes.REPORT_STATUSES) == {code for code, _, _ in STATUSES}


def test_no_documented_answer_is_transient() -> None:
    # Only HTTP 502/503 and refused connections prove nothing was accepted (docs/providers.md).
    outcomes = {o for o, _ in codes.SEND_STATUSES.values()}
    outcomes |= {o for o, _ in codes.REPORT_ANSWERS.values()}
    assert Outcome.TRANSIENT not in outcomes


@pytest.mark.parametrize("code", ["0", "2", "-6", "", "OK", "-1 "])
def test_an_unmapped_request_status_is_unknown(code: str) -> None:
    assert codes.send_status(code)[0] is Outcome.UNKNOWN
    assert codes.report_answer(code)[0] is Outcome.UNKNOWN


@pytest.mark.parametrize(
    "code", ["EXPIRED", "delivered", "BUFFERED", "", "1", "NOT_ENOUGH_CREDITS", "REJECTED"]
)
def test_an_unmapped_number_status_is_unknown(code: str) -> None:
    assert codes.report_status(code) == (RecipientStatus.UNKNOWN, "undocumented status")


@pytest.mark.parametrize("code", ["NOT_SENT", "SENT"])
def test_pending_statuses_are_not_final(code: str) -> None:
    assert not codes.report_status(code)[0].is_final


def test_the_gsm_set_is_gsm_03_38_less_form_feed() -> None:
    assert set(codes.GSM_EXTENDED) == set(STANDARD_EXTENDED) - {"\f"}
    assert provider().gsm_basic == GSM_BASIC


@pytest.mark.parametrize("char", sorted(GSM_BASIC))
def test_each_basic_character_is_one_septet(char: str) -> None:
    measured = provider().measure(char)
    assert (measured.encoding, measured.units) == (Encoding.GSM, 1)


@pytest.mark.parametrize("char", sorted(codes.GSM_EXTENDED))
def test_each_extension_character_is_two_septets(char: str) -> None:
    measured = provider().measure(char)
    assert (measured.encoding, measured.units) == (Encoding.GSM, 2)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (1071, 7), (1072, 8), (1120, 8)],
)
def test_segments_are_160_then_153(length: int, segments: int) -> None:
    # Section 1.2.1.6: "coupe les SMS par tranche de 153 caractères".
    assert provider().measure("a" * length).segments == segments
