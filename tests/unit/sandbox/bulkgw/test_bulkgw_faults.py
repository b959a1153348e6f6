"""Fault rules on the bulk gateway's "send" and "schedule" endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_bulkgw_support import (
    Factory,
    items,
    submissions,
    submit,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

TWO = "33612345678,+33612345679"


def add_fault(client: TestClient, **rule: Any) -> None:
    rule = {"provider": "bulkgw", "endpoint": "send", **rule}
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text


def code(value: str) -> dict[str, str]:
    return {"type": "code", "code": value}


@pytest.mark.parametrize("value", ["1709", "1715", "1732", "1041", "1028", "69", "8", "88"])
def test_a_per_destination_code_is_answered_for_every_destination(
    client: TestClient, value: str
) -> None:
    add_fault(client, action=code(value))
    assert submit(client, destination=TWO) == f"{value}|33612345678|,{value}|33612345679|"
    assert submissions(client) == []


@pytest.mark.parametrize("value", ["1702", "1703", "1710", "1725", "16", "18"])
def test_a_request_level_code_is_answered_alone(client: TestClient, value: str) -> None:
    add_fault(client, action=code(value))
    assert submit(client, destination=TWO) == value
    assert submissions(client) == []


def test_a_per_destination_code_without_destinations_is_answered_alone(
    client: TestClient,
) -> None:
    add_fault(client, action=code("1709"))
    assert submit(client, destination=None) == "1709"  # type: ignore[arg-type]


def test_an_invalid_destination_is_echoed_as_received_in_a_fault_answer(
    client: TestClient,
) -> None:
    add_fault(client, action=code("1715"))
    assert submit(client, destination="12ab") == "1715|12ab|"


def test_http_status_action(client: TestClient) -> None:
    add_fault(client, action={"type": "http_status", "status": 503, "body": "busy"})
    response = client.get("/bulksms/bulksms", params={"username": "x"})
    assert (response.status_code, response.text) == (503, "busy")


def test_garbage_action(client: TestClient) -> None:
    add_fault(client, action={"type": "garbage", "body": "<html>oops</html>"})
    assert submit(client) == "<html>oops</html>"
    assert submissions(client) == []


def test_accept_then_timeout_records_the_submission(client: TestClient) -> None:
    add_fault(client, action={"type": "accept_then_timeout", "delay": 0})
    assert items(submit(client))[0][0] == "1701"
    assert len(submissions(client)) == 1


def test_latency_then_processes_normally(client: TestClient) -> None:
    add_fault(client, action={"type": "latency", "delay": 0.01})
    assert items(submit(client))[0][0] == "1701"


def test_schedule_faults_do_not_touch_send(client: TestClient) -> None:
    add_fault(client, endpoint="schedule", action=code("1709"))
    scheduled = submit(client, "schedulemsg", date="03/02/2024", time="10:00 am", gmt="+00:00")
    assert (scheduled, items(submit(client))[0][0]) == ("1709|33612345678|", "1701")


@pytest.mark.parametrize(
    ("match", "params"),
    [
        ({"token": "acme"}, {"username": "acme", "password": "pw"}),
        ({"text_contains": "é"}, {"message": "Café", "type": "2"}),
        ({"numero_contains": "447"}, {"destination": "33612345678,447911123456"}),
    ],
    ids=["username", "text", "destination"],
)
def test_rules_match_username_message_and_destinations(
    make: Factory, match: dict[str, str], params: dict[str, str]
) -> None:
    params = {"username": "sandbox", "password": "s", **params}
    accounts = [{"username": "acme", "password": "pw"}, {"username": "sandbox", "password": "s"}]
    client = make({"accounts": accounts})
    add_fault(client, match=match, action=code("1703"))
    assert submit(client, **params) == "1703"
    assert items(submit(client, username="sandbox", password="s", message="Tea"))[0][0] == "1701"


def test_times_limits_a_rule(client: TestClient) -> None:
    add_fault(client, action=code("1709"), times=1)
    first, second = submit(client), submit(client)
    assert (first, items(second)[0][0]) == ("1709|33612345678|", "1701")


def test_faulted_requests_are_counted(client: TestClient) -> None:
    add_fault(client, action=code("1710"))
    submit(client)
    submit(client, "schedulemsg", date="03/02/2024", time="10:00 am", gmt="+00:00")
    requests = client.get("/_sandbox/stats").json()["requests"]
    assert (requests["bulkgw.send"], requests["bulkgw.schedule"]) == (1, 1)


def test_rules_for_an_unknown_endpoint_are_refused(client: TestClient) -> None:
    rule = {"provider": "bulkgw", "endpoint": "report", "action": code("1709")}
    assert client.post("/_sandbox/faults", json=rule).status_code == 400
