"""Bulk gateway tracking: no polling endpoint; pushed delivery reports (dlr=1, section 1.2) read
through the account's configurable parameter names, with SMPP-receipt defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatcher.domain.models import Report
from dispatcher.domain.statuses import RecipientStatus
from dispatcher.errors import CallbackError, CapabilityError, ConfigurationError

from ._bulkgw import REPORT_STATUSES, provider

PARIS = ZoneInfo("Europe/Paris")
DEFAULT = {
    "msgid": "8e0b6d2a-1",
    "destination": "33612345678",
    "status": "DELIVRD",
    "err": "000",
    "donedate": "2403251052",
}


def with_(base: dict[str, str], **changes: str | None) -> dict[str, str]:
    params = dict(base)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def test_there_is_no_polling_endpoint() -> None:
    with pytest.raises(CapabilityError, match="can_poll"):
        provider().fetch_reports("anything")


def test_a_report_with_the_default_names() -> None:
    assert provider().parse_callback(DEFAULT) == [
        Report(
            msisdn="33612345678",
            status=RecipientStatus.DELIVERED,
            raw_code="DELIVRD",
            raw_text="err=000",
            occurred_at=datetime(2024, 3, 25, 10, 52, tzinfo=PARIS),
            message_id="8e0b6d2a-1",
        )
    ]


@pytest.mark.parametrize(("value", "status"), REPORT_STATUSES)
def test_every_default_status(value: str, status: RecipientStatus) -> None:
    (report,) = provider().parse_callback(with_(DEFAULT, status=value))
    assert (report.status, report.raw_code) == (status, value)


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"status": "delivrd"}, "status", RecipientStatus.DELIVERED),  # any case
        ({"status": "delivrd"}, "raw_code", "delivrd"),  # kept as sent
        ({"destination": "+33612345678"}, "msisdn", "33612345678"),
        ({"destination": None}, "msisdn", ""),  # the message id names the recipient
        ({"err": None}, "raw_text", ""),
        ({"err": ""}, "raw_text", ""),
        ({"donedate": None}, "occurred_at", None),
        ({"donedate": ""}, "occurred_at", None),
    ],
)
def test_report_variants(changes: dict[str, str | None], field: str, value: object) -> None:
    (report,) = provider().parse_callback(with_(DEFAULT, **changes))
    assert getattr(report, field) == value


def test_times_are_read_in_the_account_zone() -> None:
    (report,) = provider(timezone="UTC").parse_callback(DEFAULT)
    assert report.occurred_at == datetime(2024, 3, 25, 10, 52, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"msgid": None}, "msgid"),
        ({"msgid": " "}, "msgid"),
        ({"status": None}, "status"),
        ({"status": "READ"}, "not a known report status"),
        ({"donedate": "25/03/2024 10:52"}, "donedate"),
        ({"donedate": "2402301052"}, "donedate"),  # February 30th
    ],
)
def test_bad_reports_are_refused(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(CallbackError, match=message):
        provider().parse_callback(with_(DEFAULT, **changes))


CUSTOM: dict[str, Any] = {
    "report_message_id": "id",
    "report_destination": "to",
    "report_status": "state",
    "report_error": "code",
    "report_time": "at",
    "report_time_format": "%Y-%m-%dT%H:%M:%S%z",
    # As environment variables give them (keys lower-case): ..._OPTIONS__REPORT_STATUSES__2=failed
    "report_statuses": {"1": "delivered", "2": "failed", "delivrd": "expired"},
}


def test_names_and_statuses_come_from_the_account_options() -> None:
    params = {
        "id": "m9",
        "to": "33712345678",
        "state": "2",
        "code": "34",
        "at": "2024-03-25T10:52:00+0100",
    }
    (report,) = provider(options=CUSTOM).parse_callback(params)
    assert report == Report(
        msisdn="33712345678",
        status=RecipientStatus.FAILED,
        raw_code="2",
        raw_text="err=34",
        occurred_at=datetime.fromisoformat("2024-03-25T10:52:00+01:00"),
        message_id="m9",
    )


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("1", RecipientStatus.DELIVERED),
        ("DELIVRD", RecipientStatus.EXPIRED),  # an account's mapping wins over the default
        ("UNDELIV", RecipientStatus.FAILED),  # the other defaults stay
    ],
)
def test_account_statuses_extend_the_defaults(state: str, status: RecipientStatus) -> None:
    (report,) = provider(options=CUSTOM).parse_callback({"id": "m9", "state": state})
    assert report.status is status


def test_the_default_names_are_not_read_once_renamed() -> None:
    with pytest.raises(CallbackError, match="callback without id"):
        provider(options=CUSTOM).parse_callback(DEFAULT)


def test_an_empty_time_name_reads_no_time() -> None:
    (report,) = provider(options={"report_time": ""}).parse_callback(DEFAULT)
    assert report.occurred_at is None


@pytest.mark.parametrize(
    ("options", "variable"),
    [
        ({"report_statuses": {"x": "gone"}}, "OPTIONS__REPORT_STATUSES__X"),
        ({"report_message_id": ""}, "OPTIONS__REPORT_MESSAGE_ID"),
        ({"report_sttus": "s"}, "OPTIONS__REPORT_STTUS"),
    ],
)
def test_bad_report_options_name_the_variable(options: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=f"DISPATCHER_ACCOUNTS__BULKGW_TEST__{variable}"):
        provider(options=options).parse_callback(DEFAULT)


# -- the submit date: what places a report for a message id we never stored -------------------


def test_a_report_carries_its_submit_date_when_pushed() -> None:
    (report,) = provider().parse_callback(with_(DEFAULT, submitdate="2403251050"))
    assert report.submitted_at == datetime(2024, 3, 25, 10, 50, tzinfo=PARIS)


def test_an_unreadable_submit_date_still_applies_the_report_without_one() -> None:
    (report,) = provider().parse_callback(with_(DEFAULT, submitdate="yesterday"))
    assert (report.status, report.submitted_at) == (RecipientStatus.DELIVERED, None)


def test_reports_place_nothing_without_dlr() -> None:
    assert provider().pushed_match_slack() is None


def test_reports_place_nothing_without_a_submit_date_name() -> None:
    options = {"dlr": True, "report_submit_time": ""}
    assert provider(options=options).pushed_match_slack() is None


def test_the_match_slack_is_the_dates_precision_plus_a_minute_of_clock_drift() -> None:
    minutes = provider(options={"dlr": True}).pushed_match_slack()
    seconds = provider(
        options={"dlr": True, "report_time_format": "%Y-%m-%d %H:%M:%S"}
    ).pushed_match_slack()
    assert (minutes, seconds) == (timedelta(minutes=2), timedelta(seconds=61))
