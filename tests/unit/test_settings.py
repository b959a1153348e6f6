"""Settings come from DISPATCHER_* variables and name the variable to set when wrong."""

from __future__ import annotations

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.providers.registry import REGISTRY
from dispatcher.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(__import__("os").environ):
        if name.startswith("DISPATCHER_"):
            monkeypatch.delenv(name)


def test_nested_account_variables_name_an_account_with_hyphens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SMSMODE_MAIN__PROVIDER", "smsmode")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SMSMODE_MAIN__BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SMSMODE_MAIN__ACCESS_TOKEN", "tok")
    account = load_settings().account("smsmode-main")
    assert account.name == "smsmode-main"
    assert account.base_url == "http://127.0.0.1:9"
    assert account.secret("access_token") == "tok"


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__A__PROVIDER", "smsmode")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__A__BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__A__ACCESS_TOKEN", "very-secret")
    assert "very-secret" not in repr(load_settings())


def test_an_unknown_account_error_names_the_variables_to_set() -> None:
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__SHOP__BASE_URL"):
        load_settings().account("shop")


def test_a_missing_credential_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__PROVIDER", "smsmode")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__BASE_URL", "https://api.smsmode.com")
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__SHOP__ACCESS_TOKEN"):
        load_settings().account("shop").secret("access_token")


def test_an_invalid_value_is_reported_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__PROVIDER", "smsmode")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__BASE_URL", "ftp://nowhere")
    with pytest.raises(ConfigurationError, match=r"DISPATCHER_ACCOUNTS__SHOP__BASE_URL: .*http"):
        load_settings()


def test_an_unknown_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__PROVIDER", "twilio")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__BASE_URL", "https://x.example")
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__SHOP__PROVIDER"):
        load_settings()


def test_an_unknown_provider_error_lists_the_registered_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__PROVIDER", "twilio")
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__BASE_URL", "https://x.example")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert f"known: {', '.join(sorted(REGISTRY))}" in str(raised.value)


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_every_registered_provider_is_accepted(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__PROVIDER", provider)
    monkeypatch.setenv("DISPATCHER_ACCOUNTS__SHOP__BASE_URL", "https://x.example")
    assert load_settings().account("shop").provider == provider


def test_timings_are_settings_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_TIMINGS__SUBMIT_MAX_ATTEMPTS", "3")
    assert load_settings().timings.submit_max_attempts == 3


def test_the_window_of_queued_batches_per_campaign_comes_from_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN", "3")
    assert load_settings().timings.queued_batches_per_campaign == 3


def test_a_window_of_no_batch_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A window of 0 would publish nothing, and no campaign would ever be sent."""
    monkeypatch.setenv("DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN", "0")
    with pytest.raises(ConfigurationError, match="DISPATCHER_TIMINGS__QUEUED_BATCHES_PER_CAMPAIGN"):
        load_settings()
