"""Character counting, long SMS billing, truncation and STOP SMS ("FONCTION NOUVEAU MESSAGE",
"Détails sur le nombre de caractères", "Détails sur le long SMS", "Détails sur le STOP SMS")."""

from __future__ import annotations

import pytest

from dispatcher.sandbox.envoyer_text import (
    STOP_MENTION,
    MessageTooLongError,
    compose,
    sms_count,
    truncate,
    units,
)


def test_plain_gsm_characters_count_one() -> None:
    assert units("Hello, world! 0123456789 @£$") == 28


@pytest.mark.parametrize("char", list("éèàùìòÇÄÖÑÜäöñüßÆæØøÅå¡¿§"))
def test_gsm_accented_letters_count_one(char: str) -> None:
    assert units(char) == 1


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_gsm_extension_characters_count_two(char: str) -> None:
    assert units(char) == 2


@pytest.mark.parametrize("char", ["ê", "ç", "œ", "`", "\t", "😀", "ы"])
def test_characters_outside_gsm_count_two(char: str) -> None:
    assert units(char) == 2


@pytest.mark.parametrize("text", ["\n", "\r", "\r\n"])
def test_a_line_break_counts_two(text: str) -> None:
    assert units(f"a{text}b") == 4


def test_a_literal_backslash_n_is_text_not_a_line_break() -> None:
    assert units("a\\nb") == 5


@pytest.mark.parametrize(
    ("length", "sms"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 0)],
)
def test_long_sms_billing_table(length: int, sms: int) -> None:
    assert sms_count(length) == sms


def test_160_characters_fit_one_sms() -> None:
    composed = compose("x" * 160, stop=False, long_allowed=False, truncation_allowed=False)
    assert (composed.sms, composed.length, composed.truncated) == (1, 160, False)


def test_161_characters_are_too_long_without_long_sms() -> None:
    with pytest.raises(MessageTooLongError):
        compose("x" * 161, stop=False, long_allowed=False, truncation_allowed=False)


def test_special_characters_count_towards_the_limit() -> None:
    with pytest.raises(MessageTooLongError):
        compose("€" * 81, stop=False, long_allowed=False, truncation_allowed=False)


def test_stop_sms_appends_the_mention_after_a_line_break() -> None:
    composed = compose("Promo", stop=True, long_allowed=False, truncation_allowed=False)
    assert composed.text == "Promo\nSTOP SMS au 36111"
    assert STOP_MENTION == "\nSTOP SMS au 36111"


def test_stop_sms_leaves_141_characters() -> None:
    composed = compose("x" * 141, stop=True, long_allowed=False, truncation_allowed=False)
    assert (composed.length, composed.sms) == (160, 1)
    with pytest.raises(MessageTooLongError):
        compose("x" * 142, stop=True, long_allowed=False, truncation_allowed=False)


@pytest.mark.parametrize(("length", "sms"), [(160, 1), (161, 2), (306, 2), (307, 3), (459, 3)])
def test_long_message_allowed_bills_by_the_table(length: int, sms: int) -> None:
    composed = compose("x" * length, stop=False, long_allowed=True, truncation_allowed=False)
    assert composed.sms == sms


def test_above_459_characters_is_too_long_even_with_long_sms() -> None:
    with pytest.raises(MessageTooLongError):
        compose("x" * 460, stop=False, long_allowed=True, truncation_allowed=False)


def test_truncation_cuts_to_160_characters() -> None:
    composed = compose("x" * 200, stop=False, long_allowed=False, truncation_allowed=True)
    assert (composed.text, composed.sms, composed.truncated) == ("x" * 160, 1, True)


def test_truncation_with_long_sms_cuts_to_459_characters() -> None:
    composed = compose("x" * 500, stop=False, long_allowed=True, truncation_allowed=True)
    assert (len(composed.text), composed.sms) == (459, 3)


def test_truncation_never_splits_a_double_character() -> None:
    composed = compose("x" * 159 + "€", stop=False, long_allowed=False, truncation_allowed=True)
    assert composed.text == "x" * 159


def test_truncation_keeps_the_stop_mention_whole() -> None:
    composed = compose("y" * 200, stop=True, long_allowed=False, truncation_allowed=True)
    assert composed.text == "y" * 141 + STOP_MENTION
    assert composed.length == 160


def test_truncation_keeps_a_cr_lf_pair_together() -> None:
    assert truncate("ab\r\ncd", 4) == "ab\r\n"
    assert truncate("ab\r\ncd", 3) == "ab"


def test_text_that_fits_is_not_marked_truncated() -> None:
    composed = compose("short", stop=False, long_allowed=False, truncation_allowed=True)
    assert (composed.text, composed.truncated) == ("short", False)
