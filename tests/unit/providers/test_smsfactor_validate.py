"""SMSFactor campaign validation: sender (1.2.1.3), text (1.2.1.4), options (1.2.1.5-8)."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.domain.text import Encoding
from dispatcher.errors import Problem

from ._options import campaign_problems
from ._smsfactor import provider


def problems(
    text: str = "Hello",
    sender: str | None = "SHOP",
    batch_encoding: Encoding | None = None,
    **options: Any,
) -> list[Problem]:
    return campaign_problems(
        provider(), text=text, sender=sender, options=options, encoding=batch_encoding
    )


def fields(found: list[Problem]) -> list[str]:
    return [problem.field for problem in found]


def test_a_plain_campaign_has_no_problem() -> None:
    assert problems() == []


@pytest.mark.parametrize(
    "sender",
    ["A", "SMSFactor", "ABCDEFGHIJK", "33600000000", "Shop2024"],
)
def test_senders_of_up_to_11_letters_and_digits(sender: str) -> None:
    assert problems(sender=sender) == []


@pytest.mark.parametrize(
    ("sender", "messages"),
    [
        (None, ["is mandatory for SMSFactor (section 1.2.1.3)"]),
        ("", ["is mandatory for SMSFactor (section 1.2.1.3)"]),
        ("ABCDEFGHIJKL", ["at most 11 characters"]),
        ("My Shop", ["ASCII letters and digits only, no blank or accent"]),
        ("Café", ["ASCII letters and digits only, no blank or accent"]),
        ("+3360000000", ["ASCII letters and digits only, no blank or accent"]),
        (
            "Le-Magasin-Bio",
            ["at most 11 characters", "ASCII letters and digits only, no blank or accent"],
        ),
    ],
)
def test_bad_senders(sender: str | None, messages: list[str]) -> None:
    found = problems(sender=sender)
    assert fields(found) == ["sender"] * len(messages)
    assert [p.message for p in found] == messages


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("Joyeux Noël", "'ë'"),  # section 1.2.1.4's own example: ë => e
        ("à bientôt, maître", "'ô', 'î'"),
        ("Smile ☺ and 🎉", "'☺', '🎉'"),
        ("`backtick` and ’curly’", "'`', '’'"),
        ("form\ffeed", "'\\x0c'"),  # a GSM character XML 1.0 cannot carry
    ],
)
def test_characters_outside_gsm_are_listed(text: str, listed: str) -> None:
    (problem,) = problems(text=text)
    assert problem.field == "text"
    assert problem.message == (
        f"characters SMSFactor would not send as written (GSM 7-bit): {listed}"
    )


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 1120, True),  # section 1.2.1.4: "Limite : 1120 caractères"
        ("a" * 1121, False),
        ("€" * 560, True),  # extension characters take two septets
        ("€" * 561, False),
        ("a" * 1118 + "{", True),
        ("a" * 1119 + "{", False),
    ],
)
def test_text_limit_in_septets(text: str, ok: bool) -> None:
    found = problems(text=text)
    assert found == [] if ok else fields(found) == ["text"]


def test_an_empty_text_is_a_problem() -> None:
    assert fields(problems(text="  ")) == ["text"]


@pytest.mark.parametrize(
    ("encoding", "option", "ok"),
    [
        (None, None, True),
        (None, "auto", True),
        (None, "gsm", True),
        (Encoding.GSM, None, True),
        (None, "unicode", False),  # the campaign asks for Unicode
        (Encoding.UNICODE, None, False),  # a batch planned as Unicode
    ],
)
def test_unicode_is_refused(encoding: Encoding | None, option: str | None, ok: bool) -> None:
    options = {} if option is None else {"encoding": option}
    found = problems(batch_encoding=encoding, **options)
    assert found == [] if ok else fields(found) == ["options.encoding"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"stop": 1}, "options.stop"),  # no STOP mention in v2.2
        ({"stop": 2}, "options.stop"),
        ({"allow_replies": True}, "options.allow_replies"),
        ({"flash": "yes"}, "options.flash"),
        ({"flash": 2}, "options.flash"),
        ({"flash": None}, "options.flash"),
        ({"bookmark": ""}, "options.bookmark"),
        ({"bookmark": "www.smsfactor.com/a b"}, "options.bookmark"),
        ({"bookmark": 42}, "options.bookmark"),
        ({"bookmark": "http://x.test/\n"}, "options.bookmark"),
        ({"bookmark": None}, "options.bookmark"),  # leave the key out for no bookmark
        ({"stop": 3}, "options.stop"),
    ],
)
def test_options_it_cannot_honour(options: dict[str, Any], field: str) -> None:
    assert fields(problems(**options)) == [field]


@pytest.mark.parametrize(
    "options",
    [
        {"stop": None},
        {"stop": 0},
        {"allow_replies": False},
        {"flash": True},
        {"flash": False},
        {"flash": 0},
        {"flash": 1},
        {"bookmark": "www.smsfactor.com"},  # section 1.2.1.7's example
        {"bookmark": "https://shop.test/offer?id=1&x=2"},
        {"provider_scheduling": True},
        {"method": "POST"},
    ],
)
def test_options_it_honours(options: dict[str, Any]) -> None:
    assert problems(**options) == []
