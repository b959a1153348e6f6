"""Deterministic delivery-report timeline shared by every provider emulator.

A recipient's state is a pure function of (number, send time, now): nothing is stored per
recipient and no timer runs per recipient, so a million accepted recipients cost only their
numbers. States are provider-neutral; each emulator maps them to its own status codes
(sMsmode: 0, 13, 11, 35, ...), so the same rules drive every provider the sandbox speaks.

Timeline of one recipient, from its send time (acceptance, or the scheduled time):

- before the send time: SCHEDULED;
- at once: SENT;
- after ``gateway_delay``: GATEWAY (handed to the operator), or INVALID_RECIPIENT at once for a
  number that is neither a French mobile nor a plausible international number;
- after ``final_delay`` + a per-number offset in ``[0, spread)``: the final state chosen by the
  rules (longest matching suffix of the number), RECEIVED when no rule matches. A rule whose
  final state is ``None`` keeps the recipient at GATEWAY forever.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from enum import IntEnum


class State(IntEnum):
    """Provider-neutral state of one recipient."""

    SCHEDULED = 0
    SENT = 1
    GATEWAY = 2
    RECEIVED = 3
    DELIVERY_ERROR = 4
    ROUTING_ERROR = 5
    INVALID_RECIPIENT = 6
    EXPIRED = 7
    BLACKLISTED = 8
    REJECTED = 9

    @property
    def is_final(self) -> bool:
        """Final states never change again."""
        return self >= State.RECEIVED


#: Names accepted for a rule's final state in the JSON config.
FINAL_STATE_NAMES: dict[str, State] = {s.name.lower(): s for s in State if s.is_final}


@dataclass(frozen=True)
class OutcomeRule:
    """Numbers ending with ``suffix`` end in ``final`` (``None``: never leave GATEWAY)."""

    suffix: str
    final: State | None


DEFAULT_RULES: tuple[OutcomeRule, ...] = (
    OutcomeRule("99", State.DELIVERY_ERROR),
    OutcomeRule("98", State.ROUTING_ERROR),
    OutcomeRule("97", State.INVALID_RECIPIENT),
    OutcomeRule("96", State.EXPIRED),
    OutcomeRule("95", None),
)


@dataclass(frozen=True)
class TimelineConfig:
    """Delays in seconds; see the module docstring."""

    gateway_delay: float = 2.0
    final_delay: float = 5.0
    spread: float = 3.0
    rules: tuple[OutcomeRule, ...] = field(default=DEFAULT_RULES)

    def __post_init__(self) -> None:
        if self.gateway_delay < 0 or self.spread < 0 or self.final_delay < self.gateway_delay:
            raise ValueError("timeline needs 0 <= gateway_delay <= final_delay and spread >= 0")


FAST_TIMELINE = TimelineConfig(gateway_delay=0.2, final_delay=0.6, spread=0.2)

# A French mobile (336/337 + 8 digits) or, outside France, 8 to 15 digits (E.164 maximum)
# not starting with 0. Anything else (landlines, "+33...", letters) is undeliverable.
_PLAUSIBLE = re.compile(r"33[67]\d{8}|(?!33)[1-9]\d{7,14}")

# Resolution of the per-number offset inside the spread window.
_SPREAD_STEPS = 1000


def is_plausible_msisdn(number: str) -> bool:
    """True for an international msisdn the sandbox will pretend to deliver."""
    return _PLAUSIBLE.fullmatch(number) is not None


def number_hash(number: str) -> int:
    """Stable across processes (unlike ``hash``), so reports replay identically."""
    return zlib.crc32(number.encode("utf-8", "surrogatepass"))


class Timeline:
    """Computes states and state-change events from a :class:`TimelineConfig`."""

    def __init__(self, config: TimelineConfig) -> None:
        self.config = config
        by_length: dict[int, dict[str, State | None]] = {}
        for rule in config.rules:
            by_length.setdefault(len(rule.suffix), {})[rule.suffix] = rule.final
        # Longest suffix first: the most specific rule wins.
        self._rules = sorted(by_length.items(), reverse=True)

    def final_state(self, number: str) -> State | None:
        """The state a recipient ends in; ``None`` when it stays at GATEWAY."""
        return self._plan(number)[1]

    def _plan(self, number: str) -> tuple[bool, State | None]:
        """(rejected at the gateway, final state) for one number."""
        if not is_plausible_msisdn(number):
            return True, State.INVALID_RECIPIENT
        for length, table in self._rules:
            suffix = number[-length:]
            if len(number) >= length and suffix in table:
                return False, table[suffix]
        return False, State.RECEIVED

    def offset(self, number: str) -> float:
        """Per-number delay added to ``final_delay``, in ``[0, spread)``."""
        return self.config.spread * (number_hash(number) % _SPREAD_STEPS) / _SPREAD_STEPS

    def state_at(self, number: str, base: float, now: float) -> State:
        """State of one recipient sent at ``base``."""
        return self.states_at([number], base, now)[0]

    def states_at(self, numbers: list[str], base: float, now: float) -> list[State]:
        """States of all recipients of one submission, O(len(numbers)), no per-recipient data."""
        cfg = self.config
        if now < base:
            return [State.SCHEDULED] * len(numbers)
        if now < base + cfg.gateway_delay:
            return [State.SENT] * len(numbers)
        after_final = now - base - cfg.final_delay
        window_over = after_final >= cfg.spread
        states: list[State] = []
        append = states.append
        plan = self._plan
        for number in numbers:
            rejected, final = plan(number)
            if final is None:
                append(State.GATEWAY)
            elif rejected or window_over or after_final >= self.offset(number):
                append(final)
            else:
                append(State.GATEWAY)
        return states

    def events(self, number: str, base: float) -> list[tuple[float, State]]:
        """State changes after SENT, as (time, state), in time order; used for callbacks."""
        cfg = self.config
        gateway_at = base + cfg.gateway_delay
        rejected, final = self._plan(number)
        if rejected and final is not None:
            return [(gateway_at, final)]
        if final is None:
            return [(gateway_at, State.GATEWAY)]
        return [
            (gateway_at, State.GATEWAY),
            (base + cfg.final_delay + self.offset(number), final),
        ]
