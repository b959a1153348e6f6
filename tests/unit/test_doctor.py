"""The judgements of ``dispatcher doctor``, on plain facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from dispatcher.errors import PermanentProviderError
from dispatcher.services.doctor import (
    Check,
    account_check,
    beat_check,
    exit_code,
    is_loopback,
    migrations_check,
    settings_read,
    skew_check,
    workers_check,
)
from dispatcher.settings import AccountSettings

NOW = datetime(2026, 12, 3, 21, 0, tzinfo=UTC)


def _account(**given: object) -> AccountSettings:
    values: dict[str, object] = {
        "name": "main",
        "provider": "smsmode",
        "base_url": "https://api.smsmode.com/http/1.6",
        "access_token": SecretStr("tok-123"),
    }
    return AccountSettings.model_validate(values | given)


def test_a_skew_under_two_seconds_is_ok() -> None:
    assert skew_check(NOW, {"PostgreSQL": NOW + timedelta(seconds=1.5)}).status == "ok"


def test_a_skew_over_two_seconds_is_a_warning_naming_the_server() -> None:
    check = skew_check(NOW, {"PostgreSQL": NOW, "Redis": NOW - timedelta(seconds=5)})
    assert check.status == "warn"
    assert "Redis -5.0 s" in check.detail


def test_a_skew_over_thirty_seconds_fails() -> None:
    assert skew_check(NOW, {"PostgreSQL": NOW + timedelta(seconds=31)}).status == "FAIL"


def test_migrations_behind_head_fail_naming_both_revisions() -> None:
    check = migrations_check("0021", "0023")
    assert (check.status, check.detail) == ("FAIL", "database at 0021, code expects 0023")
    assert "dispatcher migrate" in check.hint


def test_migrations_at_head_are_ok() -> None:
    assert migrations_check("0023", "0023").status == "ok"


def test_no_worker_answering_is_a_warning() -> None:
    assert workers_check(None).status == "warn"
    assert workers_check({}).status == "warn"


def test_workers_answering_are_named() -> None:
    check = workers_check({"w2@h": {"ok": "pong"}, "w1@h": {"ok": "pong"}})
    assert (check.status, check.detail) == ("ok", "2 answered: w1@h, w2@h")


def test_an_overdue_scheduled_campaign_warns_that_beat_may_be_down() -> None:
    check = beat_check((42, NOW - timedelta(minutes=30)), NOW)
    assert check.status == "warn"
    assert "campaign 42 was due 30 min ago" in check.detail


def test_no_overdue_campaign_is_ok() -> None:
    assert beat_check(None, NOW).status == "ok"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1/x", True),
        ("http://[::1]:80", True),
        ("https://api.smsmode.com/http/1.6", False),
        ("http://10.0.0.1", False),
    ],
)
def test_a_loopback_base_url_is_the_sandbox(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_an_account_with_its_balance_is_ok_and_never_shows_its_token() -> None:
    check = account_check(_account(), ("access_token",), lambda: Decimal("212.5"))
    assert check.status == "ok"
    assert "balance 212.5" in check.detail
    assert "(real)" in check.detail
    assert "tok-123" not in str(check)


def test_an_account_without_its_credential_fails_naming_the_variable() -> None:
    check = account_check(_account(access_token=None), ("access_token",), None)
    assert check.status == "FAIL"
    assert check.hint == "set DISPATCHER_ACCOUNTS__MAIN__ACCESS_TOKEN"


def test_a_refused_balance_fails_with_the_providers_answer() -> None:
    def refused() -> Decimal:
        raise PermanentProviderError("smsmode", "32", "Authentication error")

    check = account_check(_account(base_url="http://127.0.0.1:9"), ("access_token",), refused)
    assert check.status == "FAIL"
    assert "(sandbox)" in check.detail
    assert "32 Authentication error" in check.detail


def test_an_empty_balance_is_a_warning() -> None:
    assert account_check(_account(), ("access_token",), lambda: Decimal(0)).status == "warn"


def test_settings_read_names_variables_never_values(tmp_path: Path) -> None:
    environ = {
        "DISPATCHER_DATABASE_URL": "postgresql://u:secret@h/db",
        "DISPATCHER_ACCOUNTS__A__PROVIDER": "smsmode",
        "DISPATCHER_ACCOUNTS__A__ACCESS_TOKEN": "tok",
        "HOME": "/root",
    }
    shown = settings_read(environ, tmp_path / ".env")
    assert shown == "3 DISPATCHER_* variables (ACCOUNTS (2), DATABASE_URL); no .env file"


def test_any_fail_makes_the_exit_code_one_warnings_do_not() -> None:
    ok, warn, fail = (Check("x", s, "") for s in ("ok", "warn", "FAIL"))
    assert exit_code([ok, warn]) == 0
    assert exit_code([ok, fail, warn]) == 1
