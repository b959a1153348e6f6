"""Whether a phone-number pattern's answer is already fixed by a number's first digits.

``phonenumbers`` describes numbering plans with regular expressions over digits, such as
France's mobiles ``(?:6(?:[0-24-8]\\d|3[0-8]|9[589])|7[3-9]\\d)\\d{6}``: once "612" is read,
every 9-digit number starting with it is a mobile, whatever its last six digits. This module
answers that question exactly, for any such pattern: given the digits known so far and how
many unknown digits follow, do *all* completions match, *none*, or some? The pattern is read
with ``re``'s own parser and run as a set of positions (a Thompson automaton over the ten
digits), so the answer is a proof, not a sample. Patterns with anything beyond literals,
digit classes, groups, alternation and repetition (anchors, flags) are refused: ``None``.

``domain.numbers`` uses it to decide a number from a cached answer for its first digits.
"""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]  # sre_constants, renamed in 3.11
import re._parser as sre_parse  # type: ignore[import-not-found]  # sre_parse, renamed in 3.11
from enum import Enum
from functools import cache
from typing import Any

_ALL_DIGITS = (1 << 10) - 1


class Verdict(Enum):
    ALL = "all"  # every completion
    NONE = "none"  # no completion
    SOME = "some"  # depends on the digits still unknown


class _Unsupported(Exception):  # noqa: N818 - control flow, never leaves this module
    pass


class DigitAutomaton:
    """One pattern as states with digit-set transitions and empty moves; language only (the
    answers of ``fullmatch`` and of whether ``match`` finds anything)."""

    def __init__(self, pattern: str) -> None:
        self._moves: list[list[tuple[int, int]]] = []  # state -> [(digit mask, next state)]
        self._empty: list[list[int]] = []  # state -> states reached without a digit
        self._start = self._state()
        self._accept = self._build(sre_parse.parse(pattern), self._start)
        self._closures: dict[int, frozenset[int]] = {}
        self._steps: dict[tuple[frozenset[int], int], frozenset[int]] = {}
        self._full: dict[tuple[frozenset[int], int], Verdict] = {}
        self._prefix: dict[tuple[frozenset[int], int], Verdict] = {}

    def fullmatch(self, known: str, unknown: int) -> Verdict:
        """Whether ``pattern.fullmatch(known + d)`` holds for the ``unknown`` digits ``d``."""
        states = self._after(known)
        return self._full_verdict(states, unknown) if states is not None else Verdict.NONE

    def prefix_match(self, known: str, unknown: int) -> Verdict:
        """Whether ``pattern.match(known + d)`` finds a match, for the ``unknown`` digits ``d``."""
        states = self._start_states()
        for char in known:
            if self._accept in states:
                return Verdict.ALL
            if not "0" <= char <= "9":
                return Verdict.NONE
            states = self._step(states, ord(char) - 48)
        return self._prefix_verdict(states, unknown)

    # Building (Thompson's construction over sre_parse's tree)

    def _state(self) -> int:
        self._moves.append([])
        self._empty.append([])
        return len(self._moves) - 1

    def _build(self, items: Any, start: int) -> int:
        end = start
        for op, arg in items:
            end = self._build_one(op, arg, end)
        return end

    def _build_one(self, op: Any, arg: Any, start: int) -> int:
        if op is sre.LITERAL or op is sre.IN:
            end = self._state()
            mask = (1 << (arg - 48)) if op is sre.LITERAL and 48 <= arg <= 57 else 0
            if op is sre.IN:
                mask = _class_mask(arg)
            if mask:
                self._moves[start].append((mask, end))
            return end
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = arg
            if add_flags or del_flags:
                raise _Unsupported
            return self._build(body, start)
        if op is sre.BRANCH:
            end = self._state()
            for alternative in arg[1]:
                branch = self._state()
                self._empty[start].append(branch)
                self._empty[self._build(alternative, branch)].append(end)
            return end
        if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:  # greedy or not: the same language
            low, high, body = arg
            end = start
            for _ in range(low):
                end = self._build(body, end)
            if high is sre.MAXREPEAT:
                loop = self._state()
                self._empty[end].append(loop)
                self._empty[self._build(body, loop)].append(loop)
                return loop
            finish = self._state()
            self._empty[end].append(finish)
            for _ in range(high - low):
                end = self._build(body, end)
                self._empty[end].append(finish)
            return finish
        raise _Unsupported  # anchors, lookarounds, backreferences...

    # Running

    def _closure(self, state: int) -> frozenset[int]:
        found = self._closures.get(state)
        if found is None:
            seen, todo = {state}, [state]
            while todo:
                for nxt in self._empty[todo.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            found = self._closures[state] = frozenset(seen)
        return found

    def _start_states(self) -> frozenset[int]:
        return self._closure(self._start)

    def _step(self, states: frozenset[int], digit: int) -> frozenset[int]:
        key = (states, digit)
        found = self._steps.get(key)
        if found is None:
            bit, reached = 1 << digit, set[int]()
            for state in states:
                for mask, nxt in self._moves[state]:
                    if mask & bit:
                        reached |= self._closure(nxt)
            found = self._steps[key] = frozenset(reached)
        return found

    def _after(self, known: str) -> frozenset[int] | None:
        states = self._start_states()
        for char in known:
            if not "0" <= char <= "9":
                return None
            states = self._step(states, ord(char) - 48)
        return states

    def _full_verdict(self, states: frozenset[int], unknown: int) -> Verdict:
        if not states:
            return Verdict.NONE
        if unknown == 0:
            return Verdict.ALL if self._accept in states else Verdict.NONE
        key = (states, unknown)
        found = self._full.get(key)
        if found is None:
            found = self._full[key] = _combine(
                self._full_verdict(self._step(states, d), unknown - 1) for d in range(10)
            )
        return found

    def _prefix_verdict(self, states: frozenset[int], unknown: int) -> Verdict:
        if self._accept in states:
            return Verdict.ALL
        if not states or unknown == 0:
            return Verdict.NONE
        key = (states, unknown)
        found = self._prefix.get(key)
        if found is None:
            found = self._prefix[key] = _combine(
                self._prefix_verdict(self._step(states, d), unknown - 1) for d in range(10)
            )
        return found


def _class_mask(items: Any) -> int:
    mask, negate = 0, False
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            mask |= (1 << (arg - 48)) if 48 <= arg <= 57 else 0
        elif op is sre.RANGE:
            low, high = max(arg[0], 48), min(arg[1], 57)
            for code in range(low, high + 1):
                mask |= 1 << (code - 48)
        elif op is sre.CATEGORY and arg is sre.CATEGORY_DIGIT:
            mask |= _ALL_DIGITS  # \d also takes other scripts' digits: never in a known prefix
        else:
            raise _Unsupported
    return (~mask & _ALL_DIGITS) if negate else mask


def _combine(verdicts: Any) -> Verdict:
    first: Verdict | None = None
    for verdict in verdicts:
        if verdict is Verdict.SOME or (first is not None and verdict is not first):
            return Verdict.SOME
        first = verdict
    return first or Verdict.NONE


@cache
def automaton(pattern: str) -> DigitAutomaton | None:
    """The pattern's automaton, or None where it uses more than this module reads."""
    try:
        return DigitAutomaton(pattern)
    except (_Unsupported, re.error, RecursionError):
        return None
