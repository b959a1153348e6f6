"""Recipients' phone numbers to the international digits providers want ("33612345678").

One mobile arrives as "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678" or "33612345678".
``phonenumbers`` decides which numbers are valid mobiles, but its ``parse`` + ``is_valid_number``
+ ``number_type`` cost about 20 µs a number, minutes for a big campaign. So, two paths:

- the *slow path*, that library sequence on the raw string, is the reference;
- the *fast path* takes ASCII digits with an optional leading "+" and the separators `` .-()``
  (and no-break space), and replays the library's own steps with regular expressions compiled
  once per region from the same metadata. Where a step could go a way it does not replay (a
  national-prefix transform rule, an unknown calling code), the slow path answers instead.
  ``tests/unit/test_numbers.py`` checks with generated inputs that both give the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberDesc,
    PhoneNumberType,
    ValidationResult,
)

from dispatcher.errors import ConfigurationError, NumberRejected

# An SMS reaches a handset on a mobile network. FIXED_LINE_OR_MOBILE is where the metadata
# cannot tell the two apart (all of North America, among others): rejecting it would reject
# every US and Canadian number, so it is accepted and the provider has the last word. Rejected:
# FIXED_LINE; VOIP (French 09 "box" numbers take no SMS); PAGER; PERSONAL_NUMBER (UK 070
# follow-me forwarding); UAN, VOICEMAIL, TOLL_FREE, PREMIUM_RATE, SHARED_COST (services). No
# "valid but UNKNOWN" exists: the library calls a number valid exactly when its type is known.
ACCEPTED_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
NOT_MOBILE: Final = "not a mobile number"
_PARSE_REASONS: Final = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "unparsable",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_DETAIL: Final = {ValidationResult.TOO_SHORT: " (too short)",
                         ValidationResult.TOO_LONG: " (too long)"}  # fmt: skip
# Separators the library ignores (all in its VALID_PUNCTUATION). A tab is not one: the library
# answers "not a number" to "06\t12...", so the fast path leaves tabs to it.
_SEPARATORS: Final = str.maketrans("", "", " .-()\u00a0")
_FAST_SHAPE: Final = re.compile(r"\+?[0-9]{3,20}")  # [0-9], not \d: other digits go slow
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN and _MAX_LENGTH_FOR_NSN
_CODES: Final = COUNTRY_CODE_TO_REGION_CODE  # calling code -> regions, the main one first
_CODE_OF: Final = {str(code): code for code in _CODES}
_NON_GEO: Final = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY  # "001": +800, +882...
_NO_STRIP: Final = frozenset({ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH,
                              ValidationResult.IS_POSSIBLE_LOCAL_ONLY})  # fmt: skip
# Checked in this order, before fixed line and mobile, as _number_type_helper does.
_SPECIAL: Final[tuple[tuple[str, int], ...]] = tuple(
    (name, getattr(PhoneNumberType, name.upper())) for name in ("premium_rate", "toll_free",
    "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail"))  # fmt: skip


class _Undecided(Exception):  # noqa: N818 - control flow, never leaves this module
    """The fast path cannot replay this input: phonenumbers answers."""


@dataclass(frozen=True, slots=True)
class _Desc:
    """One compiled PhoneNumberDesc; :meth:`matches` is the library's _is_number_matching_desc."""

    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _Desc:
        if desc is None or not desc.national_number_pattern:
            return cls(frozenset(), None)
        return cls(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))

    def matches(self, nsn: str) -> bool:
        if self.pattern is None or (self.lengths and len(nsn) not in self.lengths):
            return False
        return self.pattern.fullmatch(nsn) is not None


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(pattern)


class _Plan:
    """One region's metadata compiled once, with the library's steps as methods."""

    def __init__(self, country_code: int, md: PhoneMetadata, general: PhoneNumberDesc) -> None:
        self.country_code = country_code
        self.general = _Desc.of(general)
        self.lengths = tuple(general.possible_length)
        self.local_lengths = tuple(general.possible_length_local_only)
        self.special = tuple((kind, _Desc.of(getattr(md, name))) for name, kind in _SPECIAL)
        # Mobiles match none of the eight special types: one alternation per NSN length says so
        # in one regex call. It matches exactly when one of them does, the metadata's patterns
        # being regular (C++ libphonenumber runs them on RE2): no backreferences, no flags.
        self.special_any: dict[int, re.Pattern[str]] = {}
        for size in range(_MIN_NSN, _MAX_NSN + 1):
            alternatives = [f"(?:{d.pattern.pattern})" for _, d in self.special
                            if d.pattern and (not d.lengths or size in d.lengths)]  # fmt: skip
            if alternatives:
                self.special_any[size] = re.compile("|".join(alternatives))
        self.fixed, self.mobile = _Desc.of(md.fixed_line), _Desc.of(md.mobile)
        self.same_fixed_mobile = md.same_mobile_and_fixed_line_pattern
        self.leading_digits = _compile(md.leading_digits)
        self.idd = _compile(md.international_prefix)
        self.national_prefix = _compile(md.national_prefix_for_parsing or None)
        self.transform = bool(md.national_prefix_transform_rule)

    def viable(self, number: str) -> bool:
        """_match_national_number against the general pattern: no length check."""
        pattern = self.general.pattern
        return pattern is not None and pattern.fullmatch(number) is not None

    def length(self, number: str) -> int:
        """_test_number_length for an unspecified type (the general description's lengths)."""
        size, lengths = len(number), self.lengths
        if size in self.local_lengths:
            return ValidationResult.IS_POSSIBLE_LOCAL_ONLY
        if size != lengths[0]:
            if size < lengths[0]:
                return ValidationResult.TOO_SHORT
            if size > lengths[-1]:
                return ValidationResult.TOO_LONG
            if size not in lengths:
                return ValidationResult.INVALID_LENGTH
        return ValidationResult.IS_POSSIBLE

    def type_of(self, nsn: str) -> int:
        """_number_type_helper: the first description that matches decides."""
        if not self.general.matches(nsn):
            return PhoneNumberType.UNKNOWN
        any_special = self.special_any.get(len(nsn))
        if any_special is not None and any_special.fullmatch(nsn):
            for kind, desc in self.special:
                if desc.matches(nsn):
                    return kind
        if self.fixed.matches(nsn):
            if self.same_fixed_mobile or self.mobile.matches(nsn):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_fixed_mobile and self.mobile.matches(nsn):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN

    def strip_national_prefix(self, number: str) -> str:
        """_maybe_strip_national_prefix_carrier_code, short of transform rules."""
        prefix = self.national_prefix
        match = prefix.match(number) if prefix is not None and number else None
        if match is None:
            return number
        if self.transform:
            groups = match.groups()
            if not groups or groups[-1] is not None:
                raise _Undecided  # the library rewrites the number (or fails): let it
        rest = number[match.end() :]
        return number if self.viable(number) and not self.viable(rest) else rest


@cache
def _compiled(country_code: int, region: str) -> _Plan | None:
    """A region's metadata, compiled once; None where it is too odd to replay."""
    md = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if md is None or md.general_desc is None or not md.general_desc.possible_length:
        return None
    if region != _NON_GEO and phonenumbers.country_code_for_valid_region(region) != country_code:
        return None  # is_valid_number_for_region would say no; let it
    return _Plan(country_code, md, md.general_desc)


def _plan(country_code: int, region: str | None = None) -> _Plan:
    """The compiled plan of a region, by default of the calling code's main region."""
    plan = _compiled(country_code, region or _CODES[country_code][0])
    if plan is None:
        raise _Undecided
    return plan


def _number_type(country_code: int, nsn: str) -> int:
    """number_type, with the region found by region_code_for_number's rules; UNKNOWN: invalid."""
    regions = _CODES[country_code]
    if len(regions) == 1:
        return _plan(country_code, regions[0]).type_of(nsn)
    for region in regions:
        plan = _plan(country_code, region)
        if plan.leading_digits is not None:
            if plan.leading_digits.match(nsn):
                return plan.type_of(nsn)
        elif (kind := plan.type_of(nsn)) != PhoneNumberType.UNKNOWN:
            return kind
    return PhoneNumberType.UNKNOWN  # no region


def _invalid(country_code: int, length: int) -> NumberRejected:
    """The rejection of a parsed but invalid number: it names the calling code's main region."""
    region = phonenumbers.region_code_for_country_code(country_code)
    where = f"+{country_code}" if region in ("ZZ", _NON_GEO) else region
    return NumberRejected(f"not a valid number for {where}{_LENGTH_DETAIL.get(length, '')}")


class NumberNormaliser:
    """Normalise recipients against one default region (for numbers written nationally).

    ``fast=False`` answers from phonenumbers alone: the reference the tests and the benchmark
    compare the fast path with. Instances are cheap and safe to share between threads.
    """

    def __init__(self, default_region: str = "FR", *, fast: bool = True) -> None:
        region = default_region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            msg = f"unknown default region {default_region!r}: expected an ISO 3166 code like FR"
            raise ConfigurationError(msg)
        self.default_region = region
        self._home = _compiled(phonenumbers.country_code_for_region(region), region)
        self._fast_path = fast and self._home is not None

    def normalise(self, raw: str) -> str:
        """Return international digits without '+', or raise :class:`NumberRejected`."""
        if self._fast_path:
            try:
                return self._fast(raw)
            except _Undecided:
                pass
        return self._slow(raw)

    def _slow(self, raw: str) -> str:
        if not raw.strip():
            raise NumberRejected("empty")
        try:
            number = phonenumbers.parse(raw, self.default_region)
        except NumberParseException as exc:
            raise NumberRejected(_PARSE_REASONS.get(exc.error_type, "unparsable")) from None
        if number.extension:
            raise NumberRejected("has an extension")  # a desk behind a switchboard, not a handset
        if not phonenumbers.is_valid_number(number):
            length = phonenumbers.is_possible_number_with_reason(number)
            raise _invalid(number.country_code or 0, length)
        if phonenumbers.number_type(number) not in ACCEPTED_TYPES:
            raise NumberRejected(NOT_MOBILE)
        return f"{number.country_code}{phonenumbers.national_significant_number(number)}"

    def _fast(self, raw: str) -> str:
        """The slow path's answer, replaying the phonenumbers steps named beside each line."""
        home, digits = self._home, raw.translate(_SEPARATORS)
        if home is None or len(raw) > 40 or _FAST_SHAPE.fullmatch(digits) is None:
            raise _Undecided
        international = digits[0] == "+"
        if international:
            digits = digits[1:]
        elif home.idd is not None and (idd := home.idd.match(digits)):
            # _parse_prefix_as_idd: no calling code starts with 0, so "000..." stays national.
            international = digits[idd.end() : idd.end() + 1] != "0"
            digits = digits[idd.end() :] if international else digits
        if international:  # _maybe_extract_country_code, then _extract_country_code
            if len(digits) <= _MIN_NSN or digits[0] == "0":
                raise _Undecided
            code = _CODE_OF.get(digits[:1]) or _CODE_OF.get(digits[:2]) or _CODE_OF.get(digits[:3])
            if code is None:
                raise _Undecided
            nsn, prefix_plan = digits[len(str(code)) :], _plan(code)
        else:  # the home calling code without "+" or "00" ("33612345678") still counts
            code, nsn, prefix_plan = home.country_code, digits, home
            if digits.startswith(own := str(code)):
                candidate = home.strip_national_prefix(digits[len(own) :])
                too_long = home.length(digits) == ValidationResult.TOO_LONG
                if too_long or (not home.viable(digits) and home.viable(candidate)):
                    nsn, prefix_plan = candidate, _plan(code)
        if len(nsn) < _MIN_NSN:
            raise _Undecided
        stripped = prefix_plan.strip_national_prefix(nsn)  # parse(): kept if long enough
        if prefix_plan.length(stripped) not in _NO_STRIP:
            nsn = stripped
        if len(nsn) > _MAX_NSN:
            raise _Undecided
        kind = _number_type(code, nsn)
        if kind in ACCEPTED_TYPES:
            return f"{code}{nsn}"
        if kind != PhoneNumberType.UNKNOWN:
            raise NumberRejected(NOT_MOBILE)
        raise _invalid(code, _plan(code).length(nsn))  # is_possible_number_with_reason
