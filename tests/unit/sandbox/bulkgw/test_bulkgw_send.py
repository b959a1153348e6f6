"""GET /bulksms/bulksms (document section 1.2) and its answer codes (section 1.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .test_bulkgw_support import (
    PASSWORD,
    USER,
    Factory,
    balance,
    items,
    raw_get,
    submissions,
    submit,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def test_success_answers_1701_with_the_number_and_a_message_id(client: TestClient) -> None:
    ((code, number, msg_id),) = items(submit(client))
    sub_id = submissions(client)[0]["id"]
    assert (code, number, msg_id) == ("1701", "33612345678", f"{sub_id}-1")


def test_several_destinations_get_comma_separated_items_in_order(client: TestClient) -> None:
    answer = submit(client, destination="33612345678,447911123456,33698765432")
    assert [(c, n) for c, n, _ in items(answer)] == [
        ("1701", "33612345678"),
        ("1701", "447911123456"),
        ("1701", "33698765432"),
    ]


def test_message_ids_are_distinct_and_derived_from_the_submission(client: TestClient) -> None:
    answer = submit(client, destination="33612345678,33612345678,33612345679")
    sub_id = submissions(client)[0]["id"]
    assert [m for _, _, m in items(answer)] == [f"{sub_id}-1", f"{sub_id}-2", f"{sub_id}-3"]


def test_an_unencoded_comma_also_separates_destinations(client: TestClient) -> None:
    query = f"username={USER}&password={PASSWORD}&type=0&dlr=0&source=S1&message=Hi"
    answer = raw_get(client, "bulksms", query + "&destination=33612345678,33612345679")
    assert len(items(answer)) == 2


def test_plus_sign_is_accepted_and_echoed_without_it(client: TestClient) -> None:
    answer = submit(client, destination="+33612345678, +447911123456")
    assert [n for _, n, _ in items(answer)] == ["33612345678", "447911123456"]
    assert submissions(client)[0]["numbers"] == ["33612345678", "447911123456"]


def test_an_invalid_destination_gets_1706_alone(client: TestClient) -> None:
    answer = submit(client, destination="33612345678,0612345678,12ab,33612345679")
    assert [(c, n, m != "") for c, n, m in items(answer)] == [
        ("1701", "33612345678", True),
        ("1706", "0612345678", False),
        ("1706", "12ab", False),
        ("1701", "33612345679", True),
    ]
    assert submissions(client)[0]["numbers"] == ["33612345678", "33612345679"]


def test_only_invalid_destinations_accept_nothing(client: TestClient) -> None:
    assert submit(client, destination="12,abc") == "1706|12|,1706|abc|"
    assert (submissions(client), balance(client)) == ([], 1_000_000_000)


def test_an_echoed_destination_cannot_break_the_answer_format(client: TestClient) -> None:
    assert submit(client, destination="1|2") == "1706|1?2|"


@pytest.mark.parametrize(
    "name", ["username", "password", "type", "dlr", "destination", "source", "message"]
)
def test_a_missing_parameter_answers_1702(client: TestClient, name: str) -> None:
    assert submit(client, **{name: None}) == "1702"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["message", "destination", "source", "username"])
def test_a_blank_parameter_answers_1702(client: TestClient, name: str) -> None:
    assert submit(client, **{name: "  "}) == "1702"


def test_a_destination_list_of_commas_is_blank(client: TestClient) -> None:
    assert submit(client, destination=" , ,") == "1702"


def test_a_missing_parameter_is_reported_before_bad_credentials(client: TestClient) -> None:
    assert submit(client, password="wrong", message=None) == "1702"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("username", "password"), [(USER, "wrong"), ("nobody", PASSWORD), (USER.upper(), PASSWORD)]
)
def test_bad_credentials_answer_1703(client: TestClient, username: str, password: str) -> None:
    assert submit(client, username=username, password=password) == "1703"


def test_bad_credentials_are_reported_before_a_bad_type(client: TestClient) -> None:
    assert submit(client, password="wrong", type="4") == "1703"


def test_any_credentials_are_accepted_when_configured(make: Factory) -> None:
    client = make(accept_any_token=True, any_token_balance=10)
    assert items(submit(client, username="bench", password="x"))[0][0] == "1701"
    assert balance(client, "bench") == 9


def test_a_configured_username_still_needs_its_password(make: Factory) -> None:
    client = make(accept_any_token=True)
    assert submit(client, password="wrong") == "1703"


@pytest.mark.parametrize("value", ["3", "4", "8", "x", "01", " 0"])
def test_an_invalid_type_answers_1704(client: TestClient, value: str) -> None:
    assert submit(client, type=value) == "1704"


@pytest.mark.parametrize("value", ["0", "1", "2", "5", "6", "7"])
def test_documented_text_types_are_accepted(client: TestClient, value: str) -> None:
    assert items(submit(client, type=value))[0][0] == "1701"
    assert submissions(client)[0]["type"] == int(value)


def test_a_message_that_is_not_utf8_answers_1705(client: TestClient) -> None:
    query = f"username={USER}&password={PASSWORD}&type=2&dlr=0&source=S1&destination=33612345678"
    assert raw_get(client, "bulksms", query + "&message=caf%E9") == "1705"


@pytest.mark.parametrize(("type_", "message"), [("0", "☺"), ("1", "ç"), ("5", "€"), ("7", "☺")])
def test_a_character_outside_the_types_encoding_answers_1705(
    client: TestClient, type_: str, message: str
) -> None:
    assert submit(client, type=type_, message=message) == "1705"


@pytest.mark.parametrize(("type_", "message"), [("0", "Prix: 5€ {ok}"), ("5", "ça"), ("2", "☺")])
def test_text_in_the_types_encoding_is_recorded_as_sent(
    client: TestClient, type_: str, message: str
) -> None:
    submit(client, type=type_, message=message)
    assert submissions(client)[0]["text"] == message


@pytest.mark.parametrize(
    "source",
    ["TWELVECHARSX", "+1234567890123456789", "Café", " SHOP", "MY/SHOP", "12 34"],
    ids=["alpha-too-long", "numeric-too-long", "accent", "leading-blank", "slash", "digit-blank"],
)
def test_an_invalid_source_answers_1707(client: TestClient, source: str) -> None:
    assert submit(client, source=source) == "1707"


@pytest.mark.parametrize(
    "source", ["ELEVENCHARS", "My Shop-1", "123456789012345678", "+33612345678", "S"]
)
def test_a_valid_source_is_recorded(client: TestClient, source: str) -> None:
    submit(client, source=source)
    assert submissions(client)[0]["sender"] == source


def test_an_unencoded_plus_in_a_numeric_source_answers_1707(client: TestClient) -> None:
    query = f"username={USER}&password={PASSWORD}&type=0&dlr=0&destination=33612345678"
    assert raw_get(client, "bulksms", query + "&message=Hi&source=+33612345678") == "1707"


@pytest.mark.parametrize("value", ["2", "yes", "-1", "00"])
def test_an_invalid_dlr_answers_1708(client: TestClient, value: str) -> None:
    assert submit(client, dlr=value) == "1708"


def test_parameter_errors_follow_the_order_of_the_codes(client: TestClient) -> None:
    assert submit(client, type="9", message="☺", source="x" * 20, dlr="5") == "1704"
    assert submit(client, message="☺", source="x" * 20, dlr="5") == "1705"
    assert submit(client, source="x" * 20, dlr="5") == "1707"


def test_cost_is_parts_times_accepted_destinations(client: TestClient) -> None:
    submit(client, message="x" * 200, destination="33612345678,33612345679,bad")
    sub = submissions(client)[0]
    assert (sub["parts"], sub["cost"], sub["rejected"]) == (2, 4.0, 1)
    assert balance(client) == 1_000_000_000 - 4


def test_insufficient_credit_answers_1725_and_accepts_nothing(make: Factory) -> None:
    client = make({"accounts": [{"username": USER, "password": PASSWORD, "balance": 2}]})
    assert submit(client, destination="33612345678,33612345679,33612345670") == "1725"
    assert (submissions(client), balance(client)) == ([], 2)


def test_a_postpaid_account_goes_negative(make: Factory) -> None:
    account = {"username": USER, "password": PASSWORD, "balance": 1, "postpaid": True}
    client = make({"accounts": [account]})
    submit(client, destination="33612345678,33612345679")
    assert balance(client) == -1


def test_dnd_lists_answer_1732_and_1042_per_destination(make: Factory) -> None:
    client = make({"dnd": ["+33612345600"], "explicit_dnd": ["33612345601"]})
    answer = submit(client, destination="33612345600,33612345601,33612345602")
    assert [c for c, _, _ in items(answer)] == ["1732", "1042", "1701"]


def test_the_submission_is_recorded_with_its_parameters(client: TestClient) -> None:
    submit(client, type="1", dlr="1", message="Flash", source="Shop")
    sub = submissions(client)[0]
    assert {k: sub[k] for k in ("api", "username", "type", "dlr", "text", "sender", "method")} == {
        "api": "bulksms",
        "username": USER,
        "type": 1,
        "dlr": 1,
        "text": "Flash",
        "sender": "Shop",
        "method": "GET",
    }
    assert (sub["token"], sub["scheduled_for"]) == (f"bulkgw:{USER}", None)


def test_the_first_occurrence_of_a_parameter_wins(client: TestClient) -> None:
    query = f"username={USER}&password={PASSWORD}&type=0&dlr=0&source=S1&destination=33612345678"
    raw_get(client, "bulksms", query + "&message=first&message=second")
    assert submissions(client)[0]["text"] == "first"


def test_undocumented_parameters_are_ignored(client: TestClient) -> None:
    assert items(submit(client, ip="x", date="01/01/2030", time="10:00 am", gmt="+00:00"))
    assert submissions(client)[0]["scheduled_for"] is None


def test_post_is_not_allowed(client: TestClient) -> None:
    assert client.post("/bulksms/bulksms").status_code == 405


def test_requests_and_acceptances_are_counted(client: TestClient) -> None:
    submit(client, destination="33612345678,33612345679")
    submit(client, password="wrong")
    stats = client.get("/_sandbox/stats").json()
    assert (stats["requests"]["bulkgw.send"], stats["accepted_recipients"]) == (2, 2)


def test_resending_the_same_text_counts_duplicates(client: TestClient) -> None:
    submit(client, destination="33612345678")
    submit(client, destination="33612345678")
    assert client.get("/_sandbox/stats").json()["duplicate_recipients"] == 1
