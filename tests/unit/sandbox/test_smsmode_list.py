"""smsList.do (section 10): the account's last messages, newest first, in the layout the
sandbox chose where the document is silent (dispatcher/sandbox/smsmode_list.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dispatcher.sandbox.config import AccountConfig

from .conftest import TOKEN, FakeClock, accepted_id, get, send
from .test_faults import add_fault

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def sms_list(client: TestClient, **params: str) -> str:
    params.setdefault("accessToken", TOKEN)
    return get(client, "smsList.do", **params)


def test_a_message_is_listed_with_the_documented_fields(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hello", numero="33612345678,33698765432"))
    # T0 is 2024-03-01 12:00 in Paris; the cost is one credit per recipient and part.
    assert sms_list(client) == f"{sms_id} | 01032024-12:00 | Hello | 33612345678 | 2 | 2 |"


def test_messages_are_listed_newest_first_and_offset_limits_them(
    client: TestClient, clock: FakeClock
) -> None:
    first = accepted_id(send(client, message="One", numero="33612345678"))
    clock.advance(60)
    second = accepted_id(send(client, message="Two", numero="33612345678"))
    lines = sms_list(client).split("\n")
    assert [line.split(" | ")[0] for line in lines] == [second, first]
    assert sms_list(client, offset="1").split(" | ")[0] == second


def test_the_listed_text_is_the_accepted_one_with_its_stop_mention(client: TestClient) -> None:
    accepted_id(send(client, message="Promo", numero="33612345678", stop="1"))
    assert sms_list(client).split(" | ")[2] == "Promo STOP 36304"


def test_another_accounts_messages_are_not_listed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN), AccountConfig("other")))
    accepted_id(send(client, message="Theirs", numero="33612345678", accessToken="other"))
    assert sms_list(client) == ""


def test_a_deleted_message_is_not_listed(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Gone", numero="33612345678"))
    get(client, "deleteSMS.do", accessToken=TOKEN, smsID=sms_id)
    assert sms_list(client) == ""


def test_without_a_token_the_answer_is_35(client: TestClient) -> None:
    assert get(client, "smsList.do") == "35 | Invalid parameter"


def test_an_offset_that_is_not_a_positive_number_is_35(client: TestClient) -> None:
    assert sms_list(client, offset="-3") == "35 | Invalid parameter"


def test_fault_rules_apply_to_the_list(client: TestClient) -> None:
    add_fault(client, endpoint="list", action={"type": "code", "code": "31"})
    assert sms_list(client) == "31 | Internal error"
