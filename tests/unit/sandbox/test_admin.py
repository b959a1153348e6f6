"""The admin API under /_sandbox/ and the sandbox configuration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dispatcher.sandbox.config import AccountConfig, ConfigError, SandboxConfig
from dispatcher.sandbox.timeline import State

from .conftest import TOKEN, FakeClock, accepted_id, get, send, submissions

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def stats(client: TestClient) -> dict[str, object]:
    data = client.get("/_sandbox/stats").json()
    assert isinstance(data, dict)
    return data


def test_health(client: TestClient) -> None:
    assert client.get("/_sandbox/health").json() == {"ok": True}


def test_stats_list_every_counter_from_the_start(client: TestClient) -> None:
    assert stats(client) == {
        "requests": {
            "smsmode.send": 0,
            "smsmode.report": 0,
            "smsmode.status": 0,
            "smsmode.credit": 0,
            "smsmode.delete": 0,
            "smsmode.batch": 0,
            "smsmode.list": 0,
            "smsmode.callbacks_sent": 0,
            "smsmode.callbacks_failed": 0,
        },
        "accepted_submissions": 0,
        "accepted_recipients": 0,
        "duplicate_recipients": 0,
    }


def test_stats_count_requests_and_acceptances(client: TestClient) -> None:
    send(client, message="Hi", numero="33612345678,33612345679")
    send(client, accessToken="nope", message="Hi", numero="33612345678")
    get(client, "credit.do", accessToken=TOKEN)
    data = stats(client)
    requests = data["requests"]
    assert isinstance(requests, dict)
    assert (requests["smsmode.send"], requests["smsmode.credit"]) == (2, 1)
    assert (data["accepted_submissions"], data["accepted_recipients"]) == (1, 2)


def test_same_text_to_the_same_number_twice_is_a_duplicate(client: TestClient) -> None:
    send(client, message="Hi", numero="33612345678,33612345679")
    send(client, message="Hi", numero="0612345678")
    assert stats(client)["duplicate_recipients"] == 1


def test_a_number_repeated_in_one_request_is_a_duplicate(client: TestClient) -> None:
    send(client, message="Hi", numero="33612345678,0612345678")
    assert stats(client)["duplicate_recipients"] == 1


def test_a_different_text_is_not_a_duplicate(client: TestClient) -> None:
    send(client, message="Hi", numero="33612345678")
    send(client, message="Hello", numero="33612345678")
    assert stats(client)["duplicate_recipients"] == 0


def test_a_deleted_scheduled_sms_resent_is_not_a_duplicate(client: TestClient) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="33612345678", date_envoi="01032024-13:00")
    )
    get(client, "deleteSMS.do", accessToken=TOKEN, smsID=sms_id)
    send(client, message="Hi", numero="33612345678")
    assert stats(client)["duplicate_recipients"] == 0


def test_submission_document(client: TestClient) -> None:
    sms_id = accepted_id(
        send(
            client,
            message="Hi",
            numero="0612345678",
            emetteur="SHOP",
            refClient="r1",
            notification_url="http://h/dlr",
        )
    )
    assert submissions(client) == [
        {
            "provider": "smsmode",
            "id": sms_id,
            "token": TOKEN,
            "method": "POST",
            "accepted_at": "2024-03-01T11:00:00+00:00",
            "scheduled_for": None,
            "deleted": False,
            "text": "Hi",
            "classe_msg": 2,
            "sender": "SHOP",
            "ref_client": "r1",
            "notification_url": "http://h/dlr",
            "notification_url_reponse": None,
            "numbers": ["33612345678"],
            "parts": 1,
            "cost": 1.0,
        }
    ]


def test_submissions_filter_on_text_and_ref_client(client: TestClient) -> None:
    send(client, message="Hello world", numero="33612345678", refClient="a")
    send(client, message="Hello moon", numero="33612345678", refClient="b")
    send(client, message="Bye", numero="33612345678", refClient="a")
    found = submissions(client, provider="smsmode", text_contains="Hello", ref_client="a")
    assert [s["text"] for s in found] == ["Hello world"]


def test_reset_forgets_submissions_stats_faults_and_spending(client: TestClient) -> None:
    send(client, message="Hi", numero="33612345678")
    client.post(
        "/_sandbox/faults", json={"endpoint": "credit", "action": {"type": "code", "code": "31"}}
    )
    assert client.post("/_sandbox/reset").json() == {"ok": True}
    assert (submissions(client), stats(client)["accepted_submissions"]) == ([], 0)
    assert client.get("/_sandbox/faults").json() == {"faults": []}
    assert get(client, "credit.do", accessToken=TOKEN) == "1000000000"


def test_reset_reinstalls_the_config_faults(make_client: Callable[..., TestClient]) -> None:
    rule = {"endpoint": "credit", "action": {"type": "code", "code": "31"}, "times": 1}
    client = make_client(faults=(rule,))
    get(client, "credit.do", accessToken=TOKEN)
    client.post("/_sandbox/reset")
    assert get(client, "credit.do", accessToken=TOKEN) == "31 | Internal error"


def test_admin_rejects_a_non_object_body(client: TestClient) -> None:
    assert client.post("/_sandbox/faults", content=b"[1]").status_code == 400


def test_config_loads_from_json(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text(
        json.dumps(
            {
                "accounts": [{"token": "a", "balance": 5}, {"token": "b", "postpaid": True}],
                "timeline": {
                    "gateway_delay": 1,
                    "final_delay": 2,
                    "spread": 0,
                    "rules": [{"suffix": "11", "final": "blacklisted"}],
                },
                "faults": [{"endpoint": "send", "action": {"type": "accept_then_drop"}}],
            }
        )
    )
    config = SandboxConfig.from_json_file(path)
    assert config.accounts == (AccountConfig("a", 5.0), AccountConfig("b", postpaid=True))
    assert config.timeline.rules[0].final is State.BLACKLISTED
    assert len(config.faults) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"acounts": []},
        {"timeline": {"gateway_delay": 5, "final_delay": 1}},
        {"timeline": {"rules": [{"suffix": "1", "final": "exploded"}]}},
        {"callbacks": {"concurrency": 0}},
    ],
    ids=["unknown-key", "final-before-gateway", "unknown-final-state", "zero-concurrency"],
)
def test_invalid_config_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        SandboxConfig.from_dict(data)


def test_fast_preset_uses_sub_second_delays() -> None:
    timeline = SandboxConfig().fast().timeline
    assert (timeline.gateway_delay, timeline.final_delay, timeline.spread) == (0.2, 0.6, 0.2)


def test_custom_rule_drives_the_final_status(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    config = SandboxConfig.from_dict(
        {"timeline": {"rules": [{"suffix": "11", "final": "blacklisted"}]}}
    )
    client = make_client(timeline=config.timeline)
    sms_id = accepted_id(send(client, message="Hi", numero="33612345611"))
    clock.advance(10)
    assert get(client, "compteRendu.do", accessToken=TOKEN, smsID=sms_id) == "33612345611 3999"
