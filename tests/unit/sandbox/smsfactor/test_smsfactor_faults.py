"""Fault injection on the SMSFactor endpoints ("send", "report"), in process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_smsfactor_support import (
    BILLION_LAUGHS,
    REPORT,
    SEND,
    report,
    send,
    sms_xml,
    submissions,
    ticket_of,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def add_fault(client: TestClient, **rule: Any) -> None:
    rule.setdefault("provider", "smsfactor")
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("1", "-1", "Le login et le mot de passe ne correspondent pas."),
        ("2", "-2", "Erreur XML"),
        ("3", "-3", "Le nombre de crédits n'est pas suffisant"),
        ("4", "-4", "La date différée n'est pas correcte"),
        ("5", "-5", "La liste des destinataires contient une erreur."),
        ("9", "-9", "Erreur"),
    ],
)
def test_code_action_answers_that_negative_status_and_accepts_nothing(
    sf: TestClient, code: str, status: str, message: str
) -> None:
    add_fault(sf, endpoint="send", action={"type": "code", "code": code})
    answer = send(sf)
    assert (answer.status, answer.message, answer.tags) == (
        status,
        message,
        ["status", "message"],
    )
    assert submissions(sf) == []


def test_code_action_on_report(sf: TestClient) -> None:
    ticket = ticket_of(send(sf))
    add_fault(sf, endpoint="report", action={"type": "code", "code": "1"})
    assert report(sf, ticket).status == "-1"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_status_action_accepts_nothing(sf: TestClient, status: int) -> None:
    add_fault(sf, endpoint="send", action={"type": "http_status", "status": status})
    response = sf.post(SEND, content=sms_xml())
    assert (response.status_code, response.text) == (status, "")
    assert submissions(sf) == []


def test_garbage_action_can_answer_a_billion_laughs(sf: TestClient) -> None:
    add_fault(sf, endpoint="report", action={"type": "garbage", "body": BILLION_LAUGHS})
    response = sf.post(REPORT, content=b"<deliveryreport/>")
    assert (response.status_code, response.text) == (200, BILLION_LAUGHS)


def test_latency_action_then_processes(sf: TestClient) -> None:
    add_fault(sf, endpoint="send", action={"type": "latency", "delay": 0})
    ticket_of(send(sf))


def test_accept_then_timeout_records_the_submission(sf: TestClient) -> None:
    add_fault(sf, endpoint="send", action={"type": "accept_then_timeout", "delay": 0})
    ticket = ticket_of(send(sf))
    assert [s["id"] for s in submissions(sf)] == [ticket]


def test_accept_then_drop_records_the_submission_but_sends_no_answer(sf: TestClient) -> None:
    add_fault(sf, endpoint="send", action={"type": "accept_then_drop"})
    response = sf.post(SEND, content=sms_xml(text="dropped"))
    assert (response.content, [s["text"] for s in submissions(sf)]) == (b"", ["dropped"])


@pytest.mark.parametrize(
    ("match", "document"),
    [
        ({"token": "sandbox@example.com"}, {}),
        ({"text_contains": "ë"}, {"text": "Noël"}),
        ({"numero_contains": "0699"}, {"gsm": ["33612345678", "33600699000"]}),
        ({"ref_client_contains": "batch-7"}, {"gsm": [("33612345678", "x-batch-7-y")]}),
    ],
    ids=["login", "text-before-conversion", "numbers", "gsmsmsid"],
)
def test_match_conditions(sf: TestClient, match: dict[str, str], document: Any) -> None:
    add_fault(sf, endpoint="send", match=match, action={"type": "code", "code": "5"})
    assert send(sf, **document).status == "-5"


def test_unmatched_condition_lets_requests_through(sf: TestClient) -> None:
    add_fault(
        sf, endpoint="send", match={"text_contains": "ë"}, action={"type": "code", "code": "5"}
    )
    ticket_of(send(sf, text="Noel"))


def test_times_limits_the_rule(sf: TestClient) -> None:
    add_fault(sf, endpoint="send", action={"type": "code", "code": "2"}, times=1)
    assert [send(sf).status, send(sf).status] == ["-2", "1"]


def test_only_the_declared_endpoint_names_are_accepted(sf: TestClient) -> None:
    rule = {"provider": "smsfactor", "endpoint": "status", "action": {"type": "code", "code": "2"}}
    assert sf.post("/_sandbox/faults", json=rule).status_code == 400


def test_faulted_requests_are_counted(sf: TestClient) -> None:
    add_fault(sf, endpoint="send", action={"type": "http_status"})
    sf.post(SEND, content=sms_xml())
    assert sf.get("/_sandbox/stats").json()["requests"]["smsfactor.send"] == 1
