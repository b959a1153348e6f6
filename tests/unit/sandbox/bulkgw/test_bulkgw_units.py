"""Bulk gateway helpers: text rules (document section 1.2, parameters 3 and 7) and
parameter parsing (sections 1.2 and 2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.sandbox.bulkgw_params import (
    all_plain_numbers,
    destination_of,
    read_query,
    split_destinations,
)
from dispatcher.sandbox.bulkgw_text import fits_charset, parts, units

_ITEMS = st.lists(st.text(alphabet="0123456789+ a", min_size=0, max_size=17), max_size=6)


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_plain_text_is_one_sms_up_to_160_then_153_per_part(length: int, expected: int) -> None:
    assert parts("a" * length, 0) == expected


def test_iso_8859_1_plain_text_counts_like_gsm_plain_text() -> None:
    assert (parts("é" * 160, 5), parts("é" * 161, 5)) == (1, 2)


@pytest.mark.parametrize(("length", "expected"), [(140, 1), (141, 2), (306, 2), (307, 3)])
def test_flash_text_is_one_sms_up_to_140(length: int, expected: int) -> None:
    assert parts("a" * length, 1) == parts("a" * length, 7) == expected


def test_gsm_extension_characters_count_double() -> None:
    assert (units("€{}", 0), parts("€" * 80, 0), parts("€" * 81, 0)) == (6, 1, 2)


def test_extension_characters_count_once_in_iso_8859_1_types() -> None:
    assert units("{}", 5) == 2


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (280, 1), (281, 2), (536, 2), (537, 3)])
def test_unicode_counts_the_documents_280_and_268_in_characters(length: int, expected: int) -> None:
    assert parts("☺" * length, 2) == parts("☺" * length, 6) == expected


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_unicode_in_hex_units_gives_70_and_67_characters(length: int, expected: int) -> None:
    assert parts("☺" * length, 2, "hex") == expected


def test_hex_units_count_a_character_beyond_the_bmp_as_two_code_units() -> None:
    assert units("😀", 2, "hex") == 8


@pytest.mark.parametrize(
    ("text", "message_type", "fits"),
    [
        ("Hello @ £ ¥ è é ù ì ò Ç Ø å Δ ß É ¡ Ä Ö Ñ Ü § ¿ ä ö ñ ü à", 0, True),
        ("^{}\\[~]|€", 1, True),
        ("ç", 0, False),
        ("ê", 0, False),
        ("`", 0, False),
        ("ê`ÿ", 5, True),
        ("€", 7, False),
        ("☺😀", 2, True),
    ],
)
def test_each_type_accepts_its_documented_encoding(
    text: str, message_type: int, fits: bool
) -> None:
    assert fits_charset(text, message_type) is fits


@given(_ITEMS)
def test_the_fast_path_agrees_with_the_per_destination_rule(items: list[str]) -> None:
    if all_plain_numbers(items):
        assert [destination_of(i) for i in items] == items


def test_the_fast_path_takes_clean_lists() -> None:
    assert all_plain_numbers(["33612345678", "447911123456"])


def test_read_query_decodes_percent_escapes_to_raw_bytes() -> None:
    assert read_query(b"message=caf%C3%A9&x=%2B1")["message"] == "café".encode().decode("latin-1")


def test_read_query_turns_an_unencoded_plus_into_a_space() -> None:
    assert read_query(b"destination=+33612345678")["destination"] == " 33612345678"


def test_split_destinations_drops_blanks_and_keeps_order() -> None:
    raw = " 33612345678 ,, +447911123456,"
    assert split_destinations(raw) == ["33612345678", "+447911123456"]
