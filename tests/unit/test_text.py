"""measure(): encoding choice, units and parts, against an independent GSM 03.38 encoder.

The reference below encodes for real (septets with escape pairs, UTF-16 code units) and splits
the encoded stream into parts the way a handset reassembles them, sharing nothing with the
per-character cost arithmetic of dispatcher/domain/text.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding, measure

# 3GPP TS 23.038 section 6.2.1, the default alphabet, row by row from 0x00; "\x1b" marks the
# escape to the extension table, which is not a character of its own.
GSM_TABLE = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9"
    " !\"#\u00a4%&'()*+,-./"
    "0123456789:;<=>?"
    "\u00a1ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmno"
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)
ESC = 0x1B
# Section 6.2.1.1, the extension table: character -> septet after the escape.
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
                 "]": 0x3E, "|": 0x40, "\u20ac": 0x65}  # fmt: skip


def gsm_septets(text: str) -> list[int]:
    septets: list[int] = []
    for char in text:
        if char in GSM_EXTENSION:
            septets += [ESC, GSM_EXTENSION[char]]
        else:
            code = GSM_TABLE.index(char)  # ValueError: not GSM
            assert code != ESC
            septets.append(code)
    return septets


def pack_septets(septets: list[int]) -> bytes:
    """GSM 7-bit packing, to check the septet counts are what 140 octets really hold."""
    bits = sum(septet << (7 * i) for i, septet in enumerate(septets))
    return bits.to_bytes((7 * len(septets) + 7) // 8, "little")


def split(units: list[int], single: int, part: int, unsplittable: set[int]) -> int:
    """Cut an encoded stream into parts; a part never ends inside a pair."""
    if len(units) <= single:
        return 1
    count, start = 0, 0
    while start < len(units):
        end = min(start + part, len(units))
        if end < len(units) and units[end - 1] in unsplittable:
            end -= 1
        count, start = count + 1, end
    return count


def gsm_parts(text: str) -> int:
    return split(gsm_septets(text), 160, 153, {ESC})


def ucs2_units(text: str) -> list[int]:
    raw = text.encode("utf-16-be")
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def ucs2_parts(text: str) -> int:
    return split(ucs2_units(text), 70, 67, set(range(0xD800, 0xDC00)))  # high surrogates


def test_reference_table_is_the_one_text_py_uses() -> None:
    assert len(GSM_TABLE) == 128
    assert set(GSM_TABLE) - {"\x1b"} == GSM_BASIC
    assert set(GSM_EXTENSION) == GSM_EXTENDED
    assert len(pack_septets(gsm_septets("a" * 160))) == 140


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_pure_gsm_lengths(length: int, segments: int) -> None:
    result = measure("a" * length)
    assert (result.encoding, result.units, result.segments) == (Encoding.GSM, length, segments)
    assert result.non_gsm == ()


def test_extension_characters_count_double() -> None:
    result = measure("a" * 159 + "€")
    assert (result.encoding, result.units, result.segments) == (Encoding.GSM, 161, 2)
    assert measure("{}[]~|^\\€\f").units == 20
    assert measure("a" * 158 + "€").segments == 1  # 160 units exactly


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        # 152 + "€": the escape pair does not fit in the first part's last septet, so "€"
        # starts part two (153 units), leaving one "a" for part three; 306/153 would say 2.
        ("a" * 152 + "€" + "a" * 152, 306, 3),
        ("a" * 151 + "€" + "a" * 153, 306, 2),  # the pair ends part one exactly
        ("a" * 152 + "€" + "a" * 9, 163, 2),
        ("a" * 152 + "€", 154, 1),  # a single SMS has no part boundary at 153
    ],
)
def test_escape_pair_at_a_part_boundary(text: str, units: int, segments: int) -> None:
    result = measure(text)
    assert (result.encoding, result.units, result.segments) == (Encoding.GSM, units, segments)
    assert segments == gsm_parts(text)


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_unicode_lengths(length: int, segments: int) -> None:
    result = measure("ê" * length)
    assert (result.encoding, result.units, result.segments) == (Encoding.UNICODE, length, segments)
    assert result.non_gsm == ("ê",)


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("\U0001f600", 2, 1),
        ("\U0001f600" * 35, 70, 1),
        ("\U0001f600" * 36, 72, 2),
        ("ê" * 69 + "\U0001f600", 71, 2),
        # 66 units then an emoji: the surrogate pair starts part two, one "ê" spills to three.
        ("ê" * 66 + "\U0001f600" + "ê" * 66, 134, 3),
        ("ê" * 65 + "\U0001f600" + "ê" * 67, 134, 2),
    ],
)
def test_emoji_count_two_units_and_are_never_split(text: str, units: int, segments: int) -> None:
    result = measure(text)
    assert (result.encoding, result.units, result.segments) == (Encoding.UNICODE, units, segments)
    assert segments == ucs2_parts(text)


def test_combining_marks_are_characters_of_their_own_and_force_unicode() -> None:
    result = measure("Cafe\u0301")
    assert (result.encoding, result.units, result.segments) == (Encoding.UNICODE, 5, 1)
    assert result.non_gsm == ("\u0301",)
    assert measure("e\u0301" * 35).segments == 1
    assert measure("e\u0301" * 36).segments == 2  # 72 units, not 36 visible letters


def test_e_acute_stays_gsm_but_e_circumflex_does_not() -> None:
    assert measure("Café crème à Noël").encoding is Encoding.UNICODE  # ë is not GSM
    assert measure("Café crème à Paris").encoding is Encoding.GSM
    result = measure("Fête à Noël, fête")
    assert result.encoding is Encoding.UNICODE
    assert result.non_gsm == ("ê", "ë")  # in order of first appearance, once each


def test_c_cedilla_small_is_not_in_the_table() -> None:
    # 23.038 has only the capital Ç (0x09): "ça" costs a French text its GSM encoding.
    assert measure("Ça va").encoding is Encoding.GSM
    assert measure("ça va").non_gsm == ("ç",)


def test_force_unicode() -> None:
    result = measure("a" * 71, force=Encoding.UNICODE)
    assert (result.encoding, result.units, result.segments) == (Encoding.UNICODE, 71, 2)
    assert measure("€", force=Encoding.UNICODE).units == 1  # one UTF-16 unit, no escape
    assert measure("a", force=Encoding.UNICODE).non_gsm == ()


def test_a_provider_subset_makes_other_characters_unicode() -> None:
    result = measure("¥", basic=GSM_BASIC - {"¥"})
    assert (result.encoding, result.non_gsm) == (Encoding.UNICODE, ("¥",))


# --- properties against the reference encoder ------------------------------------------------

GSM_CHARS = sorted(set(GSM_TABLE) - {"\x1b"} | set(GSM_EXTENSION))
# Long texts matter (boundaries at 153 and 67 septets/units), extension characters and emoji
# must be frequent enough to land on them.
GSM_TEXT = st.text(st.sampled_from(GSM_CHARS) | st.sampled_from(sorted(GSM_EXTENSION)),
                   max_size=700)  # fmt: skip
UNICODE_CHAR = st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(
    ["\U0001f600", "\U0001f44d", "\U0001f3fd", "ê", "€", "\u0301"]
)
UNICODE_TEXT = st.text(UNICODE_CHAR, max_size=300)


@settings(max_examples=1500, deadline=None)
@given(GSM_TEXT)
def test_gsm_units_and_parts_match_a_real_encoding(text: str) -> None:
    result = measure(text)
    assert result.encoding is Encoding.GSM
    assert result.units == len(gsm_septets(text))
    assert result.segments == gsm_parts(text)


@settings(max_examples=1500, deadline=None)
@given(UNICODE_TEXT)
def test_ucs2_units_and_parts_match_utf16(text: str) -> None:
    result = measure(text, force=Encoding.UNICODE)
    assert result.encoding is Encoding.UNICODE
    assert result.units == len(text.encode("utf-16-be")) // 2
    assert result.segments == ucs2_parts(text)


@settings(max_examples=1000, deadline=None)
@given(UNICODE_TEXT)
def test_encoding_is_chosen_by_the_table(text: str) -> None:
    outside = [char for char in text if char not in GSM_CHARS]
    result = measure(text)
    assert result.non_gsm == tuple(dict.fromkeys(outside))
    assert result.encoding is (Encoding.UNICODE if outside else Encoding.GSM)
    reference = ucs2_parts(text) if outside else gsm_parts(text)
    assert result.segments == reference
