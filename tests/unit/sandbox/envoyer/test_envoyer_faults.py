"""Fault injection on the Envoyer endpoints (the connection faults over a real socket are
exercised for every provider by test_server.py; here they run in process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_envoyer_support import (
    KEY,
    Clients,
    call,
    error_of,
    parse,
    request,
    send,
    send_params,
    sent_id,
    submissions,
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<envoyersmspro><status>&lol3;</status></envoyersmspro>"
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def add_fault(client: TestClient, **rule: Any) -> str:
    rule.setdefault("provider", "envoyer")
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text
    fault_id = response.json()["id"]
    assert isinstance(fault_id, str)
    return fault_id


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1", (401, 1, "Authentication failed")),
        ("5", (403, 5, "Not enough SMS")),
        ("6", (400, 6, "API request limit exceeded")),
        ("3", (400, 3, "Bad value of parameters")),
    ],
)
def test_code_action_answers_the_documented_error_and_accepts_nothing(
    client: TestClient, code: str, expected: tuple[int, int, str]
) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": code})
    assert error_of(send(client)) == expected
    assert submissions(client) == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_status_action(client: TestClient, status: int) -> None:
    add_fault(client, endpoint="send", action={"type": "http_status", "status": status})
    response = send(client)
    assert (response.status_code, response.text) == (status, "")
    assert submissions(client) == []


def test_garbage_action_can_carry_hostile_xml(client: TestClient) -> None:
    add_fault(client, endpoint="stats", action={"type": "garbage", "body": BILLION_LAUGHS})
    response = call(client, "message/stats", messageid="1")
    assert (response.status_code, response.text) == (200, BILLION_LAUGHS)


def test_latency_action_then_processes_normally(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "latency", "delay": 0.01})
    sent_id(send(client))


def test_accept_then_timeout_records_the_message(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "accept_then_timeout", "delay": 0})
    sent_id(send(client))
    assert len(submissions(client)) == 1


@pytest.mark.parametrize(
    ("endpoint", "path", "params"),
    [
        ("send", "message/send", {}),
        ("stats", "message/stats", {"messageid": "1"}),
        ("cancel", "message/cancel", {"messageid": "1"}),
        ("status", "account/status", {}),
        ("status", "account/getallaccounts", {}),
        ("stopsms", "stopsms/check", {"phonenumber": "33612345678"}),
        ("stopsms", "stopsms/activate", {"phonenumber": "33612345678"}),
        ("stopsms", "stopsms/deactivate", {"phonenumber": "33612345678"}),
    ],
)
def test_each_function_has_its_fault_endpoint_and_counter(
    client: TestClient, endpoint: str, path: str, params: dict[str, str]
) -> None:
    add_fault(client, endpoint=endpoint, action={"type": "http_status", "status": 502})
    assert request(client, path, params).status_code == 502
    assert client.get("/_sandbox/stats").json()["requests"][f"envoyer.{endpoint}"] == 1


@pytest.mark.parametrize(
    ("match", "params"),
    [
        ({"text_contains": "é"}, {"text": "Café"}),
        ({"numero_contains": "0699"}, {"recipients": "33612345678,33606990000"}),
        ({"ref_client_contains": "batch-7"}, {"tag": "x-batch-7"}),
    ],
    ids=["text", "numero", "tag"],
)
def test_match_conditions(
    client: TestClient, match: dict[str, str], params: dict[str, str]
) -> None:
    add_fault(client, endpoint="send", match=match, action={"type": "code", "code": "5"})
    assert error_of(send_params(client, params))[1] == 5
    sent_id(send(client, text="other", recipients="33612345678"))


def test_token_match_is_the_accounts_store_key(client: TestClient) -> None:
    add_fault(client, endpoint="status", match={"token": KEY}, action={"type": "code", "code": "5"})
    response = client.get("/api/account/status?login=sandbox&password=sandbox-token")
    assert error_of(response)[1] == 5


def test_token_match_ignores_other_accounts(client: TestClient) -> None:
    rule = {"token": "envoyer:other:1"}
    add_fault(client, endpoint="send", match=rule, action={"type": "code", "code": "5"})
    sent_id(send(client))


def test_faulted_requests_do_not_count_against_the_rate_limit(make: Clients) -> None:
    client = make({"accounts": [{"login": "a", "password": "p", "api_request_limit": 1}]})
    add_fault(client, endpoint="status", action={"type": "http_status"}, times=3)
    for _ in range(3):
        assert call(client, "account/status", auth=("a", "p")).status_code == 503
    assert parse(call(client, "account/status", auth=("a", "p"))).status == 200


def test_unknown_endpoint_names_are_refused(client: TestClient) -> None:
    rule = {"provider": "envoyer", "endpoint": "report", "action": {"type": "http_status"}}
    assert client.post("/_sandbox/faults", json=rule).status_code == 400
