"""Credentials never reach a log line."""

from __future__ import annotations

import logging

import pytest

from dispatcher.logs import RedactingFilter, redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            "GET https://api.smsmode.com/http/1.6/sendSMS.do?accessToken=Ab1CD2efg3Hi&numero=1",
            "Ab1CD2efg3Hi",
        ),
        ("GET http://gw:80/bulksms/bulksms?username=u&password=p4ss&type=0", "p4ss"),
        ("GET /callbacks/smsmode/smsmode-main/cb-secret-123?numero=336", "cb-secret-123"),
        ("redis://user:hunter2@redis:6379/0", "hunter2"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ],
)
def test_secrets_are_masked(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "***" in cleaned


def test_the_filter_rewrites_records_with_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sent %s", ("url?accessToken=abc",), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "sent url?accessToken=***"
