"""Phone-number normalisation: the table of formats people type, and fast path == slow path.

The slow path (``NumberNormaliser(fast=False)``) is phonenumbers' own answer; every generated
input must get the same answer, normalised digits or rejection reason, from the fast path.
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from dispatcher.domain.numbers import ACCEPTED_TYPES, NumberNormaliser, _Undecided
from dispatcher.errors import ConfigurationError, NumberRejected

FR = NumberNormaliser("FR")


def outcome(normaliser: NumberNormaliser, raw: str) -> tuple[str, str]:
    try:
        return ("ok", normaliser.normalise(raw))
    except NumberRejected as exc:
        return ("rejected", exc.reason)


def decided_fast(normaliser: NumberNormaliser, raw: str) -> bool:
    """Whether the fast path answered on its own (a rejection counts as an answer)."""
    try:
        normaliser._fast(raw)
    except _Undecided:
        return False
    except NumberRejected:
        pass
    return True


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "(06) 12 34 56 78",
        " 06 12 34 56 78 ",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
        "0033 6 12 34 56 78",
        "33612345678",
        "33 6 12 34 56 78",
        "612345678",
        "06\u00a012\u00a034\u00a056\u00a078",
    ],
)
def test_french_mobile_06_in_every_format(raw: str) -> None:
    assert FR.normalise(raw) == "33612345678"
    assert decided_fast(FR, raw), "the common French formats must not need phonenumbers.parse"


@pytest.mark.parametrize(
    "raw", ["0756123456", "07 56 12 34 56", "+33 7 56 12 34 56", "0033756123456"]
)
def test_french_mobile_07(raw: str) -> None:
    assert FR.normalise(raw) == "33756123456"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7911 123456", "447911123456"),
        ("0044 7911 123456", "447911123456"),
        ("+44 (0)7911 123456", "447911123456"),
        ("+1 (201) 555-0123", "12015550123"),  # FIXED_LINE_OR_MOBILE: the NANP cannot tell
        ("+262 692 12 34 56", "262692123456"),  # Réunion, a French overseas mobile
        ("\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "33612345678"),
    ],
)
def test_other_valid_mobiles(raw: str, expected: str) -> None:
    assert FR.normalise(raw) == expected


def test_national_number_uses_the_default_region() -> None:
    assert NumberNormaliser("GB").normalise("07911 123456") == "447911123456"
    assert NumberNormaliser("gb").normalise("+33 6 12 34 56 78") == "33612345678"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("01 44 55 66 77", "not a mobile number"),  # Paris landline
        ("+33 1 44 55 66 77", "not a mobile number"),
        ("09 12 34 56 78", "not a mobile number"),  # French VoIP ("box") number
        ("+44 20 7946 0958", "not a mobile number"),  # London landline
        ("+800 1234 5678", "not a mobile number"),  # international freephone
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "unparsable"),
        ("+", "unparsable"),
        ("06\t12 34 56 78", "unparsable"),  # phonenumbers does not take tabs as separators
        ("12", "not a valid number for FR (too short)"),
        ("06 12", "not a valid number for FR (too short)"),
        ("+33 6 12 34 56 78 90 12", "not a valid number for FR (too long)"),
        ("06 12 34 56 78 90 12 34 56 78 90", "too long"),
        ("+999 123 456 789", "unknown country calling code"),
        ("0612345678 ext. 12", "has an extension"),
        ("0712345678", "not a valid number for FR"),  # 070-072 are not allocated to mobiles
        ("06 39 12 34 56", "not a valid number for FR"),
        ("+44 7911 12345", "not a valid number for GB"),  # one digit short, same length class
        ("+800 12", "not a valid number for +800 (too short)"),  # non-geographic calling code
    ],
)
def test_rejections_carry_a_short_reason(raw: str, reason: str) -> None:
    with pytest.raises(NumberRejected) as caught:
        FR.normalise(raw)
    assert caught.value.reason == reason
    assert outcome(NumberNormaliser("FR", fast=False), raw) == ("rejected", reason)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == reason  # never the number itself: reasons reach the logs


def test_a_number_of_another_region_given_nationally_names_the_region() -> None:
    with pytest.raises(NumberRejected) as caught:
        FR.normalise("07911 123456")  # a UK mobile, without +44
    assert caught.value.reason.startswith("not a valid number for FR")


def test_unknown_default_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'XX'"):
        NumberNormaliser("XX")


# --- fast path == slow path -------------------------------------------------------------------

TYPES = [getattr(PhoneNumberType, name) for name in (
    "FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "PREMIUM_RATE", "SHARED_COST",
    "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL")]  # fmt: skip


def _examples() -> list[tuple[str, PhoneNumber]]:
    """(region to dial from nationally, number) for every example number the metadata has."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append((region, number))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.append(("FR", number))  # no national form: dial them from France
    return found


def is_geographic(number: PhoneNumber) -> bool:
    return number.country_code not in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS


EXAMPLES = _examples()
# Regions whose rules exercise the replayed steps: transform rules (AR, BR, MX, SM, JP, GG...),
# calling codes shared by several regions (+1, +7, +44, +262, +590...), "00" not being the
# international prefix (US, JP, AU), local-only lengths (DE, IT).
DEFAULT_REGIONS = ["FR", "GB", "US", "CA", "DE", "IT", "VA", "AR", "BR", "MX", "SM", "JP", "AU",
                   "CX", "RU", "KZ", "GG", "IM", "RE", "YT", "GP", "IN", "CN", "CH", "BE", "NL",
                   "ES", "PT", "MA", "DZ", "TN", "SN", "CI", "HU", "LT", "KR"]  # fmt: skip
FAST = {region: NumberNormaliser(region) for region in DEFAULT_REGIONS}
SLOW = {region: NumberNormaliser(region, fast=False) for region in DEFAULT_REGIONS}
for _region, _number in EXAMPLES:
    FAST.setdefault(_region, NumberNormaliser(_region))
    SLOW.setdefault(_region, NumberNormaliser(_region, fast=False))
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL,
           PhoneNumberFormat.RFC3966]  # fmt: skip


def assert_paths_agree(region: str, raw: str) -> None:
    assert outcome(FAST[region], raw) == outcome(SLOW[region], raw), (region, raw)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_example_number_agrees_and_valid_ones_take_the_fast_path(fmt: int) -> None:
    undecided = []
    for region, number in EXAMPLES:
        raw = phonenumbers.format_number(number, fmt)
        for default in (region, "FR", "US"):
            assert_paths_agree(default, raw)
        if (
            is_geographic(number)
            and fmt != PhoneNumberFormat.RFC3966
            and not decided_fast(FAST[region], raw)
        ):
            undecided.append(raw)
    # Only Argentina's "011 15-..." mobile format needs its national-prefix transform rule.
    assert undecided == (["011 15-2345-6789"] if fmt == PhoneNumberFormat.NATIONAL else [])


def test_accepted_example_mobiles_come_out_as_e164_digits() -> None:
    for region, number in EXAMPLES:
        if phonenumbers.number_type(number) in ACCEPTED_TYPES:
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            assert FAST[region].normalise(e164) == e164[1:]


SEPARATORS = st.sampled_from([" ", ".", "-", "(", ")", "\u00a0", "", "", ""])


@st.composite
def noisy(draw: st.DrawFn, text: str) -> str:
    """Insert separators between the characters, as CRM exports and people do."""
    return "".join(draw(SEPARATORS) + char for char in text) + draw(SEPARATORS)


@st.composite
def example_inputs(draw: st.DrawFn) -> tuple[str, str]:
    region, number = draw(st.sampled_from(EXAMPLES))
    digits = phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
    if draw(st.booleans()):  # a near miss: one digit changed, dropped or added
        at = draw(st.integers(0, len(digits) - 1))
        digit = draw(st.sampled_from("0123456789"))
        digits = draw(st.sampled_from([
            digits[:at] + digit + digits[at + 1:], digits[:at] + digits[at + 1:],
            digits[:at] + digit + digits[at:]]))  # fmt: skip
    national = phonenumbers.national_significant_number(number)
    prefix = phonenumbers.ndd_prefix_for_region(region, True) or ""
    text = draw(st.sampled_from(["+" + digits, "00" + digits, "011" + digits, digits,
                                 prefix + national, national]))  # fmt: skip
    default = draw(st.sampled_from([region, *DEFAULT_REGIONS]))
    return default, draw(noisy(text))


@settings(max_examples=3000, deadline=None)
@given(example_inputs())
def test_fast_path_agrees_on_noisy_example_numbers(case: tuple[str, str]) -> None:
    assert_paths_agree(*case)


CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@settings(max_examples=3000, deadline=None)
@given(
    default=st.sampled_from(DEFAULT_REGIONS),
    prefix=st.sampled_from(["+", "00", "", "0", "011", "+0", "000"]),
    code=st.sampled_from(CALLING_CODES),
    rest=st.text("0123456789", max_size=18),
    noise=st.booleans(),
    data=st.data(),
)
def test_fast_path_agrees_on_random_digits(
    default: str, prefix: str, code: int, rest: str, noise: bool, data: st.DataObject
) -> None:
    raw = f"{prefix}{code}{rest}"
    assert_paths_agree(default, data.draw(noisy(raw)) if noise else raw)


@pytest.mark.parametrize(
    ("default", "raw"),
    [
        ("FR", "330612345678"),  # calling code and national prefix, no "+"
        ("FR", "+3300612345678"),
        ("FR", "000612345678"),  # "00" then "0": not an international prefix
        ("US", "0033612345678"),  # "00" is not the US international prefix
        ("US", "011 33 6 12 34 56 78"),
        ("AR", "+54 9 11 2345-6789"),
        ("AR", "011 15-2345-6789"),  # national prefix with a transform rule
        ("GG", "447781123456"),  # Guernsey's code is +44, whose main region is GB
        ("GB", "+44 1481 256789"),  # a Guernsey landline from the shared +44
        ("IT", "+39 06 698 12345"),  # Italian leading zero kept
    ],
)
def test_fast_path_agrees_on_tricky_inputs(default: str, raw: str) -> None:
    FAST.setdefault(default, NumberNormaliser(default))
    SLOW.setdefault(default, NumberNormaliser(default, fast=False))
    assert_paths_agree(default, raw)


@settings(max_examples=1000, deadline=None)
@given(default=st.sampled_from(DEFAULT_REGIONS), raw=st.text("0123456789+ .-()x#", max_size=24))
def test_fast_path_agrees_on_anything_phone_like(default: str, raw: str) -> None:
    assert_paths_agree(default, raw)
