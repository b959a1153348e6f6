"""The prefix cache in front of the fast path: an answer kept per prefix must be the answer
phonenumbers gives every number with that prefix and length.

``domain.digit_patterns`` proves a pattern's answer from a number's first digits; these tests
check the proof against ``re`` itself on every completion, and the cached answers against the
slow path (phonenumbers alone) on large generated samples full of edge cases.
"""

from __future__ import annotations

import itertools
import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata

from dispatcher.domain.digit_patterns import Verdict, automaton
from dispatcher.domain.numbers import _LEFT, NumberNormaliser, _prefix_table, _Undecided
from dispatcher.errors import NumberRejected

DESCS = ("general_desc", "fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost",
         "voip", "personal_number", "pager", "uan", "voicemail")  # fmt: skip


def metadata_patterns() -> list[str]:
    found: set[str] = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        md = PhoneMetadata.metadata_for_region(region)
        assert md is not None
        for name in DESCS:
            desc = getattr(md, name)
            if desc is not None and desc.national_number_pattern:
                found.add(desc.national_number_pattern)
        for extra in (md.leading_digits, md.international_prefix, md.national_prefix_for_parsing):
            if extra:
                found.add(extra)
    return sorted(found)


def outcome(normaliser: NumberNormaliser, raw: str) -> tuple[str, str]:
    try:
        return ("ok", normaliser.normalise(raw))
    except NumberRejected as exc:
        return ("rejected", exc.reason)


def fresh(region: str) -> NumberNormaliser:
    """A normaliser whose prefix cache starts empty: every answer below is learnt here."""
    _prefix_table.cache_clear()
    return NumberNormaliser(region)


def brute_force(pattern: str, known: str, unknown: int, *, prefix: bool) -> Verdict:
    compiled = re.compile(pattern)
    test = compiled.match if prefix else compiled.fullmatch
    seen = {
        test(known + "".join(tail)) is not None
        for tail in itertools.product("0123456789", repeat=unknown)
    }
    return Verdict.SOME if len(seen) == 2 else Verdict.ALL if seen == {True} else Verdict.NONE


def test_verdicts_agree_with_re_on_every_completion() -> None:
    rng = random.Random(7)
    patterns = metadata_patterns()
    checked = 0
    for pattern in rng.sample(patterns, 250):
        machine = automaton(pattern)
        if machine is None:
            continue
        for _ in range(6):
            known = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 8)))
            unknown = rng.randint(0, 3)
            assert machine.fullmatch(known, unknown) == brute_force(
                pattern, known, unknown, prefix=False
            ), (pattern, known, unknown)
            assert machine.prefix_match(known, unknown) == brute_force(
                pattern, known, unknown, prefix=True
            ), (pattern, known, unknown)
            checked += 1
    assert checked > 1000


def test_patterns_with_anchors_are_refused() -> None:
    assert automaton(r"([2-9]\d{6})$|1") is None  # a national prefix rule of +1 regions


def test_french_mobile_ranges_are_settled_by_their_first_digits() -> None:
    mobile = automaton(r"(?:6(?:[0-24-8]\d|3[0-8]|9[589])|7[3-9]\d)\d{6}")
    assert mobile is not None
    assert mobile.fullmatch("61", 7) is Verdict.ALL
    assert mobile.fullmatch("63", 7) is Verdict.SOME
    assert mobile.fullmatch("639", 6) is Verdict.NONE
    assert mobile.fullmatch("61", 8) is Verdict.NONE  # one digit too many


def edge_cases(rng: random.Random, count: int) -> list[str]:
    """Digit strings as lists hold them: French mobiles and landlines in every prefix form,
    wrong lengths, other countries, stray 0/00/+, separators."""
    codes = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    prefixes = ["", "0", "00", "+", "33", "+33", "0033", "+330", "330", "+0", "000", "3", "+3",
                "+033", "033", "00033", "+3333", "3333"]  # fmt: skip
    found = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.45:  # French numbers, mostly mobiles, lengths around the right one
            head = rng.choice("66667777123456789")
            size = rng.choice([9, 9, 9, 9, 8, 10, 7, 11, 1, 2, 3])
            nsn = head + "".join(rng.choice("0123456789") for _ in range(size - 1))
            raw = rng.choice(prefixes) + nsn
        elif roll < 0.75:  # another calling code
            raw = rng.choice(["+", "", "00"]) + rng.choice(codes)
            raw += "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 14)))
        else:  # anything made of digits
            raw = rng.choice(["", "+"]) + "".join(
                rng.choice("0123456789") for _ in range(rng.randint(1, 22))
            )
        if rng.random() < 0.15 and len(raw) > 4:
            cut = rng.randint(1, len(raw) - 1)
            raw = raw[:cut] + rng.choice([" ", ".", "-", " (0) ", "\u00a0"]) + raw[cut:]
        found.append(raw)
    return found


def test_cached_answers_agree_with_phonenumbers_on_a_large_sample() -> None:
    cached, slow = fresh("FR"), NumberNormaliser("FR", fast=False)
    for raw in edge_cases(random.Random(2026), 20_000):
        assert outcome(cached, raw) == outcome(slow, raw), raw


@pytest.mark.parametrize("region", ["GB", "US", "DE", "BE", "CH", "RE", "GP", "IT", "AR", "BR"])
def test_cached_answers_agree_for_other_default_regions(region: str) -> None:
    cached, slow = fresh(region), NumberNormaliser(region, fast=False)
    own = str(phonenumbers.country_code_for_region(region))
    rng = random.Random(region)
    samples = edge_cases(rng, 1_500)
    samples += [own + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 12)))
                for _ in range(1_500)]  # fmt: skip
    for raw in samples:
        assert outcome(cached, raw) == outcome(slow, raw), (region, raw)


@settings(max_examples=1500, deadline=None)
@given(st.from_regex(r"\+?(?:0{0,2}|33|\+33)[0-9]{0,14}", fullmatch=True))
def test_any_digit_string_gets_the_slow_paths_answer(raw: str) -> None:
    assert outcome(NumberNormaliser("FR"), raw) == outcome(NumberNormaliser("FR", fast=False), raw)


def test_a_million_french_mobiles_need_a_handful_of_prefixes() -> None:
    from dispatcher.local.sample import french_mobiles

    normaliser = fresh("FR")
    for number in french_mobiles(20_000, seed=3):
        assert normaliser.normalise(number) == number
    table = _prefix_table("FR")
    assert table.entries < 40  # "3361", "3373"...: one per range, not per number
    assert all(answer is not _LEFT for kept in table.by_length.values() for answer in kept.values())


def test_separated_numbers_are_answered_from_the_cache() -> None:
    normaliser = fresh("FR")
    assert normaliser._cached("06 12 34 56 78") == "33612345678"
    assert normaliser._cached("+33 (0)6.12.34.56.78") == "33612345678"


def test_other_characters_are_left_to_the_fast_path() -> None:
    with pytest.raises(_Undecided):
        fresh("FR")._cached("\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668")
