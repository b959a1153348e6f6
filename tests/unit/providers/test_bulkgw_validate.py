"""Bulk gateway campaign validation: sender (section 1.2 "source"), text length (section 1.2
"message"), and the common options the gateway cannot honour."""

from __future__ import annotations

import pytest

from dispatcher.domain.text import Encoding
from dispatcher.errors import ConfigurationError, UnsendableBatchError

from ._bulkgw import batch, provider
from ._options import campaign_problems

OK = "Hello"


@pytest.mark.parametrize(
    ("text", "sender", "options"),
    [
        (OK, "SHOP", {}),
        (OK, "ABCDEFGHIJK", {}),  # 11 alphanumeric
        (OK, "Shop24", {}),
        (OK, "123456789012345678", {}),  # 18 digits
        (OK, "+33612345678", {}),
        (OK, "+12345678901234567", {}),  # 18 with the "+"
        (OK, "SHOP", {"flash": True}),
        (OK, "SHOP", {"flash": False}),
        (OK, "SHOP", {"allow_replies": False}),
        (OK, "SHOP", {"stop": None}),
        (OK, "SHOP", {"method": "GET"}),
        (OK, "SHOP", {"provider_scheduling": True}),
        (OK, "SHOP", {"encoding": "unicode"}),
        ("a" * 765, "SHOP", {}),  # 5 parts of 153
        ("{" * 380, "SHOP", {}),  # 76 escape pairs a part: a pair is never split
        ("☺" * 335, "SHOP", {}),  # 5 Unicode parts of 67 ("268" hex digits)
        ("a" * 335, "SHOP", {"encoding": "unicode"}),
        ("a" * 140, "SHOP", {"flash": True}),  # "140 for flash"
        ("☺" * 70, "SHOP", {"flash": True}),  # one Unicode message ("280" hex digits)
    ],
)
def test_valid_campaigns(text: str, sender: str, options: dict[str, object]) -> None:
    assert campaign_problems(provider(), text=text, sender=sender, options=options) == []


@pytest.mark.parametrize(
    ("text", "sender", "options", "field", "words"),
    [
        ("", "SHOP", {}, "text", "empty"),
        (" \n", "SHOP", {}, "text", "empty"),
        ("a" * 766, "SHOP", {}, "text", "6 gsm SMS parts"),
        ("☺" * 336, "SHOP", {}, "text", "6 unicode SMS parts"),
        ("a" * 336, "SHOP", {"encoding": "unicode"}, "text", "6 unicode SMS parts"),
        ("a" * 141, "SHOP", {"flash": True}, "text", "at most 140 gsm"),
        ("☺" * 71, "SHOP", {"flash": True}, "text", "at most 70 unicode"),
        (OK, None, {}, "sender", "required"),
        (OK, "", {}, "sender", "required"),
        (OK, "ABCDEFGHIJKL", {}, "sender", "11 characters"),
        (OK, "1234567890123456789", {}, "sender", "18 characters"),
        (OK, "+123456789012345678", {}, "sender", "18 characters"),
        (OK, "My Shop", {}, "sender", "no blank"),
        (OK, "Café", {}, "sender", "no blank or accent"),
        (OK, "Shop-24", {}, "sender", "letters and digits"),
        (OK, "+SHOP", {}, "sender", "letters and digits"),
        (OK, "SHOP", {"stop": 1}, "options.stop", "no STOP mention"),
        (OK, "SHOP", {"stop": 2}, "options.stop", "no STOP mention"),
        (OK, "SHOP", {"allow_replies": True}, "options.allow_replies", "no replies"),
        (OK, "SHOP", {"allow_replies": "false"}, "options.allow_replies", "true or false"),
        (OK, "SHOP", {"flash": "true"}, "options.flash", "true or false"),
        (OK, "SHOP", {"flash": 1}, "options.flash", "true or false"),
        (OK, "SHOP", {"method": "POST"}, "options.method", "GET only"),
    ],
)
def test_refused_campaigns(
    text: str, sender: str | None, options: dict[str, object], field: str, words: str
) -> None:
    problems = campaign_problems(provider(), text=text, sender=sender, options=options)
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message


@pytest.mark.parametrize(("parts", "allowed"), [(1, 160), (2, 306), (3, 459)])
def test_max_parts_is_an_account_option(parts: int, allowed: int) -> None:
    adapter = provider(options={"max_parts": parts})
    assert campaign_problems(adapter, text="a" * allowed, sender="SHOP", options={}) == []
    assert [
        p.field
        for p in campaign_problems(adapter, text="a" * (allowed + 1), sender="SHOP", options={})
    ] == ["text"]


def test_the_batchs_encoding_decides_at_send_time() -> None:
    adapter = provider()
    assert (
        campaign_problems(adapter, text="a" * 400, sender="SHOP", options={}, encoding=Encoding.GSM)
        == []
    )
    problems = campaign_problems(
        adapter, text="a" * 400, sender="SHOP", options={}, encoding=Encoding.UNICODE
    )
    assert [p.field for p in problems] == ["text"]


@pytest.mark.parametrize(
    "fields",
    [
        {"sender": None},
        {"sender": "My Shop"},
        {"options": {"stop": 1}},
        {"options": {"flash": True}, "text": "a" * 141},
        {"text": "a" * 766},
    ],
)
def test_check_batch_holds_what_validate_refuses(fields: dict[str, object]) -> None:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(batch(**fields))  # type: ignore[arg-type]
    assert isinstance(raised.value, ConfigurationError)  # held for an operator, not retried
    assert len(raised.value.problems) == 1


@pytest.mark.parametrize(
    ("options", "variable"),
    [
        ({"max_parts": 0}, "OPTIONS__MAX_PARTS"),
        ({"max_url_length": "long"}, "OPTIONS__MAX_URL_LENGTH"),
        ({"dlr": "maybe"}, "OPTIONS__DLR"),
        ({"max_url_lenght": 9000}, "OPTIONS__MAX_URL_LENGHT"),  # a typo is not ignored
    ],
)
def test_bad_account_options_name_the_variable(options: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=f"DISPATCHER_ACCOUNTS__BULKGW_TEST__{variable}"):
        campaign_problems(provider(options=options), text=OK, sender="SHOP", options={})
