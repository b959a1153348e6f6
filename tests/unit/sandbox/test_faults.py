"""Fault injection rules, in process (the two connection faults run over real HTTP in
test_server.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from starlette.responses import PlainTextResponse, Response

from dispatcher.sandbox.faults import FaultAction, FaultInjector, FaultRuleError
from dispatcher.sandbox.injection import apply

from .conftest import TOKEN, accepted_id, get, send, submissions

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def add_fault(client: TestClient, **rule: Any) -> str:
    rule.setdefault("provider", "smsmode")
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text
    fault_id = response.json()["id"]
    assert isinstance(fault_id, str)
    return fault_id


def test_code_action_answers_that_code_and_accepts_nothing(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": "50"})
    assert send(client, message="Hi", numero="33612345678") == "50 | Temporarily unavailable"
    assert submissions(client) == []


def test_code_action_31_on_send(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": "31"})
    assert send(client, message="Hi", numero="33612345678") == "31 | Internal error"


def test_code_action_on_report_uses_the_report_wording(client: TestClient) -> None:
    add_fault(client, endpoint="report", action={"type": "code", "code": "61"})
    assert get(client, "compteRendu.do", accessToken=TOKEN, smsID="x") == "61 | SMS not found"


def test_http_status_action(client: TestClient) -> None:
    add_fault(
        client, endpoint="send", action={"type": "http_status", "status": 503, "body": "busy"}
    )
    response = client.get("/http/1.6/sendSMS.do", params={"accessToken": TOKEN})
    assert (response.status_code, response.text) == (503, "busy")


def test_http_status_action_accepts_nothing(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "http_status", "status": 502})
    client.post(
        "/http/1.6/sendSMS.do",
        data={"accessToken": TOKEN, "message": "Hi", "numero": "33612345678"},
    )
    assert submissions(client) == []


def test_garbage_action_answers_an_undocumented_body(client: TestClient) -> None:
    add_fault(client, endpoint="credit", action={"type": "garbage", "body": "<html>oops</html>"})
    response = client.get("/http/1.6/credit.do", params={"accessToken": TOKEN})
    assert (response.status_code, response.text) == (200, "<html>oops</html>")


def test_latency_action_then_processes_normally(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "latency", "delay": 0.01})
    accepted_id(send(client, message="Hi", numero="33612345678"))


def test_accept_then_timeout_records_the_submission(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "accept_then_timeout", "delay": 0})
    accepted_id(send(client, message="Hi", numero="33612345678"))
    assert len(submissions(client)) == 1


def test_accept_then_drop_processes_before_dropping() -> None:
    processed: list[bool] = []

    async def process() -> Response:
        processed.append(True)
        return PlainTextResponse("0 | Accepted | x")

    response = asyncio.run(apply(FaultAction("accept_then_drop"), process, PlainTextResponse))
    assert (processed, type(response).__name__) == ([True], "DropConnection")


def test_accept_then_status_records_the_submission_and_answers_the_status(
    client: TestClient,
) -> None:
    add_fault(client, endpoint="send", action={"type": "accept_then_status", "status": 500})
    params = {"accessToken": TOKEN, "message": "Hi", "numero": "33612345678"}
    answer = client.get("/http/1.6/sendSMS.do", params=params)
    assert (answer.status_code, len(submissions(client))) == (500, 1)


def test_times_limits_how_many_requests_a_rule_applies_to(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": "50"}, times=1)
    first = send(client, message="Hi", numero="33612345678")
    second = send(client, message="Hi", numero="33612345678")
    assert (first, second.split(" | ")[0]) == ("50 | Temporarily unavailable", "0")


def test_match_on_text_applies_only_to_matching_messages(client: TestClient) -> None:
    add_fault(
        client, endpoint="send", match={"text_contains": "é"}, action={"type": "code", "code": "50"}
    )
    assert send(client, message="Café", numero="33612345678").startswith("50 |")
    accepted_id(send(client, message="Tea", numero="33612345678"))


@pytest.mark.parametrize(
    ("match", "params"),
    [
        ({"numero_contains": "0699"}, {"numero": "33612345678,0699000000"}),
        ({"ref_client_contains": "batch-7"}, {"refClient": "x-batch-7-y"}),
        ({"token": TOKEN}, {}),
    ],
    ids=["numero", "ref_client", "token"],
)
def test_match_conditions(
    client: TestClient, match: dict[str, str], params: dict[str, str]
) -> None:
    add_fault(client, endpoint="send", match=match, action={"type": "code", "code": "50"})
    params = {"message": "Hi", "numero": "33612345678", **params}
    assert send(client, **params).startswith("50 |")


def test_unmatched_token_condition_lets_requests_through(client: TestClient) -> None:
    add_fault(
        client, endpoint="send", match={"token": "other"}, action={"type": "code", "code": "50"}
    )
    accepted_id(send(client, message="Hi", numero="33612345678"))


def test_probability_draws_are_reproducible() -> None:
    def outcomes() -> list[bool]:
        injector = FaultInjector({"smsmode": frozenset({"send"})}, seed=7)
        injector.add(
            {"endpoint": "send", "probability": 0.5, "action": {"type": "code", "code": "50"}}
        )
        return [injector.pick("smsmode", "send", dict) is not None for _ in range(40)]

    first = outcomes()
    assert first == outcomes()
    assert 5 < sum(first) < 35


def test_faults_can_be_listed_and_deleted(client: TestClient) -> None:
    fault_id = add_fault(client, endpoint="send", action={"type": "code", "code": "50"})
    listed = client.get("/_sandbox/faults").json()["faults"]
    deleted = client.delete(f"/_sandbox/faults/{fault_id}").json()
    assert ([f["id"] for f in listed], deleted) == ([fault_id], {"deleted": 1})
    accepted_id(send(client, message="Hi", numero="33612345678"))


def test_deleting_all_faults(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": "50"})
    add_fault(client, endpoint="report", action={"type": "code", "code": "31"})
    assert client.delete("/_sandbox/faults").json() == {"deleted": 2}


def test_deleting_an_unknown_fault_is_404(client: TestClient) -> None:
    assert client.delete("/_sandbox/faults/f999").status_code == 404


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "nope", "action": {"type": "code", "code": "50"}},
        {"endpoint": "send", "action": {"type": "explode"}},
        {"endpoint": "send", "action": {"type": "latency"}},
        {"endpoint": "send", "action": {"type": "code", "code": "50"}, "probability": 2},
        {"endpoint": "send", "action": {"type": "code", "code": "50"}, "match": {"x": "y"}},
        {"provider": "other", "endpoint": "send", "action": {"type": "code", "code": "50"}},
    ],
    ids=["endpoint", "action-type", "latency-without-delay", "probability", "match", "provider"],
)
def test_invalid_rules_are_refused_with_400(client: TestClient, rule: dict[str, Any]) -> None:
    assert client.post("/_sandbox/faults", json=rule).status_code == 400


def test_invalid_rule_is_a_fault_rule_error() -> None:
    injector = FaultInjector({"smsmode": frozenset({"send"})})
    with pytest.raises(FaultRuleError):
        injector.add({"endpoint": "send", "times": -1, "action": {"type": "accept_then_drop"}})


def test_config_faults_are_active_from_the_start(make_client: Callable[..., TestClient]) -> None:
    rule = {"provider": "smsmode", "endpoint": "send", "action": {"type": "code", "code": "50"}}
    client = make_client(faults=(rule,))
    assert send(client, message="Hi", numero="33612345678").startswith("50 |")


def test_faulted_requests_are_counted(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "code", "code": "50"})
    send(client, message="Hi", numero="33612345678")
    assert client.get("/_sandbox/stats").json()["requests"]["smsmode.send"] == 1
