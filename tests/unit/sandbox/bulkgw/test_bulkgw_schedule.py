"""GET /bulksms/schedulemsg (document section 2.1): date, time and gmt.

The fake clock starts at 2024-03-01 11:00:00 UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.unit.sandbox.conftest import FakeClock, RecordingSender

from .test_bulkgw_support import (
    DLR_URL,
    PASSWORD,
    USER,
    Factory,
    drain,
    items,
    query,
    raw_get,
    submissions,
    submit,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def schedule(client: TestClient, **params: str) -> str:
    params = {"date": "03/01/2024", "time": "01:30 pm", "gmt": "GMT +01:00", **params}
    return submit(client, "schedulemsg", **params)


def scheduled_for(client: TestClient) -> str | None:
    found = submissions(client)[-1]["scheduled_for"]
    assert found is None or isinstance(found, str)
    return found


def test_a_future_time_holds_the_message_until_then(client: TestClient) -> None:
    assert items(schedule(client))[0][0] == "1701"
    assert scheduled_for(client) == "2024-03-01T12:30:00+00:00"
    assert submissions(client)[0]["api"] == "schedulemsg"


@pytest.mark.parametrize(
    ("gmt", "expected"),
    [
        ("GMT +01:00", "2024-03-01T12:30:00+00:00"),
        ("GMT+01:00", "2024-03-01T12:30:00+00:00"),
        ("+1:00", "2024-03-01T12:30:00+00:00"),
        ("GMT -1:30", "2024-03-01T15:00:00+00:00"),
        ("-10:00", "2024-03-01T23:30:00+00:00"),
        ("+00:00", "2024-03-01T13:30:00+00:00"),
        ("gmt +00:30", "2024-03-01T13:00:00+00:00"),
    ],
)
def test_every_documented_gmt_form_is_understood(
    client: TestClient, gmt: str, expected: str
) -> None:
    schedule(client, gmt=gmt)
    assert scheduled_for(client) == expected


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("12:15 pm", "2024-03-02T12:15:00+00:00"),
        ("00:15 pm", "2024-03-02T12:15:00+00:00"),
        ("11:51 PM", "2024-03-02T23:51:00+00:00"),
        ("03:45am", "2024-03-02T03:45:00+00:00"),
        ("3:45 am", "2024-03-02T03:45:00+00:00"),
        ("12:05 am", "2024-03-02T00:05:00+00:00"),
        ("00:05 am", "2024-03-02T00:05:00+00:00"),
    ],
)
def test_twelve_hour_times(client: TestClient, time: str, expected: str) -> None:
    schedule(client, time=time, date="03/02/2024", gmt="+00:00")
    assert scheduled_for(client) == expected


def test_a_past_time_sends_at_once(client: TestClient) -> None:
    assert items(schedule(client, time="10:59 am", gmt="+00:00"))[0][0] == "1701"
    assert scheduled_for(client) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("date", "2024-03-01"),
        ("date", "3/1/2024"),
        ("date", "02/30/2024"),
        ("date", "13/01/2024"),
        ("time", "13:00 pm"),
        ("time", "10:00"),
        ("time", "10:60 am"),
        ("time", "10h00 am"),
        ("gmt", "+05:45"),
        ("gmt", "+13:00"),
        ("gmt", "05:30"),
        ("gmt", "UTC+01:00"),
    ],
)
def test_an_invalid_date_time_or_gmt_answers_1702(
    client: TestClient, name: str, value: str
) -> None:
    assert schedule(client, **{name: value}) == "1702"
    assert submissions(client) == []


def test_an_unencoded_plus_in_gmt_answers_1702(client: TestClient) -> None:
    base = f"username={USER}&password={PASSWORD}&type=0&dlr=0&source=S1&message=Hi"
    query_string = base + "&destination=33612345678&date=03/01/2024&time=01:30%20pm&gmt=+01:00"
    assert raw_get(client, "schedulemsg", query_string) == "1702"


@pytest.mark.parametrize("name", ["date", "time", "gmt"])
def test_a_missing_schedule_parameter_answers_1702(client: TestClient, name: str) -> None:
    assert schedule(client, **{name: None}) == "1702"  # type: ignore[arg-type]


def test_the_send_parameters_are_validated_as_for_bulksms(client: TestClient) -> None:
    assert (schedule(client, password="x"), schedule(client, type="4")) == ("1703", "1704")


def test_a_bad_schedule_is_reported_after_the_other_parameters(client: TestClient) -> None:
    assert schedule(client, dlr="3", gmt="bad") == "1708"


def test_reports_start_at_the_scheduled_time(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    client = make({"dlr_url": DLR_URL})
    schedule(client, dlr="1")
    clock.advance(5400 + 1.9)
    drain(client)
    before = len(sender.requests)
    clock.advance(0.1)
    drain(client)
    assert (before, [query(r.url)["status"] for r in sender.requests]) == (0, ["ACCEPTD"])
    assert query(sender.requests[0].url)["submitdate"] == "2024-03-01 12:30:00"
