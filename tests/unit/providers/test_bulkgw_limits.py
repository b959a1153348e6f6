"""Bulk gateway limits: a GET's URL grows with every destination, so the batch size is bounded
by the account's max_url_length, and check_batch refuses any longer URL before sending."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding
from dispatcher.errors import BatchTooLargeError, ConfigurationError, UnsendableBatchError
from dispatcher.providers.bulkgw import GSM_WORST_BYTES, UCS2_WORST_BYTES, BulkGatewayProvider

from ._bulkgw import account, batch, provider
from ._options import campaign_problems

WORST_SENDER = "+" + "9" * 17  # the longest numeric source validate() accepts (18)
LATER = datetime(2099, 12, 31, 23, 59, tzinfo=UTC)  # a scheduled URL is the longer one


def numbers(count: int) -> list[str]:
    return [f"{i:015d}" for i in range(count)]  # E.164's longest: 15 digits


def url_length(adapter: BulkGatewayProvider, **fields: Any) -> int:
    return len(str(adapter.build_send_request(batch(**fields)).url).encode())


def test_default_batch_size_by_hand() -> None:
    # http://gateway.test:8080/bulksms/schedulemsg? + every parameter with its longest value;
    # the message: 5 parts of 153 GSM characters, 6 bytes each once encoded ("é" = %C3%A9).
    fixed = len(
        "http://gateway.test:8080/bulksms/schedulemsg?username=X&password=Y&message=&type=6"
        "&dlr=1&source=%2B99999999999999999&destination=&date=12%2F31%2F2099"
        "&time=12%3A59%20pm&gmt=%2B12%3A00"
    )
    expected = (8000 - fixed - 765 * 6 + 3) // (15 + 3)
    assert provider().batch_size() == provider().batch_size("GET") == expected


def test_the_default_batch_is_the_tightest_that_fits() -> None:
    adapter = provider()
    size = adapter.batch_size()
    worst = {"sender": WORST_SENDER, "provider_send_at": LATER}
    assert url_length(adapter, text="é" * 765, msisdns=numbers(size), **worst) <= 8000
    assert url_length(adapter, text="é" * 765, msisdns=numbers(size + 1), **worst) > 8000


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"max_url_length": 100_000}, 1000),  # the product's cap
        ({"max_url_length": 30_000, "max_parts": 1}, 1000),
    ],
)
def test_a_long_url_allowance_reaches_the_product_cap(
    options: dict[str, Any], expected: int
) -> None:
    assert provider(options=options).batch_size() == expected


def test_fewer_parts_leave_room_for_more_destinations() -> None:
    sizes = [provider(options={"max_parts": parts}).batch_size() for parts in (1, 2, 5, 8)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] >= 1


def test_a_longer_base_url_or_password_leaves_room_for_fewer() -> None:
    longer = provider(base_url="http://a-much-longer-gateway-name.example:8080", password="é" * 20)
    assert longer.batch_size() < provider().batch_size()


@pytest.mark.parametrize("size", [1, 50])
def test_a_configured_batch_size_that_fits_is_kept(size: int) -> None:
    assert provider(batch_size=size).batch_size() == size


def test_a_configured_batch_size_too_long_for_the_url_names_both_settings() -> None:
    with pytest.raises(ConfigurationError) as raised:
        provider(batch_size=900).batch_size()
    assert "DISPATCHER_ACCOUNTS__BULKGW_TEST__BATCH_SIZE" in str(raised.value)
    assert "DISPATCHER_ACCOUNTS__BULKGW_TEST__OPTIONS__MAX_URL_LENGTH" in str(raised.value)


def test_a_configured_batch_size_over_the_product_cap_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="limit of 1000"):
        provider(batch_size=1001, options={"max_url_length": 100_000}).batch_size()


def test_a_url_allowance_too_short_for_one_destination_names_the_settings() -> None:
    with pytest.raises(ConfigurationError, match=r"OPTIONS__MAX_URL_LENGTH.*OPTIONS__MAX_PARTS"):
        provider(options={"max_url_length": 4000}).batch_size()


def test_post_is_not_a_method_of_this_gateway() -> None:
    with pytest.raises(KeyError):
        provider().batch_size("POST")


def test_check_batch_refuses_one_more_than_batch_size() -> None:
    adapter = provider()
    size = adapter.batch_size()
    adapter.check_batch(batch(msisdns=numbers(size)))
    with pytest.raises(BatchTooLargeError):
        adapter.prepare_send(batch(msisdns=numbers(size + 1)))


class Unbounded(BulkGatewayProvider):
    """An adapter whose batch size forgot the URL: the URL check must stand on its own."""

    def batch_size(self, method: str | None = None) -> int:
        return 1000


def test_check_batch_measures_the_real_url() -> None:
    import httpx

    adapter = Unbounded(account(password="s3cr3t"), httpx.Client(), retry_seconds=0)
    adapter.check_batch(batch(msisdns=numbers(100)))
    with pytest.raises(BatchTooLargeError, match=r"URL would be [0-9]+ bytes") as raised:
        adapter.check_batch(batch(msisdns=numbers(1000)))
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(
    "msisdns",
    [
        ["+33612345678"],
        ["33612345678", "3361234567,8"],
        ["1234567890123456"],  # 16 digits: longer than E.164
        ["336 12 34 56 78"],
        [""],
    ],
)
def test_numbers_a_comma_list_cannot_carry_are_refused(msisdns: list[str]) -> None:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(batch(msisdns=msisdns))
    assert raised.value.problems[0].field == "msisdns"
    assert "3361234" not in str(raised.value)  # counted, never listed


@pytest.mark.parametrize("char", sorted(GSM_BASIC | GSM_EXTENDED))
def test_the_worst_gsm_bytes_hold_for_every_character(char: str) -> None:
    septets = 2 if char in GSM_EXTENDED else 1
    assert len(urllib.parse.quote(char, safe="")) <= GSM_WORST_BYTES * septets


@given(st.characters())
def test_the_worst_unicode_bytes_hold_for_every_character(char: str) -> None:
    units = 2 if ord(char) > 0xFFFF else 1
    encoded = urllib.parse.quote(char, safe="", errors="surrogatepass")
    assert len(encoded) <= UCS2_WORST_BYTES * units


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    parts=st.integers(min_value=1, max_value=8),
    unicode=st.booleans(),
    flash=st.booleans(),
)
def test_no_accepted_batch_of_batch_size_makes_a_longer_url(
    data: st.DataObject, parts: int, unicode: bool, flash: bool
) -> None:
    adapter = provider(options={"max_parts": parts}, password="pä&ss")
    alphabet = st.characters() if unicode else st.sampled_from(sorted(GSM_BASIC | GSM_EXTENDED))
    text = data.draw(st.text(alphabet=alphabet, min_size=1, max_size=parts * 160))
    encoding = Encoding.UNICODE if unicode else Encoding.GSM
    options = {"flash": flash}
    if campaign_problems(
        adapter, text=text, sender=WORST_SENDER, options=options, encoding=encoding
    ):
        return  # refused: never sent
    outbound = batch(
        text,
        encoding=encoding,
        sender=WORST_SENDER,
        options=options,
        msisdns=numbers(adapter.batch_size()),
        provider_send_at=LATER,
    )
    adapter.check_batch(outbound)  # raises if the URL were too long
    assert len(str(adapter.build_send_request(outbound).url)) <= 8000
