"""GSM 7-bit conversion and part counting of the SMSFactor emulator (section 1.2.1.4, 1.2.1.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.sandbox.smsfactor_text import GSM_BASIC, GSM_EXTENSION, parts_for, septets, to_gsm


def test_documented_example_e_diaeresis_becomes_e() -> None:
    assert to_gsm("ë") == "e"


def test_gsm_characters_are_kept() -> None:
    assert to_gsm(GSM_BASIC + GSM_EXTENSION) == GSM_BASIC + GSM_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("êâîôûÊÀÔ", "eaiouEAO"),
        ("ç", "Ç"),
        ("œuvre Œ", "oeuvre OE"),
        ("l’été “ok” «oui»", 'l\'été "ok" "oui"'),
        ("a–b—c", "a-b-c"),
        ("…", "..."),
        ("ﬁn", "fin"),
        ("a\u00a0b\tc", "a b c"),
        ("😀 中", "? ?"),
        ("e\u0301", "e"),
    ],
    ids=[
        "accents",
        "c-cedilla",
        "ligature-oe",
        "quotes",
        "dashes",
        "ellipsis",
        "fi-ligature",
        "spaces",
        "no-close-character",
        "combining-mark",
    ],
)
def test_closest_character(text: str, expected: str) -> None:
    assert to_gsm(text) == expected


@given(st.text(max_size=50))
def test_converted_text_is_all_gsm(text: str) -> None:
    assert set(to_gsm(text)) <= set(GSM_BASIC + GSM_EXTENSION)


def test_extension_characters_take_two_septets() -> None:
    assert septets("a€[") == 5


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (1120, 8)],
)
def test_parts_are_160_then_153(length: int, parts: int) -> None:
    assert parts_for("a" * length) == parts


def test_extension_characters_can_push_into_two_parts() -> None:
    assert (parts_for("a" * 158 + "€"), parts_for("a" * 159 + "€")) == (1, 2)
