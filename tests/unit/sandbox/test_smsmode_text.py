"""Text rules of the sMsmode document: section 3 (charset, nbr_msg, STOP) and 16 (Unicode)."""

from __future__ import annotations

import pytest

from dispatcher.sandbox.smsmode_text import (
    compose,
    decode_message,
    parts_for,
    truncate,
    units,
)


def latin1(data: bytes) -> str:
    """How the sandbox holds raw parameter bytes before decoding."""
    return data.decode("latin-1")


def test_iso_8859_15_bytes_decode_to_the_table_characters() -> None:
    assert decode_message(latin1("é€àü£".encode("iso8859_15")), 2) == "é€àü£"


def test_byte_0x80_is_the_euro_sign_as_the_table_says() -> None:
    assert decode_message(latin1(b"\x80"), 2) == "€"


def test_characters_outside_the_table_become_question_marks() -> None:
    # ç, ê, Š (ISO-8859-15 0xA6) and the backtick are not in the section 3 table.
    assert decode_message(latin1("ça ê Š `".encode("iso8859_15")), 2) == "?a ? ? ?"


def test_classe_4_uses_the_same_charset_as_classe_2() -> None:
    assert decode_message(latin1("é€".encode("iso8859_15")), 4) == "é€"


def test_unicode_class_decodes_utf8() -> None:
    assert decode_message(latin1("☺ é€ 😀".encode()), 9) == "☺ é€ 😀"


def test_invalid_utf8_becomes_question_marks() -> None:
    assert decode_message(latin1(b"ok \xff\xfe end"), 9) == "ok ?? end"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a" * 160, 160), ("€", 2), ("{|}~[\\]^€", 18), ("é", 1)],
)
def test_gsm_units_count_starred_characters_double(text: str, expected: int) -> None:
    assert units(text, unicode=False) == expected


def test_unicode_units_count_characters_beyond_ffff_double() -> None:
    assert units("☺a😀", unicode=True) == 4


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm_parts_are_160_then_153_each(length: int, parts: int) -> None:
    assert parts_for(length, unicode=False) == parts


@pytest.mark.parametrize(
    ("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (268, 4), (335, 5)]
)
def test_unicode_parts_are_70_then_67_each(length: int, parts: int) -> None:
    assert parts_for(length, unicode=True) == parts


def test_truncation_never_splits_a_double_character() -> None:
    assert truncate("a" * 159 + "€", 160, unicode=False) == "a" * 159


def test_nbr_msg_truncates_to_that_many_parts() -> None:
    composed = compose("x" * 500, 2, 2, 0, "STOP 36304")
    assert (len(composed.text), composed.parts) == (306, 2)


def test_default_nbr_msg_of_5_allows_765_characters() -> None:
    composed = compose("x" * 1000, 2, 5, 0, "STOP 36304")
    assert (len(composed.text), composed.parts) == (765, 5)


def test_unicode_is_capped_at_5_parts_whatever_nbr_msg_says() -> None:
    composed = compose("☺" * 1000, 9, 8, 0, "STOP 36304")
    assert (len(composed.text), composed.parts) == (335, 5)


def test_stop_1_adds_the_mention_to_a_149_character_text() -> None:
    composed = compose("x" * 149, 2, 5, 1, "STOP 36304")
    assert (composed.text, composed.parts) == ("x" * 149 + " STOP 36304", 1)


def test_stop_1_leaves_a_150_character_text_alone() -> None:
    composed = compose("x" * 150, 2, 5, 1, "STOP 36304")
    assert (composed.text, composed.parts) == ("x" * 150, 1)


def test_stop_2_adds_the_mention_even_when_it_costs_a_second_sms() -> None:
    composed = compose("x" * 150, 2, 5, 2, "STOP 36304")
    assert (composed.text, composed.parts) == ("x" * 150 + " STOP 36304", 2)


def test_stop_2_keeps_the_mention_when_nbr_msg_truncates() -> None:
    composed = compose("x" * 200, 2, 1, 2, "STOP 36304")
    assert (composed.text, composed.parts) == ("x" * 149 + " STOP 36304", 1)


def test_unicode_stop_1_threshold_keeps_a_single_sms() -> None:
    added = compose("☺" * 59, 9, 5, 1, "STOP 36304")
    skipped = compose("☺" * 60, 9, 5, 1, "STOP 36304")
    assert (added.parts, added.text.endswith("STOP 36304"), skipped.text) == (1, True, "☺" * 60)
