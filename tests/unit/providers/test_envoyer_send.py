"""Envoyer SMS Pro sending: the request on the wire ("FONCTION NOUVEAU MESSAGE",
"Authentification", "Encodage") and the limits checked before it leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.errors import (
    BatchTooLargeError,
    CampaignValidationError,
    ConfigurationError,
    UnsendableBatchError,
)
from dispatcher.providers import envoyer_codes
from dispatcher.providers.envoyer import EnvoyerProvider

from ._envoyer import (
    LOGIN,
    PASSWORD,
    basic_auth,
    batch,
    form,
    params_auth,
    provider,
    wire,
)
from ._options import own_keys

EXAMPLE_FORM = {
    "text": "Ceci est un test",
    "recipients": "33600000001,35200000077",
    "sendername": "Societe",
    "dedupe": "1",
}


def test_capabilities_follow_the_document() -> None:
    assert EnvoyerProvider.name == "envoyer"
    assert (EnvoyerProvider.methods, EnvoyerProvider.default_method) == (("GET", "POST"), "POST")
    assert dict(EnvoyerProvider.max_recipients) == {"GET": 100, "POST": 1000}
    assert EnvoyerProvider.default_rate_limit == "100 per 60 minutes"
    assert (EnvoyerProvider.can_poll, EnvoyerProvider.accepts_callbacks) == (True, False)
    assert (EnvoyerProvider.can_schedule, EnvoyerProvider.can_cancel) == (True, True)
    assert EnvoyerProvider.manages_stop_list
    assert own_keys(EnvoyerProvider) == {"tag"}
    assert EnvoyerProvider.report_horizon == timedelta(days=3)


# -- building -------------------------------------------------------------------------------------


def test_the_documented_example_request_by_get() -> None:
    # .../api/message/send?text=Ceci+est+un+test&recipients=33600000001,35200000077
    #     &sendername=Societe
    request = provider().build_send_request(batch(method="GET"))
    assert (request.method, request.url.host, request.url.path) == (
        "GET",
        "www.envoyersmspro.com",
        "/api/message/send",
    )
    assert wire(request).startswith(
        "text=Ceci+est+un+test&recipients=33600000001,35200000077&sendername=Societe"
    )
    assert form(request) == EXAMPLE_FORM
    assert request.content == b""


def test_the_documented_example_request_by_post() -> None:
    request = provider().build_send_request(batch(method="POST"))
    assert (request.method, str(request.url)) == (
        "POST",
        "https://www.envoyersmspro.com/api/message/send",
    )
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(request) == EXAMPLE_FORM


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("account_id", "password"), [(None, PASSWORD), ("496", f"{PASSWORD}:496")])
def test_basic_authentication_is_the_default(
    method: str, account_id: str | None, password: str
) -> None:
    # "Solution 1": login:password@, or login:password:accountid@ for several accounts.
    request = provider(account_id=account_id).build_send_request(batch(method=method))
    assert basic_auth(request) == (LOGIN, password)
    assert not {"login", "password", "accountid"} & set(form(request))
    assert PASSWORD not in str(request.url)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("account_id", "expected"),
    [
        (None, {"login": LOGIN, "password": PASSWORD}),
        ("496", {"login": LOGIN, "password": PASSWORD, "accountid": "496"}),
    ],
)
def test_parameter_authentication(
    method: str, account_id: str | None, expected: dict[str, str]
) -> None:
    # "Solution 2" (POST parameters) and "Solution 3" (GET parameters).
    request = provider(**params_auth(account_id=account_id)).build_send_request(
        batch(method=method)
    )
    assert basic_auth(request) is None
    assert form(request) == {**expected, **EXAMPLE_FORM}
    if method == "POST":
        assert str(request.url) == "https://www.envoyersmspro.com/api/message/send"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"password": None}, "DISPATCHER_ACCOUNTS__ENVOYER_TEST__PASSWORD"),
        ({"username": None}, "DISPATCHER_ACCOUNTS__ENVOYER_TEST__USERNAME"),
        ({"options": {"auth": "token"}}, "DISPATCHER_ACCOUNTS__ENVOYER_TEST__OPTIONS__AUTH"),
        ({"options": {"authh": "basic"}}, "DISPATCHER_ACCOUNTS__ENVOYER_TEST__OPTIONS__AUTHH"),
    ],
)
def test_missing_or_wrong_settings_name_the_variable(
    overrides: dict[str, Any], variable: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable) as raised:
        provider(**overrides).build_send_request(batch())
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("fields", "key", "value"),
    [
        ({"options": {"stop": 1}}, "stopsms", "1"),
        ({"options": {"stop": 2}}, "stopsms", "1"),
        ({"options": {"tag": "Soldes2024"}}, "tag", "Soldes2024"),
        ({"options": {"allow_replies": True}}, "responsestatusid", "1"),
        ({"text": "a" * 161}, "longmessageallowed", "1"),
        (
            {"provider_send_at": datetime(2011, 2, 10, 8, 50, tzinfo=UTC)},
            "senddate",
            "20110210",  # the document's example: 10 February 2011
        ),
        (
            {"provider_send_at": datetime(2011, 2, 10, 8, 50, tzinfo=UTC)},
            "sendtime",
            "0950",  # the document's example: 09h50, Paris
        ),
    ],
)
def test_each_optional_parameter_is_sent_when_set(
    method: str, fields: dict[str, Any], key: str, value: str
) -> None:
    assert form(provider().build_send_request(batch(method=method, **fields)))[key] == value


@pytest.mark.parametrize(
    "key", ["senddate", "sendtime", "longmessageallowed", "stopsms", "tag", "responsestatusid"]
)
def test_optional_parameters_are_absent_when_unset(key: str) -> None:
    assert key not in form(provider().build_send_request(batch()))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"text": "a" * 459},
        {"options": {"stop": 2, "tag": "x", "allow_replies": True}},
        {"provider_send_at": datetime(2030, 1, 1, tzinfo=UTC)},
    ],
)
def test_never_allnumberallowed_nor_truncation_and_always_dedupe(fields: dict[str, Any]) -> None:
    sent = form(provider().build_send_request(batch(**fields)))
    assert not {"allnumberallowed", "messagetruncationallowed"} & set(sent)
    assert sent["dedupe"] == "1"


@pytest.mark.parametrize(
    ("send_at", "date", "time"),
    [
        (datetime(2011, 2, 10, 8, 50, tzinfo=UTC), "20110210", "0950"),  # CET, UTC+1
        (datetime(2011, 2, 10, 13, 23, tzinfo=UTC), "20110210", "1423"),  # the 14h23 example
        (datetime(2024, 7, 1, 12, 0, tzinfo=UTC), "20240701", "1400"),  # CEST, UTC+2
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "20240331", "0300"),  # clocks jump to 03:00
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "20241027", "0230"),  # 02:30 again, CET
        (datetime(2011, 2, 10, 8, 50, 1, tzinfo=UTC), "20110210", "0951"),  # rounded up
        (datetime(2024, 12, 31, 23, 0, tzinfo=UTC), "20250101", "0000"),
        (datetime(2011, 2, 10, 3, 50, tzinfo=timezone(timedelta(hours=-5))), "20110210", "0950"),
    ],
)
def test_senddate_and_sendtime_are_paris_wall_time(send_at: datetime, date: str, time: str) -> None:
    sent = form(provider().build_send_request(batch(provider_send_at=send_at)))
    assert (sent["senddate"], sent["sendtime"]) == (date, time)


def test_send_time_follows_the_account_timezone() -> None:
    send_at = datetime(2011, 2, 10, 8, 50, tzinfo=UTC)
    sent = form(provider(timezone="UTC").build_send_request(batch(provider_send_at=send_at)))
    assert (sent["senddate"], sent["sendtime"]) == ("20110210", "0850")


@pytest.mark.parametrize(
    ("text", "options", "long", "stop"),
    [
        ("a" * 160, {}, False, False),  # "Votre message ne doit pas dépasser les 160 caractères"
        ("a" * 161, {}, True, False),
        ("{" * 80, {}, False, False),  # special characters count 2
        ("{" * 81, {}, True, False),
        ("a" * 158 + "\n", {}, False, False),  # a line break counts 2
        ("a" * 159 + "\n", {}, True, False),
        ("a" * 141, {"stop": 2}, False, True),  # "Il vous restera ainsi 141 caractères"
        ("a" * 142, {"stop": 2}, True, True),  # stop=2: the mention always, on 2 SMS
        ("a" * 141, {"stop": 1}, False, True),
        ("a" * 142, {"stop": 1}, False, False),  # stop=1: only when it fits in one SMS
        ("a" * 300, {"stop": 1}, True, False),
    ],
)
def test_long_message_and_stop_mention(
    text: str, options: dict[str, object], long: bool, stop: bool
) -> None:
    sent = form(provider().build_send_request(batch(text, options=options)))
    assert ("longmessageallowed" in sent, "stopsms" in sent) == (long, stop)


def test_long_message_is_asked_when_the_planner_counted_more_than_one_part() -> None:
    sent = form(provider().build_send_request(batch("Hello", segments=2)))
    assert sent["longmessageallowed"] == "1"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("text", "on_wire"),
    [
        ("Ceci est un test", "text=Ceci+est+un+test"),
        ("Bonjour,\nceci est un test.", "text=Bonjour,%0Aceci+est+un+test."),  # "%0A"
        ("é", "text=%C3%A9"),  # UTF-8 ("Encodage")
        ("€", "text=%E2%82%AC"),
        ("a+b&c=d", "text=a%2Bb%26c%3Dd"),
    ],
)
def test_text_is_utf_8_and_url_encoded(method: str, text: str, on_wire: str) -> None:
    request = provider().build_send_request(batch(text, method=method))
    assert f"&{on_wire}&" in f"&{wire(request)}&"


GSM_TEXT = st.text(
    alphabet=sorted(envoyer_codes.GSM_BASIC | envoyer_codes.GSM_EXTENDED),
    min_size=1,
    max_size=200,
)


@given(text=GSM_TEXT, method=st.sampled_from(["GET", "POST"]))
def test_any_gsm_text_arrives_intact(text: str, method: str) -> None:
    assert form(provider().build_send_request(batch(text, method=method)))["text"] == text


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "size"), [("GET", 100), ("POST", 1000)])
def test_check_batch_accepts_the_limit(method: str, size: int) -> None:
    numbers = [f"336{i:08d}" for i in range(size)]
    assert form(provider().prepare_send(batch(msisdns=numbers, method=method)))["recipients"]


@pytest.mark.parametrize(("method", "size"), [("GET", 101), ("POST", 1001)])
def test_check_batch_refuses_one_more(method: str, size: int) -> None:
    numbers = [f"336{i:08d}" for i in range(size)]
    with pytest.raises(BatchTooLargeError):
        provider().prepare_send(batch(msisdns=numbers, method=method))


@pytest.mark.parametrize(
    "fields",
    [
        {"sender": None},
        {"sender": "AB"},
        {"text": "a" * 460},
        {"text": "ça va ?"},
    ],
)
def test_check_batch_refuses_what_validate_refuses(fields: dict[str, Any]) -> None:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(batch(**fields))
    assert isinstance(raised.value, ConfigurationError)  # held for an operator, not retried
    assert len(raised.value.problems) == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"tag": "a" * 21}, "options.tag"),
        ({"stop": 3}, "options.stop"),
    ],
)
def test_ill_typed_options_are_refused_before_any_batch(
    options: dict[str, Any], field: str
) -> None:
    # Enqueue parses options with the adapter's model: such a value never reaches a batch.
    with pytest.raises(CampaignValidationError) as raised:
        batch(options=options)
    assert [p.field for p in raised.value.problems] == [field]
