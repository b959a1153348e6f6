"""Recipients' phone numbers to the international digits providers want ("33612345678").

One mobile arrives as "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678" or "33612345678".
``phonenumbers`` decides which numbers are valid mobiles, but its ``parse`` + ``is_valid_number``
+ ``number_type`` cost about 20 µs a number, minutes for a big campaign. So, two paths:

- the *slow path*, that library sequence on the raw string, is the reference;
- the *fast path* takes ASCII digits with an optional leading "+" and the separators `` .-()``
  (and no-break space), and replays the library's own steps with regular expressions compiled
  once per region from the same metadata. Where a step could go a way it does not replay (a
  national-prefix transform rule, an unknown calling code), the slow path answers instead.
  ``tests/unit/test_numbers.py`` checks with generated inputs that both give the same answer;
- the *prefix cache* in front of it, for numbers written as bare digits ("33612345678",
  "+447700900123", what CRMs export): the fast path's steps replayed on a number's first
  digits alone, with ``domain.digit_patterns`` proving that every pattern those steps run
  gives the same answer for any digits that follow. The answer is then kept for that prefix
  and length ("+33612", 12 characters: a mobile, "33" + what follows the "+33"), so a
  million numbers cost a dict lookup each instead of a dozen regex calls. A prefix the
  proof cannot settle in ``_MAX_PREFIX`` characters is left to the fast path.
  ``tests/unit/test_numbers_fast_prefix.py`` checks it against the slow path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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

from dispatcher.domain.digit_patterns import Verdict, automaton
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


_MAX_PREFIX: Final = 12  # characters of a number the prefix cache may key on
_MAX_PREFIXES: Final = 100_000  # answers kept per default region (~15 MB); then the fast path


class _Undecided(Exception):  # noqa: N818 - control flow, never leaves this module
    """The fast path cannot replay this input: phonenumbers answers."""


class _Unsettled(Exception):  # noqa: N818 - control flow, never leaves this module
    """The digits known so far do not settle a step: a longer prefix may."""


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
        return self.length_of(len(number))

    def length_of(self, size: int) -> int:
        """:meth:`length` of any number of ``size`` digits: only the count matters."""
        lengths = self.lengths
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


# A prefix's answer: (True, calling code, start) is the number ``code + raw[start:]``;
# (False, reason, 0) its rejection; _LEFT: the fast path answers numbers with this prefix.
_Answer = tuple[bool, str, int]
_LEFT: Final[_Answer] = (False, "", -1)


@dataclass
class _PrefixTable:
    """The prefix cache of one default region: by a number's length, its prefix's answer."""

    by_length: dict[int, dict[str, _Answer]] = field(default_factory=dict)
    sizes: tuple[int, ...] = ()  # prefix lengths in use, shortest first
    entries: int = 0


@cache
def _prefix_table(region: str) -> _PrefixTable:
    return _PrefixTable()


def _settled(pattern: re.Pattern[str] | None, known: str, unknown: int, *, prefix: bool) -> bool:
    """``pattern.fullmatch`` (or, with ``prefix``, whether ``pattern.match`` finds anything) on
    ``known`` followed by ``unknown`` digits, when the digits cannot change it."""
    if pattern is None:
        return False
    machine = automaton(pattern.pattern)
    if machine is None:
        raise _Undecided
    verdict = (machine.prefix_match if prefix else machine.fullmatch)(known, unknown)
    if verdict is Verdict.SOME:
        raise _Unsettled
    return verdict is Verdict.ALL


class _KnownPrefix:
    """The fast path's steps on a number of which only the first characters are known: each
    answers as ``_fast`` would for every number with them, or raises _Unsettled (more digits
    may settle it) or _Undecided (the fast path must answer these numbers itself)."""

    def __init__(self, home: _Plan, known: str, length: int) -> None:
        self.home, self.known, self.length = home, known, length
        self.unknown = length - len(known)

    def answer(self) -> _Answer:
        known, home = self.known, self.home
        if known[:1] == "+":
            code, start = self._calling_code(known[1:])
            plan = _plan(code)
        else:
            if self._matches(home.idd, 0, prefix=True):
                raise _Undecided  # an international prefix ("00..."): left to the fast path
            code, own = home.country_code, str(home.country_code)
            if len(known) < len(own) and own.startswith(known):
                raise _Unsettled
            start, plan = 0, home
            if known.startswith(own):
                candidate = self._stripped(home, len(own))
                too_long = home.length_of(self.length) == ValidationResult.TOO_LONG
                if too_long or (
                    not self._matches(home.general.pattern, 0)
                    and self._matches(home.general.pattern, candidate)
                ):
                    start, plan = candidate, _plan(code)
        if self.length - start < _MIN_NSN:
            raise _Undecided
        stripped = self._stripped(plan, start)
        if plan.length_of(self.length - stripped) not in _NO_STRIP:
            start = stripped
        if self.length - start > _MAX_NSN:
            raise _Undecided
        kind = self._number_type(code, start)
        if kind in ACCEPTED_TYPES:
            return (True, str(code), start)
        if kind != PhoneNumberType.UNKNOWN:
            return (False, NOT_MOBILE, 0)
        return (False, _invalid(code, _plan(code).length_of(self.length - start)).reason, 0)

    def _calling_code(self, digits: str) -> tuple[int, int]:
        """_extract_country_code after a "+": the code and where the national number starts."""
        if not digits:
            raise _Unsettled
        if digits[0] == "0":
            raise _Undecided
        for size in (1, 2, 3):
            if len(digits) < size:
                raise _Unsettled
            if (code := _CODE_OF.get(digits[:size])) is not None:
                return code, 1 + size
        raise _Undecided

    def _matches(
        self, pattern: re.Pattern[str] | None, start: int, *, prefix: bool = False
    ) -> bool:
        return _settled(pattern, self.known[start:], self.unknown, prefix=prefix)

    def _stripped(self, plan: _Plan, start: int) -> int:
        """Where the number starting at ``start`` starts after strip_national_prefix. Replayed
        for a national prefix of plain digits ("0") and for one that cannot match at all."""
        prefix = plan.national_prefix
        if prefix is None or self.length == start:
            return start
        literal = prefix.pattern
        if not (literal.isdigit() and literal.isascii()):
            if self._matches(prefix, start, prefix=True):
                raise _Undecided  # its match's end and groups decide: the fast path
            return start
        known = self.known[start : start + len(literal)]
        if self.length - start < len(literal) or not literal.startswith(known):
            return start  # the prefix cannot match
        if len(known) < len(literal):
            raise _Unsettled
        if plan.transform:
            raise _Undecided  # a transform rule with no group: the library rewrites
        rest = start + len(literal)
        if self._matches(plan.general.pattern, start) and not self._matches(
            plan.general.pattern, rest
        ):
            return start
        return rest

    def _desc_matches(self, desc: _Desc, start: int) -> bool:
        if desc.pattern is None or (desc.lengths and self.length - start not in desc.lengths):
            return False
        return self._matches(desc.pattern, start)

    def _type_of(self, plan: _Plan, start: int) -> int:
        """_Plan.type_of, step for step."""
        if not self._desc_matches(plan.general, start):
            return PhoneNumberType.UNKNOWN
        any_special = plan.special_any.get(self.length - start)
        if any_special is not None and self._matches(any_special, start):
            for kind, desc in plan.special:
                if self._desc_matches(desc, start):
                    return kind
        if self._desc_matches(plan.fixed, start):
            if plan.same_fixed_mobile or self._desc_matches(plan.mobile, start):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not plan.same_fixed_mobile and self._desc_matches(plan.mobile, start):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN

    def _number_type(self, code: int, start: int) -> int:
        """_number_type, step for step."""
        regions = _CODES[code]
        if len(regions) == 1:
            return self._type_of(_plan(code, regions[0]), start)
        for region in regions:
            plan = _plan(code, region)
            if plan.leading_digits is not None:
                if self._matches(plan.leading_digits, start, prefix=True):
                    return self._type_of(plan, start)
            elif (kind := self._type_of(plan, start)) != PhoneNumberType.UNKNOWN:
                return kind
        return PhoneNumberType.UNKNOWN


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
        self._prefixes = _prefix_table(region)

    def normalise(self, raw: str) -> str:
        """Return international digits without '+', or raise :class:`NumberRejected`."""
        if self._fast_path:
            try:
                return self._cached(raw)
            except _Undecided:
                pass
            try:
                return self._fast(raw)
            except _Undecided:
                pass
        return self._slow(raw)

    def _cached(self, raw: str) -> str:
        """The prefix cache's answer for bare digits (an optional "+" first), else _Undecided."""
        digits = raw[1:] if raw[:1] == "+" else raw
        if not (3 <= len(digits) <= 20 and digits.isdigit() and digits.isascii()):
            # _fast reads a number without its separators: "06 12 34 56 78" as "0612345678"
            cleaned = raw.translate(_SEPARATORS) if len(raw) <= 40 else raw
            if cleaned == raw:
                raise _Undecided  # the fast path's shape; other characters go there
            return self._cached(cleaned)
        table = self._prefixes
        answers = table.by_length.get(len(raw))
        answer = None  # not learnt yet
        if answers is not None:
            for size in table.sizes:
                if (answer := answers.get(raw[:size])) is not None:
                    break
        if answer is None:
            answer = self._learn(raw)
        if answer is _LEFT:
            raise _Undecided
        accepted, text, start = answer
        if accepted:
            return text + raw[start:]
        raise NumberRejected(text)

    def _learn(self, raw: str) -> _Answer:
        """The answer for ``raw``'s shortest settling prefix, kept in the table for the next."""
        table, home = self._prefixes, self._home
        if table.entries >= _MAX_PREFIXES or home is None:
            return _LEFT
        answer, size = _LEFT, 0
        while size < min(len(raw), _MAX_PREFIX):
            size += 1
            try:
                answer = _KnownPrefix(home, raw[:size], len(raw)).answer()
            except _Unsettled:
                continue
            except _Undecided:
                answer = _LEFT
            break
        if answer is not _LEFT and not self._agrees(raw, answer):
            answer = _LEFT  # never expected; the fast path is the reference for this cache
        table.by_length.setdefault(len(raw), {})[raw[:size]] = answer
        table.entries += 1
        if size not in table.sizes:
            table.sizes = tuple(sorted((*table.sizes, size)))
        return answer

    def _agrees(self, raw: str, answer: _Answer) -> bool:
        accepted, text, start = answer
        try:
            found = self._fast(raw)
        except NumberRejected as exc:
            return not accepted and exc.reason == text
        except _Undecided:
            return False
        return accepted and found == text + raw[start:]

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
