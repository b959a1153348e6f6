"""One suite over every registered provider: what the pipeline relies on from any adapter."""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.placement import SubmissionProbe
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.errors import BatchTooLargeError, CapabilityError, ConfigurationError
from dispatcher.providers.base import CAPABILITY_METHODS, Provider
from dispatcher.providers.registry import REGISTRY
from dispatcher.settings import AccountSettings

BASE_URL = "https://provider.test"


def sample_account(name: str) -> AccountSettings:
    """The provider's example account, from the helpers its own unit tests are written with
    (``tests/unit/providers/_<name>.py``, whose ``account(**overrides)`` is the convention),
    on a base URL these tests recognise."""
    helpers = importlib.import_module(f"tests.unit.providers._{name}")
    account: AccountSettings = helpers.account(name="contract", base_url=BASE_URL)
    return account


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_provider_has_test_helpers_with_an_example_account(name: str) -> None:
    assert sample_account(name).provider == name


@pytest.fixture(params=sorted(REGISTRY))
def provider_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _adapter(name: str, handler: object = None) -> Provider:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    client = httpx.Client(transport=httpx.MockTransport(handler or refuse))  # type: ignore[arg-type]
    return REGISTRY[name](sample_account(name), client, retry_seconds=0)


def _batch(method: str, count: int) -> OutboundBatch:
    numbers = [f"3361{n:07d}" for n in range(count)]
    return OutboundBatch(
        batch_id=1,
        campaign_id=1,
        client_ref="b1",
        text="Hello",
        encoding=Encoding.GSM,
        segments=1,
        sender="SHOP",
        msisdns=numbers,
        recipient_ids=list(range(count)),
        method=method,
    )


def test_capabilities_are_declared(provider_name: str) -> None:
    cls = REGISTRY[provider_name]
    assert cls.name == provider_name
    assert cls.default_method in cls.methods
    assert set(cls.methods) <= set(cls.max_recipients)


def test_a_batch_over_the_batch_size_is_refused_before_any_request(provider_name: str) -> None:
    adapter = _adapter(provider_name)
    for method in adapter.methods:
        limit = adapter.batch_size(method)
        assert limit <= adapter.max_recipients[method]
        adapter.check_batch(_batch(method, limit))
        with pytest.raises(BatchTooLargeError):
            adapter.check_batch(_batch(method, limit + 1))


def test_a_lone_surrogate_in_the_text_is_named_before_sending(provider_name: str) -> None:
    problems = _adapter(provider_name).validate(
        text="Hello \udc9f there", sender="SHOP", options=CampaignOptions()
    )
    assert str(problems[0]) == (
        "text: character 7 is a lone surrogate (U+DC9F), not a character an SMS can carry"
    )


def test_a_naive_send_time_is_refused(provider_name: str) -> None:
    adapter = _adapter(provider_name)
    scheduled = replace(
        _batch(adapter.default_method, 2), provider_send_at=datetime(2024, 1, 1, 12, 0)
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        adapter.build_send_request(scheduled)


def test_an_unknown_account_timezone_is_a_configuration_error(provider_name: str) -> None:
    account = sample_account(provider_name).model_copy(update={"timezone": "Mars/Olympus"})
    adapter = REGISTRY[provider_name](account, httpx.Client(), retry_seconds=0)
    scheduled = replace(
        _batch(adapter.default_method, 2), provider_send_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        adapter.build_send_request(scheduled)


def test_requests_go_to_the_accounts_base_url_so_the_sandbox_can_stand_in(
    provider_name: str,
) -> None:
    adapter = _adapter(provider_name)
    for method in adapter.methods:
        request = adapter.prepare_send(_batch(method, 2))
        assert str(request.url).startswith(f"{BASE_URL}/")
        assert request.method == method


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (502, Outcome.TRANSIENT),
        (503, Outcome.TRANSIENT),
        (500, Outcome.UNKNOWN),
        (504, Outcome.UNKNOWN),
    ],
)
def test_shared_http_statuses_are_classified_as_the_providers_readme_says(
    provider_name: str, status: int, outcome: Outcome
) -> None:
    adapter = _adapter(provider_name, lambda request: httpx.Response(status, text="oops"))
    batch = _batch(adapter.default_method, 2)
    assert adapter.execute_send(adapter.prepare_send(batch), batch).outcome is outcome


def test_an_answer_it_cannot_read_is_unknown_never_transient(provider_name: str) -> None:
    adapter = _adapter(provider_name, lambda request: httpx.Response(200, text="<<garbage>>"))
    batch = _batch(adapter.default_method, 2)
    assert adapter.execute_send(adapter.prepare_send(batch), batch).outcome is Outcome.UNKNOWN


def test_a_read_timeout_is_unknown_and_a_refused_connection_transient(provider_name: str) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer")

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    for handler, outcome in ((timeout, Outcome.UNKNOWN), (refused, Outcome.TRANSIENT)):
        adapter = _adapter(provider_name, handler)
        batch = _batch(adapter.default_method, 2)
        assert adapter.execute_send(adapter.prepare_send(batch), batch).outcome is outcome


# -- capabilities: a flag cannot lie -----------------------------------------------------------

# Arguments to call each capability method with (what they are does not matter: a provider
# without the capability refuses before reading them).
CAPABILITY_CALLS: dict[str, tuple[object, ...]] = {
    "build_poll_request": ("ref",),
    "parse_poll_response": (httpx.Response(200), "ref"),
    "parse_callback": ({},),
    "parse_inbound": ({},),
    "balance": (),
    "cancel": ("ref",),
    "discover_rate_limit": (),
    "stop_list_contains": ("33600000000",),
    "stop_list_add": ("33600000000",),
    "stop_list_remove": ("33600000000",),
    "find_submission": (
        SubmissionProbe(
            batch_id=1,
            client_ref="b1",
            text="Hello",
            msisdns=["33600000000"],
            sent_after=datetime(2024, 1, 1, tzinfo=UTC),
            sent_before=datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
        ),
    ),
    "pushed_match_slack": (),
}


def test_every_capability_method_has_an_example_call() -> None:
    methods = {m for listed in CAPABILITY_METHODS.values() for m in listed}
    assert methods == set(CAPABILITY_CALLS)


@pytest.mark.parametrize("flag", sorted(CAPABILITY_METHODS))
def test_a_capability_flag_is_true_exactly_when_its_methods_are_overridden(
    provider_name: str, flag: str
) -> None:
    cls = REGISTRY[provider_name]
    methods = CAPABILITY_METHODS[flag]
    overridden = {m: getattr(cls, m) is not getattr(Provider, m) for m in methods}
    assert overridden == dict.fromkeys(methods, getattr(cls, flag))


@pytest.mark.parametrize(
    ("provider", "flag"),
    [
        (name, flag)
        for name, cls in sorted(REGISTRY.items())
        for flag in sorted(CAPABILITY_METHODS)
        if not getattr(cls, flag)
    ],
)
def test_a_missing_capability_raises_one_error_naming_its_flag(provider: str, flag: str) -> None:
    adapter = _adapter(provider)
    for method in CAPABILITY_METHODS[flag]:
        with pytest.raises(CapabilityError, match=flag):
            getattr(adapter, method)(*CAPABILITY_CALLS[method])
